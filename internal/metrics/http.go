package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
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
// The wrapper keeps http.Flusher (and Unwrap for http.ResponseController),
// so SSE streams still flush. The duration of a
// streaming route is the stream's lifetime; give streams their own route
// name so they do not distort request latency.
//
// It is written here rather than taken from promhttp, whose two wrappers
// build a label map and look series up by it on every request: this runs
// on every proxied MCP call (SPEC PF-1), so the series are resolved once,
// the status code's counter once per code.
func (r *Registry) Instrument(route string, h http.Handler) http.Handler {
	duration := r.httpDuration.WithLabelValues(route) // exists at zero from now on
	byCode := r.httpRequests.MustCurryWith(prometheus.Labels{"route": route})
	var counters sync.Map // status code -> prometheus.Counter
	count := func(code int) {
		c, ok := counters.Load(code)
		if !ok {
			c, _ = counters.LoadOrStore(code, byCode.WithLabelValues(strconv.Itoa(code)))
		}
		c.(prometheus.Counter).Inc()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		start := time.Now()
		sw := &StatusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, req)
		duration.Observe(time.Since(start).Seconds())
		count(sw.Code())
	})
}

// StatusWriter remembers the status code the handler sent, for metrics
// and the access log. Flush and Unwrap keep streaming (SSE) and
// http.ResponseController working through it.
type StatusWriter struct {
	http.ResponseWriter
	status int
}

func (w *StatusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 { // 1xx are interim, not the answer
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *StatusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Code is the status the client got: 200 when the handler wrote nothing.
// The code label's values are bounded by the codes handlers write.
func (w *StatusWriter) Code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
