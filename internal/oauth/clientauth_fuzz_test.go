package oauth

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// FuzzClientCredentials: client_secret_basic round-trips (any ID and
// secret, form-urlencoded into Basic as RFC 6749 §2.3.1 says, come back
// exactly), and for any raw Authorization header and form client_id the
// credentials read are either refused or agree with a reference reading:
// Basic parts that form-urldecode, a form client_id that is absent or
// equal, a non-empty ID.
func FuzzClientCredentials(f *testing.F) {
	f.Add("test-conf", "s3cret+/=:%", "Basic dGVzdC1jb25mOnNlY3JldA==", "")
	f.Add("a:b", "", "Basic YTpi", "a")
	f.Add("https://app.example/cimd.json", "x y", "Basic %%%", "other")
	f.Add("é", "\x00", "bearer abc", "")
	f.Fuzz(func(t *testing.T, id, secret, rawAuth, formID string) {
		r := &http.Request{Header: http.Header{}, PostForm: url.Values{}}
		r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		gotID, gotSecret, basic, e := clientCredentials(r)
		if id != "" && (e != nil || !basic || gotID != id || gotSecret != secret) {
			t.Fatalf("Basic round trip of (%q, %q): (%q, %q, %v), %v", id, secret, gotID, gotSecret, basic, e)
		}

		r = &http.Request{Header: http.Header{"Authorization": {rawAuth}}, PostForm: url.Values{}}
		if formID != "" {
			r.PostForm.Set("client_id", formID)
		}
		gotID, gotSecret, basic, e = clientCredentials(r)
		if e != nil {
			return
		}
		if gotID == "" {
			t.Fatal("accepted an empty client ID")
		}
		if !basic {
			if gotID != formID || gotSecret != "" {
				t.Fatalf("form credentials read as (%q, %q)", gotID, gotSecret)
			}
			return
		}
		scheme, b64, _ := strings.Cut(rawAuth, " ")
		dec, err := base64.StdEncoding.DecodeString(b64)
		user, pass, ok := strings.Cut(string(dec), ":")
		if !strings.EqualFold(scheme, "basic") || err != nil || !ok {
			t.Fatalf("Basic accepted from %q", rawAuth)
		}
		wantID, err1 := url.QueryUnescape(user)
		wantSecret, err2 := url.QueryUnescape(pass)
		if err1 != nil || err2 != nil || gotID != wantID || gotSecret != wantSecret {
			t.Fatalf("%q read as (%q, %q), reference (%q, %q)", rawAuth, gotID, gotSecret, wantID, wantSecret)
		}
		if formID != "" && formID != gotID {
			t.Fatalf("Basic %q accepted beside form client_id %q", gotID, formID)
		}
	})
}
