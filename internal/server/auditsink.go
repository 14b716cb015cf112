package server

import (
	"context"
	"io"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/metrics"
)

// newAuditRecorder builds the configured audit sinks plus a counter in the
// metrics registry. Multi validates and prepares each event before any sink
// sees it, so only valid event types become metric labels. With no sink
// configured events are still counted.
func newAuditRecorder(c config.Audit, out io.Writer, m *metrics.Registry) (audit.Recorder, error) {
	count := audit.RecorderFunc(func(_ context.Context, e audit.Event) error {
		m.AuditEvent(string(e.Type))
		return nil
	})
	sinks := []audit.Recorder{count}
	if c.File != "" {
		f, err := audit.NewJSONLFile(c.File)
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, f)
	}
	if c.Stdout {
		sinks = append(sinks, audit.NewWriterSink(out))
	}
	return audit.Multi(sinks...), nil
}
