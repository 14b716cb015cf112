package clientmeta

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want an *Error with code %s", err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %s (%s), want %s", e.Code, e.Description, code)
	}
}

func TestValidateDefaults(t *testing.T) {
	m := Metadata{RedirectURIs: []string{"https://app.example.com/cb"}}
	if err := DefaultPolicy().Validate(&m); err != nil {
		t.Fatal(err)
	}
	// RFC 7591 §2 defaults.
	if m.TokenEndpointAuthMethod != AuthClientSecretBasic || m.Public() {
		t.Errorf("auth method = %q, want client_secret_basic", m.TokenEndpointAuthMethod)
	}
	if !slices.Equal(m.GrantTypes, []string{GrantAuthorizationCode}) {
		t.Errorf("grant_types = %q", m.GrantTypes)
	}
	if !slices.Equal(m.ResponseTypes, []string{ResponseTypeCode}) {
		t.Errorf("response_types = %q", m.ResponseTypes)
	}
}

func TestValidateKeepsWhatWasSent(t *testing.T) {
	m := Metadata{
		RedirectURIs:            []string{"http://127.0.0.1/cb", "cursor://a/cb"},
		TokenEndpointAuthMethod: AuthNone,
		GrantTypes:              []string{GrantAuthorizationCode, GrantRefreshToken},
		ResponseTypes:           []string{ResponseTypeCode},
		ClientName:              "Cursor",
		ClientURI:               "https://cursor.example/",
		Scope:                   "mcp:read mcp:write",
		Contacts:                []string{"ops@cursor.example"},
	}
	if err := DefaultPolicy().Validate(&m); err != nil {
		t.Fatal(err)
	}
	if m.TokenEndpointAuthMethod != AuthNone || len(m.GrantTypes) != 2 {
		t.Errorf("Validate changed sent values: %+v", m)
	}
}

