package main

import (
	"context"
	"fmt"

	"github.com/mcpgate/mcpgate/internal/config"
)

func runConfig(ctx context.Context, env *cliEnv, args []string) int {
	if len(args) == 0 || args[0] != "check" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(env.stdout, "Usage: mcpgate config check --config FILE")
			return 0
		}
		fmt.Fprintln(env.stderr, "Usage: mcpgate config check --config FILE")
		return 2
	}
	fs := newFlagSet(env, "config check", "config check --config FILE")
	path := fs.String("config", "", "path to the YAML configuration `file`")
	if code, ok := parse(fs, env, args[1:]); !ok {
		return code
	}
	if !requireConfig(fs, *path, env.stderr) {
		return 2
	}
	if _, err := config.Load(*path, env.lookupEnv); err != nil {
		fmt.Fprintf(env.stderr, "%s: configuration is invalid:\n%v\n", *path, err)
		return 1
	}
	fmt.Fprintf(env.stdout, "%s: configuration is valid\n", *path)
	return 0
}
