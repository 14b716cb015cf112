package main

import (
	"context"
	"fmt"

	"github.com/mcpgate/mcpgate/internal/server"
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
	driver := cfg.Storage.Driver
	applied, err := server.Migrate(ctx, cfg.Storage)
	switch {
	case err != nil:
		fmt.Fprintf(env.stderr, "mcpgate migrate: %v\n", err)
		return 1
	case driver == "memory":
		fmt.Fprintln(env.stdout, "storage driver is memory: nothing to migrate")
	case len(applied) == 0:
		fmt.Fprintf(env.stdout, "%s schema is up to date\n", driver)
	default:
		fmt.Fprintf(env.stdout, "%s: applied migrations %v\n", driver, applied)
	}
	return 0
}
