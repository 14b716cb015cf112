package server

import (
	"context"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/storage/memory"
	"github.com/mcpgate/mcpgate/internal/storage/sqlstore"
)

// openStore opens the configured backend, applying pending migrations.
// sqlstore errors already name the DSN with its password redacted.
func openStore(ctx context.Context, c config.Storage) (storage.Store, error) {
	if c.Driver == "memory" {
		return memory.New(), nil
	}
	return sqlstore.Open(ctx, c.Driver, c.DSN)
}

// Migrate applies the configured SQL store's pending migrations and returns
// the versions it applied (none when the schema was up to date). The memory
// store has no schema: Migrate does nothing for it.
func Migrate(ctx context.Context, c config.Storage) ([]int, error) {
	if c.Driver == "memory" {
		return nil, nil
	}
	store, err := sqlstore.OpenNoMigrate(ctx, c.Driver, c.DSN)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	return store.Migrate(ctx)
}
