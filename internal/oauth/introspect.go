package oauth

import (
	"net/http"
	"strings"
	"time"
)

// introspection is the RFC 7662 §2.2 answer. An inactive token is only
// {"active": false}: nothing about why.
type introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Subject   string `json:"sub,omitempty"`
	Audience  string `json:"aud,omitempty"`
	Issuer    string `json:"iss,omitempty"`
	Expiry    int64  `json:"exp,omitempty"`
	IssuedAt  int64  `json:"iat,omitempty"`
	JTI       string `json:"jti,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	SID       string `json:"sid,omitempty"`
}

// introspect is token introspection (RFC 7662) for confidential clients:
// a public client cannot authenticate, so letting it introspect would
// make the endpoint a token-scanning oracle (§4). A client learns about its
// own tokens only; any other token is "active": false.
func (p *Provider) introspect(w http.ResponseWriter, r *http.Request) {
	c, token, e := p.tokenForm(w, r)
	if e == nil && c.Public() {
		e = errInvalidClient("Client authentication failed.")
	}
	if e != nil {
		p.introspectError(w, r, e)
		return
	}
	var out introspection
	if len(token) <= maxTokenLen {
		if looksLikeJWT(token) {
			out = p.introspectAccess(r, token)
		} else {
			out = p.introspectRefresh(r, token, c.ID)
		}
	}
	if out.ClientID != c.ID {
		out = introspection{}
	}
	writeJSON(w, http.StatusOK, out)
}

func (p *Provider) introspectAccess(r *http.Request, token string) introspection {
	for _, aud := range p.resources {
		claims, err := p.Verifier.Verify(r.Context(), token, aud)
		if err != nil {
			continue
		}
		return introspection{
			Active: true, Scope: claims.Scope, ClientID: claims.ClientID, Subject: claims.Subject,
			Audience: aud, Issuer: claims.Issuer, Expiry: claims.Expiry, IssuedAt: claims.IssuedAt,
			JTI: claims.JTI, TokenType: "Bearer", SID: claims.SID,
		}
	}
	return introspection{}
}

func (p *Provider) introspectRefresh(r *http.Request, handle, clientID string) introspection {
	t, fam, err := p.Refresher.Lookup(r.Context(), handle, clientID)
	now := p.Now()
	if err != nil || !t.UsedAt.IsZero() || fam.Revoked() || (!t.ExpiresAt.IsZero() && t.ExpiresAt.Before(now)) {
		return introspection{}
	}
	return introspection{
		Active: true, Scope: strings.Join(fam.Scopes, " "), ClientID: fam.ClientID, Subject: fam.Subject,
		Audience: fam.Resource, Issuer: p.issuer, Expiry: unixOrZero(t.ExpiresAt), IssuedAt: t.CreatedAt.Unix(),
		TokenType: "refresh_token", SID: fam.ID,
	}
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func (p *Provider) introspectError(w http.ResponseWriter, r *http.Request, e *Error) {
	p.Metrics.OAuthError("introspect", e.Code)
	writeJSONError(w, r, e)
}
