package server

import (
	"context"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/storage/memory"
	"github.com/mcpgate/mcpgate/internal/storage/sqlstore"
)

// openStore opens the configured backend. sqlstore errors already name the
// DSN with its password redacted.
func openStore(ctx context.Context, c config.Storage) (storage.Store, error) {
	if c.Driver == "memory" {
		return memory.New(), nil
	}
	return sqlstore.Open(ctx, c.Driver, c.DSN)
}