func TestValidateErrors(t *testing.T) {
	ok := func() Metadata {
		return Metadata{RedirectURIs: []string{"https://app.example.com/cb"}, TokenEndpointAuthMethod: AuthNone}
	}
	tests := []struct {
		name   string
		modify func(*Metadata)
		code   string
	}{
		{"no redirect URIs", func(m *Metadata) { m.RedirectURIs = nil }, CodeInvalidRedirectURI},
		{"too many redirect URIs", func(m *Metadata) {
			for i := range MaxRedirectURIs {
				m.RedirectURIs = append(m.RedirectURIs, fmt.Sprintf("https://app.example.com/%d", i))
			}
		}, CodeInvalidRedirectURI},
		{"bad redirect URI", func(m *Metadata) { m.RedirectURIs = append(m.RedirectURIs, "https://app.example.com/cb#f") }, CodeInvalidRedirectURI},
		{"private-use scheme for a confidential client", func(m *Metadata) {
			m.TokenEndpointAuthMethod = AuthClientSecretPost
			m.RedirectURIs = []string{"cursor://a/cb"}
		}, CodeInvalidRedirectURI},
		{"implicit grant", func(m *Metadata) { m.GrantTypes = []string{"implicit"} }, CodeInvalidClientMetadata},
		{"client_credentials grant", func(m *Metadata) { m.GrantTypes = []string{GrantAuthorizationCode, "client_credentials"} }, CodeInvalidClientMetadata},
		{"refresh_token without authorization_code", func(m *Metadata) { m.GrantTypes = []string{GrantRefreshToken} }, CodeInvalidClientMetadata},
		{"token response type", func(m *Metadata) { m.ResponseTypes = []string{"token"} }, CodeInvalidClientMetadata},
		{"code and token response types", func(m *Metadata) { m.ResponseTypes = []string{"code", "token"} }, CodeInvalidClientMetadata},
		{"private_key_jwt", func(m *Metadata) { m.TokenEndpointAuthMethod = "private_key_jwt" }, CodeInvalidClientMetadata},
		{"client_secret_jwt", func(m *Metadata) { m.TokenEndpointAuthMethod = "client_secret_jwt" }, CodeInvalidClientMetadata},
		{"http client_uri", func(m *Metadata) { m.ClientURI = "http://app.example.com/" }, CodeInvalidClientMetadata},
		{"javascript logo_uri", func(m *Metadata) { m.LogoURI = "javascript:alert(1)" }, CodeInvalidClientMetadata},
		{"tos_uri with userinfo", func(m *Metadata) { m.TOSURI = "https://a@b.example/" }, CodeInvalidClientMetadata},
		{"policy_uri relative", func(m *Metadata) { m.PolicyURI = "/policy" }, CodeInvalidClientMetadata},
		{"jwks_uri http", func(m *Metadata) { m.JWKSURI = "http://app.example.com/jwks" }, CodeInvalidClientMetadata},
		{"client_name too long", func(m *Metadata) { m.ClientName = strings.Repeat("a", MaxNameLength+1) }, CodeInvalidClientMetadata},
		{"client_name with RTL override", func(m *Metadata) { m.ClientName = "Good\u202eliveE" }, CodeInvalidClientMetadata},
		{"client_name with newline", func(m *Metadata) { m.ClientName = "Good\nApp" }, CodeInvalidClientMetadata},
		{"client_name invalid UTF-8", func(m *Metadata) { m.ClientName = "a\xffb" }, CodeInvalidClientMetadata},
		{"scope with a quote", func(m *Metadata) { m.Scope = `mcp:read "x"` }, CodeInvalidClientMetadata},
		{"scope with double space", func(m *Metadata) { m.Scope = "a  b" }, CodeInvalidClientMetadata},
		{"scope too long", func(m *Metadata) { m.Scope = strings.Repeat("a", MaxScopeLength+1) }, CodeInvalidClientMetadata},
		{"too many contacts", func(m *Metadata) { m.Contacts = make([]string, MaxContacts+1) }, CodeInvalidClientMetadata},
		{"software_id with control", func(m *Metadata) { m.SoftwareID = "a\x00" }, CodeInvalidClientMetadata},
		{"jwks and jwks_uri", func(m *Metadata) {
			m.JWKS = json.RawMessage(`{"keys":[]}`)
			m.JWKSURI = "https://app.example.com/jwks"
		}, CodeInvalidClientMetadata},
		{"jwks too large", func(m *Metadata) { m.JWKS = json.RawMessage(`"` + strings.Repeat("a", MaxJWKSBytes) + `"`) }, CodeInvalidClientMetadata},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ok()
			if err := DefaultPolicy().Validate(&m); err != nil {
				t.Fatalf("base metadata refused: %v", err)
			}
			m = ok()
			tt.modify(&m)
			wantCode(t, DefaultPolicy().Validate(&m), tt.code)
		})
	}
}

func TestValidateErrorNamesTheIndex(t *testing.T) {
	m := Metadata{RedirectURIs: []string{"https://a.example/cb", "https://a.example/<x>#y"}}
	err := DefaultPolicy().Validate(&m)
	wantCode(t, err, CodeInvalidRedirectURI)
	if !strings.Contains(err.Error(), "redirect_uris[1]") || strings.Contains(err.Error(), "<x>") {
		t.Fatalf("description %q should name redirect_uris[1] and not echo the value", err)
	}
}

const docURL = "https://app.example.com/oauth/client.json"

func cimdDoc() Metadata {
	return Metadata{
		ClientID:     docURL,
		ClientName:   "Example MCP Client",
		RedirectURIs: []string{"http://127.0.0.1:3000/callback", "http://localhost:3000/callback"},
		GrantTypes:   []string{GrantAuthorizationCode},
	}
}

