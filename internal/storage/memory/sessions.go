package memory

import (
	"cmp"
	"context"
	"slices"

	"github.com/mcpgate/mcpgate/internal/storage"
)

func setBrowserSessionKey(b *storage.BrowserSession, id string) { b.ID = id }

func (s *Store) CreateBrowserSession(_ context.Context, b storage.BrowserSession) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return create(s.browserSessions, "browser session", b.ID, cloneBrowserSession(b))
}

func (s *Store) GetBrowserSession(_ context.Context, id string) (storage.BrowserSession, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return get(s.browserSessions, "browser session", id, cloneBrowserSession)
}

func (s *Store) UpdateBrowserSession(_ context.Context, id string, fn func(storage.BrowserSession) (storage.BrowserSession, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return update(s.browserSessions, "browser session", id, cloneBrowserSession, setBrowserSessionKey, fn)
}

func (s *Store) DeleteBrowserSession(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return remove(s.browserSessions, "browser session", id)
}

// ListBrowserSessions lists oldest first (ties by ID, so the order is
// stable): the concurrent-session limit evicts from the front (SPEC SE-1).
func (s *Store) ListBrowserSessions(_ context.Context, subject string) ([]storage.BrowserSession, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []storage.BrowserSession
	for _, b := range s.browserSessions {
		if subject == "" || b.Subject == subject {
			out = append(out, cloneBrowserSession(b))
		}
	}
	slices.SortFunc(out, func(a, b storage.BrowserSession) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// DeleteBrowserSessions refuses an empty subject: a kill switch called with
// a blank user must not log everyone out.
func (s *Store) DeleteBrowserSessions(_ context.Context, subject string) (int, error) {
	if err := storage.CheckSubject("delete browser sessions", subject); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, b := range s.browserSessions {
		if b.Subject == subject {
			delete(s.browserSessions, id)
			n++
		}
	}
	return n, nil
}

func setMCPSessionKey(m *storage.MCPSession, id string) { m.ID = id }

func (s *Store) CreateMCPSession(_ context.Context, m storage.MCPSession) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return create(s.mcpSessions, "MCP session", m.ID, cloneMCPSession(m))
}

func (s *Store) GetMCPSession(_ context.Context, id string) (storage.MCPSession, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return get(s.mcpSessions, "MCP session", id, cloneMCPSession)
}

func (s *Store) UpdateMCPSession(_ context.Context, id string, fn func(storage.MCPSession) (storage.MCPSession, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return update(s.mcpSessions, "MCP session", id, cloneMCPSession, setMCPSessionKey, fn)
}

func (s *Store) DeleteMCPSession(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return remove(s.mcpSessions, "MCP session", id)
}
