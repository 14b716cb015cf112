package server

import (
	"context"
	"net/http"
	"time"
)

// readyTimeout bounds the readiness probe's store check so a hung database
// makes the probe fail instead of hang.
const readyTimeout = 2 * time.Second

type healthBody struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks,omitempty"`
}

// healthz is liveness: the process is up and serving HTTP.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, healthBody{Status: "ok"})
}

// readyz is readiness: the store answers, the signing keys are loaded and
// the revocation cache is fresh; Redis, when configured, is reported but
// never makes the instance unready (redisStatus). The cause of a failure is logged
// with the request ID; the probe's body says only which check failed.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Error("readiness: storage unavailable", "request_id", RequestID(r.Context()), "err", err)
		writeJSON(w, http.StatusServiceUnavailable, healthBody{Status: "unavailable", Checks: map[string]string{"storage": "unavailable"}})
		return
	}
	checks := map[string]string{"storage": "ok", "keys": "ok", "revocations": "ok"}
	ready := true
	if s.redis != nil {
		checks["redis"] = s.redisStatus(ctx)
	}
	if !s.auth.keys.Ready() {
		checks["keys"], ready = "unavailable", false
	}
	// A revocation cache that stopped refreshing would let revoked tokens
	// through on this instance (SPEC AS-5a): take it out of rotation.
	if last := s.auth.revocations.LastRefresh(); s.opts.Now().Sub(last) > revocationStaleAfter {
		checks["revocations"], ready = "stale", false
	}
	if !ready {
		writeJSON(w, http.StatusServiceUnavailable, healthBody{Status: "unavailable", Checks: checks})
		return
	}
	writeJSON(w, http.StatusOK, healthBody{Status: "ok", Checks: checks})
}

// revocationStaleAfter: revocation must reach every instance within 5 s
// (SPEC AS-5a); an instance whose cache is older than this cannot promise
// that.
const revocationStaleAfter = 5 * time.Second
