package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var authRequests = record[storage.AuthRequest]{
	what: "auth request", table: "auth_requests", key: []string{"id"},
	cols: []string{"id", "client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method",
		"resource", "scopes", "prompt", "browser_binding", "consent_granted", "provider_id",
		"upstream_state_hash", "upstream_sealed", "subject", "auth_time", "created_at", "expires_at"},
	args: func(r storage.AuthRequest) []any {
		return []any{r.ID, r.ClientID, r.RedirectURI, r.State, r.CodeChallenge, r.CodeChallengeMethod,
			r.Resource, jsonText(r.Scopes), r.Prompt, r.BrowserBinding, r.ConsentGranted, r.ProviderID,
			r.UpstreamStateHash, r.UpstreamSealed, r.Subject, nanos(r.AuthTime), nanos(r.CreatedAt), nanos(r.ExpiresAt)}
	},
	scan: func(sc scanner) (r storage.AuthRequest, err error) {
		err = sc.Scan(&r.ID, &r.ClientID, &r.RedirectURI, &r.State, &r.CodeChallenge, &r.CodeChallengeMethod,
			&r.Resource, jsonCol{&r.Scopes}, &r.Prompt, blobCol{&r.BrowserBinding}, boolCol{&r.ConsentGranted},
			&r.ProviderID, blobCol{&r.UpstreamStateHash}, blobCol{&r.UpstreamSealed}, &r.Subject,
			timeCol{&r.AuthTime}, timeCol{&r.CreatedAt}, timeCol{&r.ExpiresAt})
		return r, err
	},
}

// CreateAuthRequest stores r; ErrAlreadyExists if its ID is taken.
func (s *Store) CreateAuthRequest(ctx context.Context, r storage.AuthRequest) error {
	return authRequests.create(ctx, s, s.w, r)
}

// GetAuthRequest returns the pending authorization with the given ID.
func (s *Store) GetAuthRequest(ctx context.Context, id string) (storage.AuthRequest, error) {
	return authRequests.get(ctx, s, id)
}

// GetAuthRequestByUpstreamState returns the pending authorization whose
// upstream state hashes to stateHash.
func (s *Store) GetAuthRequestByUpstreamState(ctx context.Context, stateHash []byte) (storage.AuthRequest, error) {
	const op = "get auth request by upstream state"
	if len(stateHash) == 0 {
		// Requests that have not started an upstream login have no hash;
		// an empty lookup must not match one of them.
		return storage.AuthRequest{}, s.wrap(op, sql.ErrNoRows)
	}
	r, err := authRequests.scan(s.queryRow(ctx, s.r,
		authRequests.selectSQL("upstream_state_hash = ?"), stateHash))
	return r, s.wrap(op, err)
}

// UpdateAuthRequest replaces the request with fn's result (compare-and-swap).
func (s *Store) UpdateAuthRequest(ctx context.Context, id string, fn func(storage.AuthRequest) (storage.AuthRequest, error)) error {
	return authRequests.update(ctx, s, fn, id)
}

// DeleteAuthRequest deletes the request with the given ID.
func (s *Store) DeleteAuthRequest(ctx context.Context, id string) error {
	return authRequests.delete(ctx, s, id)
}

// CountAuthRequests counts requests that have not expired at now (one
// expiring exactly at now still counts).
func (s *Store) CountAuthRequests(ctx context.Context, now time.Time) (int, error) {
	var n int
	err := s.queryRow(ctx, s.r, `SELECT COUNT(*) FROM auth_requests WHERE expires_at = 0 OR expires_at >= ?`,
		nanos(now)).Scan(&n)
	return n, s.wrap("count auth requests", err)
}
