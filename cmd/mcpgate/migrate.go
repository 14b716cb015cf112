package main

import (
	"context"
	"fmt"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/storage/sqlstore"
)

func runMigrate(ctx context.Context, env *cliEnv, args []string) int {
	path, code, ok := configFlag(env, "migrate", args)
	if !ok {
		return code
	}
	cfg, ok := loadConfig(env, "migrate", path)
	if !ok {
		return 1
	}
	if cfg.Storage.Driver == "memory" {
		fmt.Fprintln(env.stdout, "storage driver is memory: nothing to migrate")
		return 0
	}
	if err := migrate(ctx, env, cfg.Storage); err != nil {
		fmt.Fprintf(env.stderr, "mcpgate migrate: %v\n", err)
		return 1
	}
	return 0
}

func migrate(ctx context.Context, env *cliEnv, c config.Storage) error {
	store, err := sqlstore.OpenNoMigrate(ctx, c.Driver, c.DSN)
	if err != nil {
		return err
	}
	defer store.Close()
	applied, err := store.Migrate(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(env.stdout, "%s schema is up to date\n", c.Driver)
		return nil
	}
	fmt.Fprintf(env.stdout, "%s: applied migrations %v\n", c.Driver, applied)
	return nil
}
