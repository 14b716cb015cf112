package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every metric mcpgate defines.
const namespace = "mcpgate"

// Registry is mcpgate's metrics: a private prometheus.Registry and the
// metrics the composition root records directly. It is never the global
// prometheus.DefaultRegisterer: two servers in one test process (or one
// process) must not share or collide on series.
type Registry struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	auditEvents  *prometheus.CounterVec
}

// New builds a registry with the Go runtime and process collectors, the
// HTTP and audit metrics, and mcpgate_build_info reporting version.
func New(version string) *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	r.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	r.registerHTTP()
	r.registerAudit()
	r.registerBuildInfo(version)
	return r
}

// Registerer is where other packages' constructors register their own
// collectors (token counts, proxy latency, key age).
func (r *Registry) Registerer() prometheus.Registerer { return r.reg }

// Gatherer exposes the collected metrics, for tests and custom exporters.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// maxScrapesInFlight bounds concurrent /metrics requests. Gathering walks
// every collector and allocates; on the main listener an unauthenticated
// client could otherwise pin CPU with parallel scrapes. Prometheus itself
// never scrapes one target concurrently, so a small number costs nothing.
const maxScrapesInFlight = 4

// Handler serves the registry in the Prometheus exposition format (SPEC
// OP-1). Extra concurrent scrapes get 503.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{
		Registry:            r.reg, // counts the handler's own errors
		MaxRequestsInFlight: maxScrapesInFlight,
	})
}

func (r *Registry) registerBuildInfo(version string) {
	if version == "" {
		version = "unknown"
	}
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: namespace,
		Name:      "build_info",
		Help:      "Always 1; the version label says which mcpgate build is running.",
	}, []string{"version"})
	g.WithLabelValues(version).Set(1)
	r.reg.MustRegister(g)
}

func (r *Registry) registerAudit() {
	r.auditEvents = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace,
		Name:      "audit_events_total",
		Help:      "Security events recorded, by type (SPEC AU-1).",
	}, []string{"type"})
	r.reg.MustRegister(r.auditEvents)
}

// AuditEvent counts one recorded security event. eventType must come from
// the audit catalogue (audit.EventType), never from request data: each
// distinct value creates a series, so free text would let a client grow
// the registry without bound.
func (r *Registry) AuditEvent(eventType string) {
	r.auditEvents.WithLabelValues(eventType).Inc()
}
