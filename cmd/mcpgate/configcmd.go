package main

import (
	"context"
	"fmt"
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
	path, code, ok := configFlag(env, "config check", args[1:])
	if !ok {
		return code
	}
	if _, ok := loadConfig(env, "config check", path); !ok {
		return 1
	}
	fmt.Fprintf(env.stdout, "%s: configuration is valid\n", path)
	return 0
}
