package main

import (
	"context"
	"fmt"

	"github.com/mcpgate/mcpgate/internal/server"
)

func runServe(ctx context.Context, env *cliEnv, args []string) int {
	path, code, ok := configFlag(env, "serve", args)
	if !ok {
		return code
	}
	cfg, ok := loadConfig(env, "serve", path)
	if !ok {
		return 1
	}
	if err := server.Run(ctx, cfg, serverOptions(env)); err != nil {
		fmt.Fprintf(env.stderr, "mcpgate serve: %v\n", err)
		return 1
	}
	return 0
}

func serverOptions(env *cliEnv) server.Options {
	return server.Options{Version: version(), LogOutput: env.stderr, AuditStdout: env.stdout}
}