func TestValidateCIMD(t *testing.T) {
	m := cimdDoc()
	if err := DefaultPolicy().ValidateCIMD(docURL, &m); err != nil {
		t.Fatal(err)
	}
	// A document cannot use a shared secret, so absence means "none".
	if m.TokenEndpointAuthMethod != AuthNone {
		t.Errorf("auth method = %q, want none", m.TokenEndpointAuthMethod)
	}
}

func TestValidateCIMDErrors(t *testing.T) {
	tests := []struct {
		name   string
		url    string
		modify func(*Metadata)
	}{
		{"client_id differs", docURL, func(m *Metadata) { m.ClientID = "https://evil.example/oauth/client.json" }},
		{"client_id differs by default port", docURL, func(m *Metadata) { m.ClientID = "https://app.example.com:443/oauth/client.json" }},
		{"client_id missing", docURL, func(m *Metadata) { m.ClientID = "" }},
		{"client_secret", docURL, func(m *Metadata) { m.ClientSecret = "s3cret" }},
		{"client_secret_basic", docURL, func(m *Metadata) { m.TokenEndpointAuthMethod = AuthClientSecretBasic }},
		{"client_secret_post", docURL, func(m *Metadata) { m.TokenEndpointAuthMethod = AuthClientSecretPost }},
		{"private_key_jwt (not supported)", docURL, func(m *Metadata) { m.TokenEndpointAuthMethod = "private_key_jwt" }},
		{"client_name missing", docURL, func(m *Metadata) { m.ClientName = "  " }},
		{"private key in jwks", docURL, func(m *Metadata) { m.JWKS = json.RawMessage(`{"keys":[{"kty":"EC","d":"x"}]}`) }},
		{"symmetric key in jwks", docURL, func(m *Metadata) { m.JWKS = json.RawMessage(`{"keys":[{"kty":"oct","k":"x"}]}`) }},
		{"no path", "https://app.example.com", nil},
		{"root path", "https://app.example.com/", nil},
		{"http", "http://app.example.com/client.json", nil},
		{"fragment", "https://app.example.com/client.json#x", nil},
		{"userinfo", "https://me@app.example.com/client.json", nil},
		{"query", "https://app.example.com/client.json?v=1", nil},
		{"dot segment", "https://app.example.com/a/../client.json", nil},
		{"single dot segment", "https://app.example.com/./client.json", nil},
		{"encoded dot segment", "https://app.example.com/a/%2E%2e/client.json", nil},
		{"bad port", "https://app.example.com:0/client.json", nil},
		{"opaque", "https:app.example.com/client.json", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := cimdDoc()
			m.ClientID = tt.url
			if tt.modify != nil {
				tt.modify(&m)
			}
			wantCode(t, DefaultPolicy().ValidateCIMD(tt.url, &m), CodeInvalidClientMetadata)
		})
	}
}

func TestValidateCIMDAppliesValidate(t *testing.T) {
	m := cimdDoc()
	m.RedirectURIs = []string{"http://app.example.com/cb"}
	wantCode(t, DefaultPolicy().ValidateCIMD(docURL, &m), CodeInvalidRedirectURI)
}

func TestCheckClientIDURL(t *testing.T) {
	for _, ok := range []string{docURL, "https://app.example.com:8443/c", "https://[2001:db8::1]/c", "https://app.example.com/a.b/.well-known/c"} {
		if err := CheckClientIDURL(ok); err != nil {
			t.Errorf("CheckClientIDURL(%q) = %v", ok, err)
		}
	}
}

func TestSecretMembers(t *testing.T) {
	for doc, want := range map[string]bool{
		`{"client_id":"x"}`:                   false,
		`{"client_secret":""}`:                true,
		`{"client_secret":null}`:              true,
		`{"client_secret_expires_at":0}`:      true,
		`{"client_secret_expires_at":"soon"}`: true,
		`not json`:                            true,
	} {
		if got := secretMembers([]byte(doc)); got != want {
			t.Errorf("secretMembers(%s) = %v, want %v", doc, got, want)
		}
	}
}
