package memory

import (
	"context"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// upstreamKey is an upstream token's identity (SPEC ID-5).
type upstreamKey struct{ subject, providerID string }

func setUpstreamKey(u *storage.UpstreamToken, k upstreamKey) {
	u.Subject, u.ProviderID = k.subject, k.providerID
}

func (s *Store) PutUpstreamToken(_ context.Context, u storage.UpstreamToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.upstreamTokens[upstreamKey{u.Subject, u.ProviderID}] = cloneUpstreamToken(u)
	return nil
}

func (s *Store) GetUpstreamToken(_ context.Context, subject, providerID string) (storage.UpstreamToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return get(s.upstreamTokens, "upstream token", upstreamKey{subject, providerID}, cloneUpstreamToken)
}

func (s *Store) UpdateUpstreamToken(_ context.Context, subject, providerID string,
	fn func(storage.UpstreamToken) (storage.UpstreamToken, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return update(s.upstreamTokens, "upstream token", upstreamKey{subject, providerID},
		cloneUpstreamToken, setUpstreamKey, fn)
}

// DeleteUpstreamTokens refuses an empty subject, as DeleteBrowserSessions.
func (s *Store) DeleteUpstreamTokens(_ context.Context, subject string) (int, error) {
	if err := storage.CheckSubject("delete upstream tokens", subject); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k := range s.upstreamTokens {
		if k.subject == subject {
			delete(s.upstreamTokens, k)
			n++
		}
	}
	return n, nil
}
