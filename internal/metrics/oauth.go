package metrics

import "github.com/prometheus/client_golang/prometheus"

// OAuth holds the authorization server's counters (SPEC OP-1). Every label
// value comes from a fixed set chosen in code (grant types the AS
// supports, RFC 6749 error codes, revocation reasons), never from request
// data, so the series stay bounded.
type OAuth struct {
	issued  *prometheus.CounterVec
	revoked *prometheus.CounterVec
	reuse   prometheus.Counter
	errors  *prometheus.CounterVec
}

// OAuth registers and returns the authorization-server counters.
func (r *Registry) OAuth() *OAuth {
	o := &OAuth{
		issued: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "tokens_issued_total",
			Help: "Access tokens issued, by grant type (authorization_code is a new grant, refresh_token a refresh).",
		}, []string{"grant_type"}),
		revoked: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "tokens_revoked_total",
			Help: "Grants or tokens revoked, by reason.",
		}, []string{"reason"}),
		reuse: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "refresh_token_reuse_total",
			Help: "Refresh tokens used again outside the grace window (each revoked its family).",
		}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "oauth_errors_total",
			Help: "OAuth error responses, by endpoint and error code.",
		}, []string{"endpoint", "error"}),
	}
	r.reg.MustRegister(o.issued, o.revoked, o.reuse, o.errors)
	return o
}

// TokenIssued counts an access token issued by grantType.
func (o *OAuth) TokenIssued(grantType string) { o.issued.WithLabelValues(grantType).Inc() }

// TokenRevoked counts a revocation for reason.
func (o *OAuth) TokenRevoked(reason string) { o.revoked.WithLabelValues(reason).Inc() }

// RefreshReuse counts a detected refresh-token reuse.
func (o *OAuth) RefreshReuse() { o.reuse.Inc() }

// OAuthError counts an error response.
func (o *OAuth) OAuthError(endpoint, code string) { o.errors.WithLabelValues(endpoint, code).Inc() }
