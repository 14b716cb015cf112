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
	upstreamURL, stopUpstream, err := server.StartDemoUpstream()
	if err != nil {
		ln.Close()
		return err
	}
	defer stopUpstream()
	d, err := server.NewDemo(dataDir, ln, upstreamURL)
	if err != nil {
		ln.Close()
		return err
	}
	cfg := d.Config
	s, err := server.New(ctx, cfg, serverOptions(env))
	if err != nil {
		ln.Close()
		return err
	}
	printDemo(env, d, dataDir)
	if env.ready != nil {
		env.ready(cfg.PublicURL)
	}
	return s.Serve(ctx, ln)
}

func printDemo(env *cliEnv, d *server.Demo, dataDir string) {
	cfg, w := d.Config, env.stdout
	fmt.Fprintf(w, "mcpgate demo is running at %s\n", cfg.PublicURL)
	fmt.Fprintf(w, "  MCP server URL: %s   <- paste this into your MCP client\n", d.MCPURL)
	fmt.Fprintf(w, "  log in as:      %s / %s\n", server.DemoUser, d.Password)
	fmt.Fprintf(w, "  data directory: %s\n", dataDir)
	fmt.Fprintf(w, "  health:         %s/healthz  %s/readyz\n", cfg.PublicURL, cfg.PublicURL)
	fmt.Fprintf(w, "  OAuth metadata: %s/.well-known/oauth-authorization-server\n", cfg.PublicURL)
	fmt.Fprintf(w, "Tools: echo, add, current_time, whoami (scope %s); reset_counter needs %s,\n", server.DemoScope, server.DemoAdminScope)
	fmt.Fprintln(w, "so calling it makes your client ask you to approve the extra scope (step-up).")
	fmt.Fprintln(w, "Press Ctrl-C to stop.")
}
