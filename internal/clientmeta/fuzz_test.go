package clientmeta

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

// FuzzValidate feeds untrusted registration bodies and CIMD documents
// through Validate and ValidateCIMD. Neither may panic, refusals are
// *Error values with an RFC 7591 code, and whatever is accepted must hold
// up later: every registered URI passes CheckRedirectURI and matches
// itself, and a requested URI that matches is itself a valid redirect URI
// that differs from a registered one at most in a loopback port.
func FuzzValidate(f *testing.F) {
	f.Add([]byte(`{"redirect_uris":["https://app.example.com/cb"]}`), "https://app.example.com/cb")
	f.Add([]byte(`{"redirect_uris":["http://127.0.0.1:3000/cb","cursor://a/b"],"token_endpoint_auth_method":"none"}`), "http://127.0.0.1:4000/cb")
	f.Add([]byte(`{"redirect_uris":["http://[::1]/cb?x=1"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}`), "http://[::1]:65535/cb?x=1")
	f.Add([]byte(`{"redirect_uris":["http://localhost/"],"client_name":"x","token_endpoint_auth_method":"none"}`), "http://localhost:0/")
	f.Add([]byte(`{"client_id":"https://app.example.com/c.json","client_name":"A","redirect_uris":["com.example.app:/cb"]}`), "com.example.app:/cb")
	f.Add([]byte(`{"client_id":"https://app.example.com/c.json","client_name":"A","redirect_uris":["http://127.0.0.1/cb"],"jwks":{"keys":[{"kty":"EC","x":"1"}]}}`), "http://127.0.0.1:1@evil/cb")
	f.Add([]byte(`{"redirect_uris":["javascript:alert(1)"],"token_endpoint_auth_method":"none"}`), "javascript:alert(1)")
	f.Fuzz(func(t *testing.T, doc []byte, requested string) {
		var m Metadata
		if json.Unmarshal(doc, &m) != nil {
			return
		}
		c := m.clone()
		checkValidate(t, m)
		checkValidateCIMD(t, c)
		if DefaultPolicy().Validate(&m) == nil {
			checkMatch(t, m, requested)
		}
	})
}

func checkRefusal(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || (e.Code != CodeInvalidRedirectURI && e.Code != CodeInvalidClientMetadata) || e.Description == "" {
		t.Fatalf("refusal %v is not an *Error with an RFC 7591 code", err)
	}
}

func checkValidate(t *testing.T, m Metadata) {
	p := DefaultPolicy()
	if err := p.Validate(&m); err != nil {
		checkRefusal(t, err)
		return
	}
	if len(m.RedirectURIs) == 0 || !slices.Contains(m.GrantTypes, GrantAuthorizationCode) {
		t.Fatalf("accepted without redirect URIs or the code grant: %+v", m)
	}
	for _, uri := range m.RedirectURIs {
		if err := p.CheckRedirectURI(uri, m.Public()); err != nil {
			t.Fatalf("accepted %q, which CheckRedirectURI refuses: %v", uri, err)
		}
		if got, ok := MatchRedirectURI(m.RedirectURIs, uri); !ok || got != uri {
			t.Fatalf("registered %q does not match itself", uri)
		}
	}
}

func checkValidateCIMD(t *testing.T, m Metadata) {
	err := DefaultPolicy().ValidateCIMD(m.ClientID, &m)
	if err != nil {
		checkRefusal(t, err)
		return
	}
	if CheckClientIDURL(m.ClientID) != nil || !m.Public() || m.ClientSecret != "" || m.ClientName == "" {
		t.Fatalf("ValidateCIMD accepted a document breaking the CIMD rules: %+v", m)
	}
}

func checkMatch(t *testing.T, m Metadata, requested string) {
	got, ok := MatchRedirectURI(m.RedirectURIs, requested)
	if !ok {
		return
	}
	if got != requested {
		t.Fatalf("MatchRedirectURI returned %q for %q", got, requested)
	}
	if err := DefaultPolicy().CheckRedirectURI(requested, m.Public()); err != nil {
		t.Fatalf("matched %q, which CheckRedirectURI refuses: %v", requested, err)
	}
	if slices.Contains(m.RedirectURIs, requested) {
		return
	}
	key, _, ok := loopbackParts(requested)
	if !ok || !slices.ContainsFunc(m.RedirectURIs, func(r string) bool { k, _, ok := loopbackParts(r); return ok && k == key }) {
		t.Fatalf("matched %q, which is neither registered nor a registered loopback URI with another port", requested)
	}
}
