package oauth

import (
	"net/http"
	"strings"
	"time"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/storage"
)

// revoke is token revocation (RFC 7009). A refresh token revokes its whole
// family, which reaches the family's access tokens through the revocation
// log (SPEC AS-5a); an access token revokes itself (its jti). The answer is
// 200 whether or not the token was valid or known (§2.2): the endpoint must
// not become an oracle for which tokens exist.
func (p *Provider) revoke(w http.ResponseWriter, r *http.Request) {
	c, token, e := p.tokenForm(w, r)
	if e != nil {
		p.revokeError(w, r, e)
		return
	}
	if len(token) <= maxTokenLen {
		// The hint only orders the attempts (RFC 7009 §2.1); both kinds
		// are tried, and an unknown hint value is ignored.
		if looksLikeJWT(token) {
			p.revokeAccessToken(r, c, token)
		} else {
			p.revokeRefreshToken(r, c, token)
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// maxTokenLen bounds tokens read from requests (SPEC HD-2).
const maxTokenLen = 8 << 10

func looksLikeJWT(t string) bool { return strings.Count(t, ".") == 2 }

func (p *Provider) revokeRefreshToken(r *http.Request, c Client, handle string) {
	// Lookup checks the handle's secret and owner, changing nothing:
	// knowing a token ID, or holding another client's token, is not
	// enough to revoke a grant (RFC 7009 §2.1).
	_, fam, err := p.Refresher.Lookup(r.Context(), handle, c.ID)
	if err != nil || fam.Revoked() {
		return
	}
	if err := p.Refresher.RevokeFamily(r.Context(), fam.ID, "revoked_by_client"); err != nil {
		p.fail(r, "revoke family", err)
		return
	}
	p.Metrics.TokenRevoked("rfc7009")
	p.record(r, audit.Event{Type: audit.TokenRevoked, User: fam.Subject, Session: fam.ID, Client: c.ID,
		Details: map[string]any{"reason": "revoked_by_client", "kind": "refresh_token"}})
}

// revokeAccessToken revokes one access token by its jti, for as long as it
// could be valid. Only the client it was issued to may revoke it.
func (p *Provider) revokeAccessToken(r *http.Request, c Client, token string) {
	claims, err := p.Verifier.Inspect(token)
	if err != nil || claims.ClientID != c.ID {
		return
	}
	now := p.Now()
	rev := storage.Revocation{Kind: storage.RevokeToken, Key: claims.JTI, Reason: "revoked_by_client",
		CreatedAt: now, ExpiresAt: time.Unix(claims.Expiry, 0).Add(time.Minute)}
	if err := p.Store.AddRevocation(r.Context(), rev); err != nil {
		p.fail(r, "revoke access token", err)
		return
	}
	p.Verifier.Revoked.Add(rev)
	p.Metrics.TokenRevoked("rfc7009")
	p.record(r, audit.Event{Type: audit.TokenRevoked, User: claims.Subject, Session: claims.SID, Client: c.ID,
		Details: map[string]any{"reason": "revoked_by_client", "kind": "access_token", "jti": claims.JTI}})
}

func (p *Provider) revokeError(w http.ResponseWriter, r *http.Request, e *Error) {
	p.Metrics.OAuthError("revoke", e.Code)
	writeJSONError(w, r, e)
}
