package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/clientip"
	"github.com/mcpgate/mcpgate/internal/clientmeta"
	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/extauth"
	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/metrics"
	"github.com/mcpgate/mcpgate/internal/proxy"
	"github.com/mcpgate/mcpgate/internal/ratelimit"
	"github.com/mcpgate/mcpgate/internal/seal"
	"github.com/mcpgate/mcpgate/internal/storage"
)

// Options are what the caller (cmd/mcpgate or a test) supplies besides the
// configuration.
type Options struct {
	// Version is reported by /metrics (build_info) and in logs.
	Version string
	// LogOutput receives the operational log. Default os.Stderr.
	LogOutput io.Writer
	// AuditStdout receives audit events when audit.stdout is on. Default os.Stdout.
	AuditStdout io.Writer
	// Now is the clock of every time-based decision (token lifetimes, key
	// rotation, sessions, garbage collection). Default time.Now.
	Now func() time.Time
	// ExtraConnectors are login connectors added after the configured
	// identity providers: tests use them for an upstream IdP without a
	// network.
	ExtraConnectors []login.Connector
	// CIMDResolver and CIMDDial replace the client ID metadata document
	// fetcher's DNS resolver and TCP dialler (SPEC AS-7): attack tests use
	// them to answer with private or changing addresses and to see what
	// the fetcher dials. Nil means the system's.
	CIMDResolver clientmeta.Resolver
	CIMDDial     func(ctx context.Context, network, address string) (net.Conn, error)
}

// Server is a running gateway: its parts and its HTTP servers.
type Server struct {
	cfg     *config.Config
	opts    Options
	log     *slog.Logger
	store   storage.Store
	audit   audit.Recorder
	metrics *metrics.Registry
	handler http.Handler
	// tls is the server's TLS configuration, nil when it serves plain HTTP.
	tls *tls.Config
	// metricsLn is the separate metrics listener (metrics.listen), bound in
	// New so a taken port stops start-up; nil when metrics share the main
	// listener.
	metricsLn net.Listener
	// clientIPs resolves client addresses through trusted_proxies.
	clientIPs *clientip.Resolver
	// seal and auth are the authorization server (SPEC section 4).
	seal *seal.Keyring
	auth *authServer
	// proxy serves the upstreams (SPEC section 6); closers stop what it
	// started (stdio children).
	proxy   *proxy.Proxy
	closers []io.Closer
	// external are the verifiers of resource-server-only routes; their
	// key refresh runs in RunBackground.
	external []*extauth.Verifier
	// limits are the rate limits (SPEC RL-1); redis is their shared
	// backend's connection, nil without redis.url.
	limits *ratelimit.Guard
	redis  *redis.Client

	closeOnce sync.Once
}

// New builds every part of the gateway from a validated configuration. On
// error nothing is left open.
func New(ctx context.Context, cfg *config.Config, opts Options) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	opts = opts.withDefaults()
	s := &Server{cfg: cfg, opts: opts, log: newLogger(cfg.Logging, opts.LogOutput)}
	s.metrics = metrics.New(opts.Version)
	ips, err := clientip.New(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	s.clientIPs = ips
	// Load the certificate before anything is opened or announced: a bad
	// file must stop start-up, not surface after "started".
	if cfg.TLS.Enabled() {
		certs, err := newCertReloader(cfg.TLS, opts.Now, s.log)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		s.tls = certs.tlsConfig()
	}

	if addr := cfg.Metrics.Listen; addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("metrics listener: %w", err)
		}
		s.metricsLn = ln
	}
	store, err := openStore(ctx, cfg.Storage)
	if err != nil {
		s.closeMetricsListener()
		return nil, err
	}
	s.store = store

	rec, err := newAuditRecorder(cfg.Audit, opts.AuditStdout, s.metrics)
	if err != nil {
		s.closeMetricsListener()
		store.Close()
		return nil, err
	}
	s.audit = rec
	if s.limits, err = s.buildLimits(); err != nil {
		s.Close()
		return nil, err
	}
	if s.auth, err = s.buildAuth(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if s.proxy, s.closers, err = s.buildProxy(); err != nil {
		s.Close()
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// Handler is the root HTTP handler with every route and middleware mounted.
func (s *Server) Handler() http.Handler { return s.handler }

// Store is the storage backend the server opened (for tests and, later, the
// admin API).
func (s *Server) Store() storage.Store { return s.store }

// routes mounts every endpoint. Each route is instrumented under a fixed
// name so metric labels stay bounded whatever paths clients send.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern, route string, h http.Handler) {
		mux.Handle(pattern, s.metrics.Instrument(route, h))
	}
	handle("GET /healthz", "healthz", http.HandlerFunc(s.healthz))
	handle("GET /readyz", "readyz", http.HandlerFunc(s.readyz))
	if s.cfg.Metrics.Listen == "" {
		handle("GET /metrics", "metrics", s.metrics.Handler())
	}
	for _, r := range s.auth.provider.Routes() {
		handle(r.Pattern, r.Name, r.Handler)
	}
	writeTimeout := time.Duration(s.cfg.Server.WriteTimeout)
	for _, r := range s.proxy.Routes() {
		h := r.Handler
		if r.Stream {
			h = streamDeadlines(writeTimeout, h)
		}
		handle(r.Pattern, r.Name, h)
	}
	handle("/", "not_found", http.HandlerFunc(notFound))
	return chain(mux, securityHeaders(s.hsts()), writeDeadline(writeTimeout), s.recoverPanics, s.logRequests, s.clientIPs.Middleware, withRequestID)
}

