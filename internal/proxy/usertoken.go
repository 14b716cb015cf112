package proxy

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/login"
)

// Credentials type user_token sends the user's own token at an identity
// provider (SPEC ID-5, PX-8). The token can be refused by the upstream
// before it expires (the provider revoked it, or rotated its keys), and
// the provider can stop vouching for the user. The rules here keep a
// client from looping on either:
//   - an upstream 401 forces one refresh and one retry of the same,
//     already buffered, request (PX-12);
//   - when the provider refuses the refresh (invalid_grant: the user's
//     grant at the provider is over) or there is no upstream token at all,
//     the client's grant (its refresh-token family) is revoked and the
//     client gets 401 invalid_token: refreshing would only mint another
//     access token for a grant that cannot be served, so the client must
//     re-authorize, which sends the user through the provider's login;
//   - when the provider cannot be reached, the client gets 502: nothing
//     was decided about the user, and the grant stays.

// GrantRevoker ends one grant (tokens.Refresher implements it).
type GrantRevoker interface {
	RevokeFamily(ctx context.Context, familyID, reason string) error
}

// userTokenError carries a failed user-token refresh from the transport
// to the error handler.
type userTokenError struct{ err error }

func (e *userTokenError) Error() string { return "user token refresh: " + e.err.Error() }
func (e *userTokenError) Unwrap() error { return e.err }

// userTokenRetry is the transport of a user_token route: it answers an
// upstream 401 by refreshing the user's token once and resending the
// request with it.
type userTokenRetry struct {
	rt   *route
	next http.RoundTripper
}

// maxDrain bounds what is read of a refused response so its connection
// can be reused.
const maxDrain = 4 << 10

func (u userTokenRetry) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := u.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	st := stateFrom(req.Context())
	// The body is replayable only because the pipeline buffered it
	// (rewrite sets GetBody); anything else is not retried.
	if st == nil || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
		return resp, nil
	}
	io.CopyN(io.Discard, resp.Body, maxDrain)
	resp.Body.Close()
	cred, err := u.rt.creds.refresh(req.Context(), st.principal, st.credential)
	if err != nil {
		return nil, &userTokenError{err}
	}
	retry := req.Clone(req.Context())
	if req.GetBody != nil {
		if retry.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	retry.Header.Set(u.rt.creds.header(), cred)
	st.credential = cred
	return u.next.RoundTrip(retry)
}

// userTokenFailed answers a request whose user token could not be had.
func (rt *route) userTokenFailed(w http.ResponseWriter, r *http.Request, st *forwardState, err error) {
	reason := ""
	switch {
	case errors.Is(err, login.ErrUserGone):
		reason = "upstream_grant_gone"
	case errors.Is(err, login.ErrNoToken):
		reason = "upstream_token_missing"
	}
	if reason == "" {
		rt.p.opts.Log.WarnContext(r.Context(), "upstream credential unavailable", "upstream", rt.up.Name, "err", err)
		writeRPCError(w, r, http.StatusBadGateway, st.id, codeServerError, "upstream credential unavailable")
		return
	}
	pr := st.principal
	rt.p.opts.Log.InfoContext(r.Context(), "user token unavailable: grant revoked", "upstream", rt.up.Name, "reason", reason, "err", err)
	if g := rt.p.opts.Grants; g != nil && pr.Family != "" {
		// The access token in hand dies with its family (the sid's
		// revocation entry), so the client cannot keep calling either.
		if rerr := g.RevokeFamily(context.WithoutCancel(r.Context()), pr.Family, reason); rerr != nil {
			rt.p.opts.Log.ErrorContext(r.Context(), "revoke grant", "upstream", rt.up.Name, "err", rerr)
			writeRPCError(w, r, http.StatusBadGateway, st.id, codeServerError, "upstream credential unavailable")
			return
		}
		rt.p.opts.Audit(r.Context(), audit.Event{Type: audit.TokenRevoked, User: pr.Subject, Session: pr.Family,
			Client: pr.ClientID, Provider: rt.creds.provider, Details: map[string]any{"reason": reason, "upstream": rt.up.Name}})
	}
	rt.unauthorized(w, r, "invalid_token")
}
