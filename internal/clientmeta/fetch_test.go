package clientmeta

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFetchTrustedHost(t *testing.T) {
	var host, sni string
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		host, sni = r.Host, r.TLS.ServerName
		serveDoc(nil)(w, r)
	})
	id := e.url(trustedName, "/client.json")
	m, exp, err := e.f.Fetch(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if m.ClientID != id || m.ClientName != "Test Client" || m.TokenEndpointAuthMethod != AuthNone {
		t.Errorf("document = %+v", m)
	}
	if want := e.clock.Now().Add(DefaultTTL); !exp.Equal(want) {
		t.Errorf("expiry = %v, want %v", exp, want)
	}
	// Dialled by IP, yet the name is what TLS and HTTP see.
	if sni != trustedName || host != trustedName+":"+e.port {
		t.Errorf("SNI %q, Host %q: want the name, not the pinned address", sni, host)
	}
}

func TestFetchTrustedIPLiteral(t *testing.T) {
	e := newEnv(t, serveDoc(nil))
	e.f.TrustHost = "127.0.0.1:" + e.port
	if _, _, err := e.f.Fetch(context.Background(), e.url("127.0.0.1", "/client.json")); err != nil {
		t.Fatal(err)
	}
	if e.res.count() != 0 {
		t.Errorf("an IP literal was looked up in DNS")
	}
}

func TestFetchSizeLimit(t *testing.T) {
	body := `{"client_id":"https://app.example.com:PORT/c","client_name":"x","redirect_uris":["http://127.0.0.1/cb"]}`
	for _, chunked := range []bool{false, true} {
		e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			doc := strings.Replace(body, "app.example.com:PORT", r.Host, 1)
			if chunked { // no Content-Length: only the read limit can stop it
				w.(http.Flusher).Flush()
			}
			_, _ = w.Write([]byte(doc))
		})
		size := int64(len(strings.Replace(body, "PORT", e.port, 1)))
		e.f.MaxBytes = size
		if _, _, err := e.f.Fetch(context.Background(), e.url(trustedName, "/c")); err != nil {
			t.Fatalf("chunked=%v: a document of exactly MaxBytes: %v", chunked, err)
		}
		e.f.MaxBytes = size - 1
		e.clock.Advance(MaxTTL) // past the cache
		if _, _, err := e.f.Fetch(context.Background(), e.url(trustedName, "/c")); !errors.Is(err, ErrFetch) {
			t.Fatalf("chunked=%v: a document one byte over: err = %v", chunked, err)
		}
	}
}

func TestFetchDefaultSizeLimit(t *testing.T) {
	e := newEnv(t, serveDoc(func(m *Metadata) { m.Scope = strings.Repeat("s ", 2600) + "s" }))
	if _, _, err := e.f.Fetch(context.Background(), e.url(trustedName, "/c")); !errors.Is(err, ErrFetch) {
		t.Fatalf("a 5+ KiB document: err = %v", err)
	}
}

func TestFetchTimesOut(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	e.f.Timeout = 200 * time.Millisecond
	start := time.Now()
	_, _, err := e.f.Fetch(context.Background(), e.url(trustedName, "/c"))
	if !errors.Is(err, ErrFetch) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline", err)
	}
	// A bound, not a wait: the default 5s limit must not be what stopped it.
	if d := time.Since(start); d > DefaultTimeout/2 {
		t.Fatalf("took %v; Timeout was not applied", d)
	}
}

func TestFetchContentType(t *testing.T) {
	for ct, ok := range map[string]bool{
		"application/json":                true,
		"application/json; charset=utf-8": true,
		"text/html":                       false,
		"text/plain":                      false,
		"application/jsonp":               false,
		"":                                false,
	} {
		e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
			serveDoc(nil)(&typedWriter{w, ct}, r)
		})
		_, _, err := e.f.Fetch(context.Background(), e.url(trustedName, "/c"))
		if (err == nil) != ok {
			t.Errorf("Content-Type %q: err = %v, want ok=%v", ct, err, ok)
		}
	}
}

