package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// latencyBuckets suit a gateway: most answers take well under a
// millisecond to tens of milliseconds, so DefBuckets (starting at 5 ms)
// would put nearly everything in the first bucket; the top end still
// catches slow upstreams and IdPs.
var latencyBuckets = []float64{
	.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10,
}

func (r *Registry) registerHTTP() {
	r.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace,
		Name:      "http_requests_total",
		Help:      "HTTP requests answered, by route and status code.",
	}, []string{"route", "code"})
	r.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace,
		Name:      "http_request_duration_seconds",
		Help:      "Time from request to the handler's return, by route.",
		Buckets:   latencyBuckets,
	}, []string{"route"})
	r.reg.MustRegister(r.httpRequests, r.httpDuration)
}

// Instrument counts and times h's requests under route.
//
// route is a fixed name chosen by the caller ("token", "authorize",
// "mcp"), never the request's URL path: every distinct label value is a
// new time series held in memory forever, so labelling by raw path would
// let any client exhaust the gateway's memory by requesting random URLs
// (unbounded label cardinality is a DoS vector). The code label is bounded
// by the status codes the handler itself writes.
//
// The wrapper keeps http.Flusher and friends (and Unwrap for
// http.ResponseController), so SSE streams still flush. The duration of a
// streaming route is the stream's lifetime; give streams their own route
// name so they do not distort request latency.
func (r *Registry) Instrument(route string, h http.Handler) http.Handler {
	labels := prometheus.Labels{"route": route}
	duration := r.httpDuration.MustCurryWith(labels)
	// Create the histogram series now, so a route shows up (at zero) on
	// dashboards before its first request.
	duration.WithLabelValues()
	counted := promhttp.InstrumentHandlerCounter(r.httpRequests.MustCurryWith(labels), h)
	return promhttp.InstrumentHandlerDuration(duration, counted)
}
