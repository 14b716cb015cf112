package main

import (
	"context"
	"fmt"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/server"
)

func runServe(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "serve", "serve --config FILE")
	path := fs.String("config", "", "path to the YAML configuration `file`")
	if code, ok := parse(fs, env, args); !ok {
		return code
	}
	if !requireConfig(fs, *path, env.stderr) {
		return 2
	}
	cfg, err := config.Load(*path, env.lookupEnv)
	if err != nil {
		fmt.Fprintf(env.stderr, "mcpgate serve: %s:\n%v\n", *path, err)
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
