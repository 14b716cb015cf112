package main

import (
	"context"
	"fmt"
	"net"

	"github.com/mcpgate/mcpgate/internal/server"
)

func runDemo(ctx context.Context, env *cliEnv, args []string) int {
	fs := newFlagSet(env, "demo", "demo [--addr 127.0.0.1:8080] [--data DIR]")
	addr := fs.String("addr", "127.0.0.1:8080", "loopback `address` to listen on")
	data := fs.String("data", "", "data `directory` (default: mcpgate/demo under the user cache directory)")
	if code, ok := parse(fs, env, args); !ok {
		return code
	}
	if err := demo(ctx, env, *addr, *data); err != nil {
		fmt.Fprintf(env.stderr, "mcpgate demo: %v\n", err)
		return 1
	}
	return 0
}

func demo(ctx context.Context, env *cliEnv, addr, dataDir string) error {
	if dataDir == "" {
		d, err := server.DemoDataDir()
		if err != nil {
			return err
		}
		dataDir = d
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	cfg, err := server.DemoConfig(dataDir, ln)
	if err != nil {
		ln.Close()
		return err
	}
	s, err := server.New(ctx, cfg, serverOptions(env))
	if err != nil {
		ln.Close()
		return err
	}
	fmt.Fprintf(env.stdout, "mcpgate demo is running at %s\n", cfg.PublicURL)
	fmt.Fprintf(env.stdout, "  data directory: %s\n", dataDir)
	fmt.Fprintf(env.stdout, "  health:         %s/healthz  %s/readyz\n", cfg.PublicURL, cfg.PublicURL)
	fmt.Fprintf(env.stdout, "  OAuth metadata: %s/.well-known/oauth-authorization-server\n", cfg.PublicURL)
	fmt.Fprintln(env.stdout, "Press Ctrl-C to stop.")
	if env.ready != nil {
		env.ready(cfg.PublicURL)
	}
	return s.Serve(ctx, ln)
}