// hsts reports whether answers carry Strict-Transport-Security: whenever
// clients reach the gateway over https, served here or by a proxy in
// front (public_url is then https, SPEC HD-3).
func (s *Server) hsts() bool {
	return s.tls != nil || strings.HasPrefix(s.cfg.PublicURL, "https://")
}

// Serve answers requests on ln until ctx is cancelled, then shuts down
// gracefully (bounded by server.shutdown_timeout) and closes every part.
// It returns nil after a clean shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	defer s.Close()
	srv := s.httpServer(s.handler)
	srv.RegisterOnShutdown(s.CloseStreams)
	servers := []*http.Server{srv}
	errc := make(chan error, 2)
	go func() { errc <- s.serveMain(srv, ln) }()

	if s.metricsLn != nil {
		msrv := s.httpServer(chain(s.metrics.Handler(), securityHeaders(false), writeDeadline(time.Duration(s.cfg.Server.WriteTimeout))))
		servers = append(servers, msrv)
		go func() { errc <- ignoreClosed(msrv.Serve(s.metricsLn)) }()
	}

	bgDone := make(chan struct{})
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	go func() { defer close(bgDone); s.RunBackground(bgCtx) }()

	s.record(ctx, audit.Event{Type: audit.ServerStarted, Details: map[string]any{"addr": ln.Addr().String(), "version": s.opts.Version}})
	s.log.Info("mcpgate started", "addr", ln.Addr().String(), "public_url", s.cfg.PublicURL, "storage", s.cfg.Storage.Driver, "version", s.opts.Version)

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-errc:
		runErr = err // a listener failed: shut the rest down
	}
	stopBackground()
	<-bgDone
	shutdownErr := s.shutdown(servers)
	s.record(context.WithoutCancel(ctx), audit.Event{Type: audit.ServerStopped})
	s.log.Info("mcpgate stopped")
	return errors.Join(runErr, shutdownErr)
}

// RunBackground runs the loops that keep this instance current until ctx
// ends: storage garbage collection, signing-key reload and rotation, and
// revocation-log polling. Serve runs it; a caller serving Handler itself
// (tests) runs it alongside.
func (s *Server) RunBackground(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { s.auth.run(ctx) })
	for _, v := range s.external {
		wg.Go(func() { v.Run(ctx) })
	}
	s.collectGarbage(ctx, gcInterval)
	wg.Wait()
}

func (s *Server) serveMain(srv *http.Server, ln net.Listener) error {
	if s.tls != nil {
		srv.TLSConfig = s.tls
		ln = tls.NewListener(ln, s.tls)
	}
	err := srv.Serve(ln)
	return ignoreClosed(err)
}

// ignoreClosed maps the error Serve returns after Shutdown to nil.
func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// shutdown stops accepting connections and waits for in-flight requests,
// up to server.shutdown_timeout; after that, connections are cut.
func (s *Server) shutdown(servers []*http.Server) error {
	timeout := time.Duration(s.cfg.Server.ShutdownTimeout)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var errs []error
	for _, srv := range servers {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("graceful shutdown: %w", err))
			srv.Close()
		}
	}
	return errors.Join(errs...)
}

// httpServer applies the configured limits. There is no WriteTimeout on
// purpose: it would cut long-lived SSE streams; slow senders are bounded
// by ReadHeaderTimeout (slowloris), ReadTimeout and IdleTimeout, and slow
// readers by the per-answer write deadlines (deadlines.go).
func (s *Server) httpServer(h http.Handler) *http.Server {
	c := s.cfg.Server
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: time.Duration(c.ReadHeaderTimeout),
		ReadTimeout:       time.Duration(c.ReadTimeout),
		IdleTimeout:       time.Duration(c.IdleTimeout),
		MaxHeaderBytes:    c.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// CloseStreams ends the proxy's open GET streams, so a graceful shutdown
// does not wait for streams that never end by themselves. Serve calls it
// when shutdown starts; a test server calls it before closing.
func (s *Server) CloseStreams() { s.proxy.CloseStreams() }

// Close releases the audit sinks and the store. Serve calls it; calling it
// again is harmless.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.closeMetricsListener()
		for _, c := range s.closers {
			err = errors.Join(err, c.Close())
		}
		if s.redis != nil {
			err = errors.Join(err, s.redis.Close())
		}
		err = errors.Join(err, s.audit.Close(), s.store.Close())
	})
	return err
}

// closeMetricsListener releases the metrics port when Serve never ran (a
// listener already closed by Shutdown just reports that, harmlessly).
func (s *Server) closeMetricsListener() {
	if s.metricsLn != nil {
		s.metricsLn.Close()
	}
}

// record writes an audit event; a failing sink is logged, never fatal to
// the request that caused the event.
func (s *Server) record(ctx context.Context, e audit.Event) {
	if err := s.audit.Record(ctx, e); err != nil {
		s.log.Error("audit sink failed", "type", string(e.Type), "err", err)
	}
}

func (o Options) withDefaults() Options {
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.LogOutput == nil {
		o.LogOutput = stderr
	}
	if o.AuditStdout == nil {
		o.AuditStdout = stdout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
