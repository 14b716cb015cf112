package server

import (
	"io"
	"log/slog"
	"os"

	"github.com/mcpgate/mcpgate/internal/config"
)

// Process streams, kept as variables so Options can default to them.
var (
	stdout io.Writer = os.Stdout
	stderr io.Writer = os.Stderr
)

// newLogger builds the operational logger from logging.format and
// logging.level (validated by config).
func newLogger(c config.Logging, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(c.Level)) // validated: debug|info|warn|error
	hopts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, hopts))
	}
	return slog.New(slog.NewJSONHandler(w, hopts))
}
