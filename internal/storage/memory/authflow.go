package memory

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

func setAuthRequestKey(r *storage.AuthRequest, id string) { r.ID = id }

func (s *Store) CreateAuthRequest(_ context.Context, r storage.AuthRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return create(s.authRequests, "auth request", r.ID, cloneAuthRequest(r))
}

func (s *Store) GetAuthRequest(_ context.Context, id string) (storage.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return get(s.authRequests, "auth request", id, cloneAuthRequest)
}

// GetAuthRequestByUpstreamState scans the pending requests; their number is
// capped (CountAuthRequests), so an index would buy little. An empty hash
// never matches: a callback without state must not complete a flow whose
// upstream state is not set yet.
func (s *Store) GetAuthRequestByUpstreamState(_ context.Context, stateHash []byte) (storage.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(stateHash) > 0 {
		for _, r := range s.authRequests {
			if bytes.Equal(r.UpstreamStateHash, stateHash) {
				return cloneAuthRequest(r), nil
			}
		}
	}
	return storage.AuthRequest{}, fmt.Errorf("%w: auth request by upstream state", storage.ErrNotFound)
}

func (s *Store) UpdateAuthRequest(_ context.Context, id string, fn func(storage.AuthRequest) (storage.AuthRequest, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return update(s.authRequests, "auth request", id, cloneAuthRequest, setAuthRequestKey, fn)
}

func (s *Store) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return remove(s.authRequests, "auth request", id)
}

func (s *Store) CountAuthRequests(_ context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.authRequests {
		if !expired(r.ExpiresAt, now) {
			n++
		}
	}
	return n, nil
}

// CreateAuthCode refuses an empty hash (storage.CheckCodeHash).
func (s *Store) CreateAuthCode(_ context.Context, c storage.AuthCode) error {
	if err := storage.CheckCodeHash("create auth code", c.Hash); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return create(s.authCodes, "auth code", string(c.Hash), cloneAuthCode(c))
}

// ConsumeAuthCode marks the code used under the store lock, so of any number
// of concurrent calls exactly one sees it unused (RFC 6749 §4.1.2: codes are
// single-use). Expiry is the caller's to judge (storage.Store). A zero now
// is refused: ConsumedAt zero means "unused", so the code would stay open to
// replay. So is an empty hash, which no created code has.
func (s *Store) ConsumeAuthCode(_ context.Context, hash []byte, now time.Time) (storage.AuthCode, error) {
	const op = "consume auth code"
	if err := storage.CheckNow(op, now); err != nil {
		return storage.AuthCode{}, err
	}
	if err := storage.CheckCodeHash(op, hash); err != nil {
		return storage.AuthCode{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.authCodes[string(hash)]
	if !ok {
		return storage.AuthCode{}, fmt.Errorf("%w: auth code", storage.ErrNotFound)
	}
	if !c.ConsumedAt.IsZero() {
		return cloneAuthCode(c), storage.ErrConsumed
	}
	c.ConsumedAt = utc(now)
	s.authCodes[string(hash)] = c
	return cloneAuthCode(c), nil
}