// typedWriter overrides the Content-Type a handler sets.
type typedWriter struct {
	http.ResponseWriter
	ct string
}

func (w *typedWriter) WriteHeader(code int) {
	w.Header().Set("Content-Type", w.ct)
	if w.ct == "" {
		w.Header()["Content-Type"] = []string{""}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *typedWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

func TestFetchRefusesNon200(t *testing.T) {
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		serveDoc(nil)(&statusWriter{w, http.StatusNonAuthoritativeInfo}, r)
	})
	if _, _, err := e.f.Fetch(context.Background(), e.url(trustedName, "/c")); !errors.Is(err, ErrFetch) {
		t.Fatalf("status 203: err = %v", err)
	}
}

// statusWriter sends a valid document under another status code.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.ResponseWriter.WriteHeader(w.code)
	return w.ResponseWriter.Write(b)
}

func TestFetchValidatesTheDocument(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"client_id differs":   serveDoc(func(m *Metadata) { m.ClientID = "https://other.example.com/c" }),
		"client_secret":       serveDoc(func(m *Metadata) { m.ClientSecret = "s" }),
		"empty client_secret": jsonHandler(`{"client_id":"https://HOST/c","client_name":"x","redirect_uris":["http://127.0.0.1/cb"],"client_secret":""}`),
		"not an object":       jsonHandler(`["https://HOST/c"]`),
		"trailing data":       jsonHandler(`{"client_id":"https://HOST/c","client_name":"x","redirect_uris":["http://127.0.0.1/cb"]} {}`),
	} {
		e := newEnv(t, h)
		_, _, err := e.f.Fetch(context.Background(), e.url(trustedName, "/c"))
		wantCode(t, err, CodeInvalidClientMetadata)
		if errors.Is(err, ErrFetch) {
			t.Errorf("%s: a fetched but invalid document is not a fetch failure", name)
		}
	}
}

func jsonHandler(doc string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(strings.ReplaceAll(doc, "HOST", r.Host)))
	}
}

func TestFetchAllowedDomains(t *testing.T) {
	e := newEnv(t, serveDoc(nil))
	e.f.AllowedDomains = []string{"APP.example.com"}
	if _, _, err := e.f.Fetch(context.Background(), e.url(trustedName, "/c")); err != nil {
		t.Fatalf("allowed host: %v", err)
	}
	for _, host := range []string{"other.example.com", "sub.app.example.com", "example.com"} {
		_, _, err := e.f.Fetch(context.Background(), e.url(host, "/c"))
		wantCode(t, err, CodeInvalidClientMetadata)
	}
	if n := e.res.count(); n != 1 {
		t.Fatalf("%d lookups: a host off the allow-list was resolved", n)
	}
}

func TestFetchRefusesBadURLsWithoutNetwork(t *testing.T) {
	e := newEnv(t, serveDoc(nil))
	for _, id := range []string{"http://" + trustedName + "/c", e.url(trustedName, ""), e.url(trustedName, "/c#f"), "cursor-client"} {
		_, _, err := e.f.Fetch(context.Background(), id)
		wantCode(t, err, CodeInvalidClientMetadata)
	}
	if e.res.count() != 0 || e.hits.Load() != 0 {
		t.Fatal("a refused client_id reached the network")
	}
}

func TestFetchUsesItsPolicy(t *testing.T) {
	e := newEnv(t, serveDoc(func(m *Metadata) { m.RedirectURIs = []string{"myapp:/cb"} }))
	_, _, err := e.f.Fetch(context.Background(), e.url(trustedName, "/c"))
	wantCode(t, err, CodeInvalidRedirectURI) // nil Policy: DefaultPolicy has no myapp
	e.f.Policy = &Policy{PrivateUseSchemes: []string{"myapp"}}
	if _, _, err := e.f.Fetch(context.Background(), e.url(trustedName, "/d")); err != nil {
		t.Fatalf("with myapp allowed: %v", err)
	}
}
