package login

import (
	"encoding/json"
	"net/url"
	"slices"
	"testing"
)

// FuzzOIDCClaims: the claim mapping of an ID token or userinfo answer (the
// provider's JSON). Oracle: every group is a non-empty string found in
// the configured claim (as the string itself or an array member), and
// email_verified is true only for true or "true".
func FuzzOIDCClaims(f *testing.F) {
	f.Add([]byte(`{"sub":"u","groups":["a","b"],"email_verified":true}`))
	f.Add([]byte(`{"sub":"u","groups":"a","email_verified":"true"}`))
	f.Add([]byte(`{"sub":"u","groups":[1,null,"",{"x":1}],"email_verified":"yes"}`))
	f.Add([]byte(`{"groups":{"a":"b"}}`))
	o := &OIDC{groupsClaim: "groups"}
	f.Fuzz(func(t *testing.T, data []byte) {
		var claims map[string]any
		if json.Unmarshal(data, &claims) != nil {
			return
		}
		id := o.identity("sub", claims)
		for _, g := range id.Groups {
			if g == "" {
				t.Fatalf("empty group from %s", data)
			}
			switch v := claims["groups"].(type) {
			case string:
				if v != g {
					t.Fatalf("group %q not the claim %q", g, v)
				}
			case []any:
				if !slices.Contains(v, any(g)) {
					t.Fatalf("group %q not in the claim %v", g, v)
				}
			default:
				t.Fatalf("group %q from a claim of type %T", g, v)
			}
		}
		if id.EmailVerified && claims["email_verified"] != true && claims["email_verified"] != "true" {
			t.Fatalf("email_verified from %v", claims["email_verified"])
		}
		if id.Username == "" {
			t.Fatal("no username")
		}
	})
}

// FuzzCallbackError: a callback's error parameter is attacker-controlled;
// only a registered code ever comes out.
func FuzzCallbackError(f *testing.F) {
	f.Add("access_denied")
	f.Add("<script>alert(1)</script>")
	f.Add("")
	f.Fuzz(func(t *testing.T, code string) {
		err := CallbackErrorFrom(url.Values{"error": {code}})
		ce, ok := err.(*CallbackError)
		if !ok {
			t.Fatalf("err = %v", err)
		}
		if ce.Code != "other" && (ce.Code != code || !slices.Contains(callbackErrorCodes, code)) {
			t.Fatalf("code %q from %q", ce.Code, code)
		}
	})
}
