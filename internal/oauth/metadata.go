package oauth

import (
	"net/http"
	"strconv"
	"time"
)

// asMetadata is the RFC 8414 §2 document.
type asMetadata struct {
	Issuer                                 string   `json:"issuer"`
	AuthorizationEndpoint                  string   `json:"authorization_endpoint"`
	TokenEndpoint                          string   `json:"token_endpoint"`
	JWKSURI                                string   `json:"jwks_uri"`
	RegistrationEndpoint                   string   `json:"registration_endpoint,omitempty"`
	RevocationEndpoint                     string   `json:"revocation_endpoint"`
	IntrospectionEndpoint                  string   `json:"introspection_endpoint"`
	ScopesSupported                        []string `json:"scopes_supported"`
	ResponseTypesSupported                 []string `json:"response_types_supported"`
	ResponseModesSupported                 []string `json:"response_modes_supported"`
	GrantTypesSupported                    []string `json:"grant_types_supported"`
	TokenEndpointAuthMethodsSupported      []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethods       []string `json:"introspection_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported          []string `json:"code_challenge_methods_supported"`
	AuthorizationResponseISSParameter      bool     `json:"authorization_response_iss_parameter_supported"`
	ClientIDMetadataDocumentSupported      bool     `json:"client_id_metadata_document_supported"`
}

var authMethods = []string{"none", "client_secret_basic", "client_secret_post"}

// metadata serves the authorization server metadata (RFC 8414, SPEC AS-1).
// The issuer is public_url byte for byte, as in tokens and iss parameters.
func (p *Provider) metadata(w http.ResponseWriter, r *http.Request) {
	m := asMetadata{
		Issuer:                                 p.issuer,
		AuthorizationEndpoint:                  p.url("/oauth/authorize"),
		TokenEndpoint:                          p.url("/oauth/token"),
		JWKSURI:                                p.url("/oauth/jwks"),
		RevocationEndpoint:                     p.url("/oauth/revoke"),
		IntrospectionEndpoint:                  p.url("/oauth/introspect"),
		ScopesSupported:                        p.scopes.Names(),
		ResponseTypesSupported:                 []string{"code"},
		ResponseModesSupported:                 []string{"query"},
		GrantTypesSupported:                    []string{"authorization_code", "refresh_token"},
		TokenEndpointAuthMethodsSupported:      authMethods,
		RevocationEndpointAuthMethodsSupported: authMethods,
		IntrospectionEndpointAuthMethods:       []string{"client_secret_basic", "client_secret_post"},
		CodeChallengeMethodsSupported:          []string{"S256"},
		AuthorizationResponseISSParameter:      true,
		ClientIDMetadataDocumentSupported:      p.Config.Registration.CIMDEnabled(),
	}
	if p.Config.Registration.DynamicEnabled() {
		m.RegistrationEndpoint = p.url("/oauth/register")
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Content-Type", "application/json")
	writeIndented(w, m)
}

// JWKSMaxAge is how long a verifier may cache the JWKS document. Key
// rotation publishes a new key at least this long before it signs.
const JWKSMaxAge = 60 * time.Second

// jwks serves the public signing keys (RFC 7517). Caches may keep it only
// briefly: a rotation publishes the next key ahead of use, and a verifier
// elsewhere must see it before tokens signed with it arrive.
func (p *Provider) jwks(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(JWKSMaxAge.Seconds())))
	w.Write(p.Keys.JWKS())
}
