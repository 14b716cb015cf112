package oauth

import (
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/ratelimit"
	"github.com/mcpgate/mcpgate/internal/tokens"
)

// maxFormBytes caps every form body the AS reads (SPEC HD-2).
const maxFormBytes = 64 << 10

// grant is what a grant type hands back to the dispatcher: the binding of
// the grant (SPEC AS-4) and, if the grant type produces one, the refresh
// token.
type grant struct {
	tokens.Grant
	RefreshHandle string
	// Event is the audit event type for a success.
	Event audit.EventType
}

// grantHandler redeems one grant type. It receives the authenticated
// client and returns the grant to mint an access token for.
type grantHandler func(r *http.Request, c Client) (grant, *Error)

// token is the token endpoint (RFC 6749 §3.2). Every grant goes through
// the same steps here: read the form, authenticate the client, check it is
// registered for the grant type, redeem, check the requested resource, mint
// and answer without caching. A grant type only supplies what is unique to
// it, so none can skip a shared step (STYLE: dex grants.go).
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	grantType, c, handler, e := p.tokenRequest(w, r)
	if e == nil {
		var g grant
		g, e = handler(r, c)
		if e == nil {
			p.writeToken(w, r, grantType, c, g)
			return
		}
	}
	p.Metrics.OAuthError("token", e.Code)
	writeJSONError(w, r, e)
}

// tokenRequest runs the shared steps before a grant type takes over.
//
// Two rate limits apply (SPEC RL-1): per client address first, before the
// body is even read; per client only once the client has authenticated,
// so nobody can use up a confidential client's quota by naming it without
// its secret. A public client authenticates by its ID alone, which anyone
// can send, so its quota is counted per client and address: one attacker
// cannot use up the quota of everyone behind a shared public client.
func (p *Provider) tokenRequest(w http.ResponseWriter, r *http.Request) (string, Client, grantHandler, *Error) {
	if e := p.limitJSON(w, r, "token", p.Limits.TokenIP, ratelimit.ByIP(r)); e != nil {
		return "", Client{}, nil, e
	}
	if e := readForm(w, r); e != nil {
		return "", Client{}, nil, e
	}
	for k, vs := range r.PostForm {
		if len(vs) > 1 && k != "resource" {
			return "", Client{}, nil, errInvalidRequest("A parameter was sent more than once.")
		}
	}
	c, e := p.authenticateClient(r)
	if e != nil {
		return "", Client{}, nil, e
	}
	key := ratelimit.ByClient(c.ID)
	if c.Public() {
		key = ratelimit.ByClientIP(c.ID, r)
	}
	if e := p.limitJSON(w, r, "token", p.Limits.TokenClient, key); e != nil {
		return "", Client{}, nil, e
	}
	grantType := r.PostForm.Get("grant_type")
	h, ok := p.grants[grantType]
	if !ok {
		return "", Client{}, nil, errUnsupportedGrantType("The grant type is not supported.")
	}
	if !c.AllowsGrant(grantType) {
		return "", Client{}, nil, errUnauthorizedClient("The client is not registered for this grant type.")
	}
	return grantType, c, h, nil
}

// readForm reads a form-encoded POST body, bounded in size.
func readForm(w http.ResponseWriter, r *http.Request) *Error {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return errInvalidRequest("The body must be application/x-www-form-urlencoded.")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return errInvalidRequest("The request body could not be read.")
	}
	return nil
}

// tokenForm is the shared start of the revocation and introspection
// endpoints (RFC 7009 §2.1, RFC 7662 §2.1): a bounded form, an
// authenticated client and a token parameter.
func (p *Provider) tokenForm(w http.ResponseWriter, r *http.Request) (Client, string, *Error) {
	if e := readForm(w, r); e != nil {
		return Client{}, "", e
	}
	c, e := p.authenticateClient(r)
	if e != nil {
		return Client{}, "", e
	}
	token := r.PostForm.Get("token")
	if token == "" {
		return Client{}, "", errInvalidRequest("The token parameter is missing.")
	}
	return c, token, nil
}

// checkResource enforces RFC 8707 at the token endpoint: a resource sent
// here must canonically equal the one the code or refresh family is bound
// to. A grant can never be moved to another upstream (SPEC AS-4).
func (p *Provider) checkResource(r *http.Request, bound string) *Error {
	values := r.PostForm["resource"]
	if len(values) == 0 {
		return nil
	}
	if len(values) > 1 {
		return errInvalidTarget("Only one resource may be requested.")
	}
	c, err := tokens.CanonicalResource(values[0])
	if err != nil || c != bound {
		return errInvalidTarget("The resource does not match the grant.")
	}
	return nil
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

// writeToken mints the access token and answers (RFC 6749 §5.1).
func (p *Provider) writeToken(w http.ResponseWriter, r *http.Request, grantType string, c Client, g grant) {
	g.Groups = p.tokenGroups(g.Groups)
	at, claims, err := p.Minter.Mint(g.Grant)
	if err != nil {
		writeJSONError(w, r, p.fail(r, "mint access token", err))
		return
	}
	p.Metrics.TokenIssued(grantType)
	p.record(r, audit.Event{Type: g.Event, User: g.Subject, Session: g.FamilyID, Client: c.ID, Provider: g.ProviderID,
		Details: map[string]any{"jti": claims.JTI, "resource": g.Resource, "scopes": g.Scopes, "grant_type": grantType}})
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken:  at,
		TokenType:    "Bearer",
		ExpiresIn:    int64(time.Unix(claims.Expiry, 0).Sub(time.Unix(claims.IssuedAt, 0)).Seconds()),
		Scope:        strings.Join(g.Scopes, " "),
		RefreshToken: g.RefreshHandle,
	})
}
