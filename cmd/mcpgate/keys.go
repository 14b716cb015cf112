package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/mcpgate/mcpgate/internal/server"
)

const keysUsage = "Usage: mcpgate keys list|rotate --config FILE"

// runKeys lists or rotates the signing keys (SPEC OP-4). A rotation
// publishes the new key at once; running instances pick it up from the
// store and it starts signing after the publish-ahead delay.
func runKeys(ctx context.Context, env *cliEnv, args []string) int {
	sub, rest, code, ok := subcommand(env, keysUsage, args, "list", "rotate")
	if !ok {
		return code
	}
	admin, code := openAdmin(ctx, env, "keys "+sub, rest)
	if admin == nil {
		return code
	}
	defer admin.Close()
	if sub == "rotate" {
		k, err := admin.RotateKey(ctx)
		if err != nil {
			fmt.Fprintf(env.stderr, "mcpgate keys rotate: %v\n", err)
			return 1
		}
		fmt.Fprintf(env.stdout, "published key %s (%s); it signs from %s\n", k.ID, k.Algorithm, k.ActiveAt.UTC().Format(time.RFC3339))
		return 0
	}
	list, err := admin.ListKeys(ctx)
	if err != nil {
		fmt.Fprintf(env.stderr, "mcpgate keys list: %v\n", err)
		return 1
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tSTATE\tACTIVE FROM\tRETIRED\tPUBLISHED UNTIL\tPROBLEM")
	for _, k := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, k.State,
			stamp(k.ActiveAt), stamp(k.RetiredAt), stamp(k.ExpiresAt), k.Problem)
	}
	tw.Flush()
	return 0
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// subcommand splits "<sub> [flags]" where sub must be one of allowed.
func subcommand(env *cliEnv, usage string, args []string, allowed ...string) (string, []string, int, bool) {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(env.stdout, usage)
		return "", nil, 0, false
	}
	if len(args) > 0 {
		for _, a := range allowed {
			if args[0] == a {
				return a, args[1:], 0, true
			}
		}
	}
	fmt.Fprintln(env.stderr, usage)
	return "", nil, 2, false
}

// openAdmin loads --config and opens the deployment's store. On failure
// it returns nil and the exit code.
func openAdmin(ctx context.Context, env *cliEnv, name string, args []string) (*server.Admin, int) {
	path, code, ok := configFlag(env, name, args)
	if !ok {
		return nil, code
	}
	cfg, ok := loadConfig(env, name, path)
	if !ok {
		return nil, 1
	}
	admin, err := server.OpenAdmin(ctx, cfg, server.Options{Version: version(), AuditStdout: env.stderr})
	if err != nil {
		fmt.Fprintf(env.stderr, "mcpgate %s: %v\n", name, err)
		return nil, 1
	}
	return admin, 0
}
