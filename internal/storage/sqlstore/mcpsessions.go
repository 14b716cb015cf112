package sqlstore

import (
	"context"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var mcpSessions = record[storage.MCPSession]{
	what: "MCP session", table: "mcp_sessions", key: []string{"id"},
	cols: []string{"id", "upstream", "subject", "client_id", "upstream_id", "created_at", "last_seen_at", "expires_at"},
	args: func(m storage.MCPSession) []any {
		return []any{m.ID, m.Upstream, m.Subject, m.ClientID, m.UpstreamID,
			nanos(m.CreatedAt), nanos(m.LastSeenAt), nanos(m.ExpiresAt)}
	},
	scan: func(sc scanner) (m storage.MCPSession, err error) {
		err = sc.Scan(&m.ID, &m.Upstream, &m.Subject, &m.ClientID, &m.UpstreamID,
			timeCol{&m.CreatedAt}, timeCol{&m.LastSeenAt}, timeCol{&m.ExpiresAt})
		return m, err
	},
}

// CreateMCPSession stores m; ErrAlreadyExists if its ID is taken.
func (s *Store) CreateMCPSession(ctx context.Context, m storage.MCPSession) error {
	return mcpSessions.create(ctx, s, s.w, m)
}

// GetMCPSession returns the binding with the given ID.
func (s *Store) GetMCPSession(ctx context.Context, id string) (storage.MCPSession, error) {
	return mcpSessions.get(ctx, s, id)
}

// UpdateMCPSession replaces the binding with fn's result (compare-and-swap).
func (s *Store) UpdateMCPSession(ctx context.Context, id string, fn func(storage.MCPSession) (storage.MCPSession, error)) error {
	return mcpSessions.update(ctx, s, fn, id)
}

// DeleteMCPSession deletes the binding with the given ID.
func (s *Store) DeleteMCPSession(ctx context.Context, id string) error {
	return mcpSessions.delete(ctx, s, id)
}
