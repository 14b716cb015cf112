package server

import (
	"context"
	"fmt"
	"net"

	"github.com/mcpgate/mcpgate/internal/config"
)

// Run builds the gateway from cfg, listens on cfg.Listen and serves until
// ctx is cancelled (SIGINT/SIGTERM in cmd/mcpgate), then shuts down.
func Run(ctx context.Context, cfg *config.Config, opts Options) error {
	s, err := New(ctx, cfg, opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		s.Close()
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}
