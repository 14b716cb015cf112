package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/storage"
)

// Shutdown drains: a request in flight when the stop signal arrives still
// gets its whole response, while new connections are refused.
func TestShutdownDrainsInFlightRequests(t *testing.T) {
	s, err := New(context.Background(), testConfig(), Options{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	s.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "finished")
	})
	url, stop := startServe(t, s, "http")

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get(url + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	<-entered

	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	waitRefused(t, url[len("http://"):])
	close(release)

	r := <-got
	if r.err != nil || r.body != "finished" {
		t.Fatalf("in-flight request during shutdown: body %q, err %v; want it to finish", r.body, r.err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Serve returned %v", err)
	}
}

// waitRefused waits until addr refuses connections: the listener is closed,
// so shutdown has begun. It observes that condition; it does not guess a delay.
func waitRefused(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		time.Sleep(time.Millisecond) // back-off between probes of a real condition
	}
	t.Fatal("listener still accepting 5 s after the stop signal")
}

// The HTTP server carries the configured limits; there is no server-wide
// write timeout, which would cut SSE streams (write_timeout is applied per
// answer, deadlines.go).
func TestHTTPServerLimits(t *testing.T) {
	cfg := testConfig()
	cfg.Server = config.Server{
		ReadHeaderTimeout: config.Duration(3 * time.Second),
		ReadTimeout:       config.Duration(7 * time.Second),
		IdleTimeout:       config.Duration(11 * time.Second),
		ShutdownTimeout:   config.Duration(13 * time.Second),
		MaxHeaderBytes:    4096,
		WriteTimeout:      config.Duration(17 * time.Second),
		MaxStreamsPerUser: 3,
	}
	ts := newTestServer(t, func(c *config.Config) { c.Server = cfg.Server })
	srv := ts.httpServer(http.NotFoundHandler())
	if srv.ReadHeaderTimeout != 3*time.Second || srv.ReadTimeout != 7*time.Second ||
		srv.IdleTimeout != 11*time.Second || srv.MaxHeaderBytes != 4096 || srv.WriteTimeout != 0 {
		t.Errorf("http.Server limits = header %v read %v idle %v max %d write %v",
			srv.ReadHeaderTimeout, srv.ReadTimeout, srv.IdleTimeout, srv.MaxHeaderBytes, srv.WriteTimeout)
	}
}

// newBubbleServer builds a server without a network listener, for synctest
// bubbles (a goroutine blocked on a socket is never durably blocked).
func newBubbleServer(t *testing.T) *Server {
	t.Helper()
	s, err := New(context.Background(), testConfig(), Options{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The GC loop collects expired records on its interval, judged by the
// server's clock. Run in a synctest bubble, so the interval passes in fake
// time.
func TestGarbageCollectionLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newBubbleServer(t)
		ctx := context.Background()
		now := time.Now()
		code := storage.AuthCode{Hash: []byte("h1"), ClientID: "c", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
		if err := ts.Store().CreateAuthCode(ctx, code); err != nil {
			t.Fatal(err)
		}
		loopCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); ts.collectGarbage(loopCtx, gcInterval) }()

		time.Sleep(gcInterval - time.Second) // fake time: before the first tick
		synctest.Wait()
		if _, err := ts.Store().ConsumeAuthCode(ctx, code.Hash, time.Now()); err != nil {
			t.Fatalf("code collected before the first GC tick: %v", err)
		}
		time.Sleep(time.Second) // the first tick: the code expired 4 minutes ago
		synctest.Wait()
		if _, err := ts.Store().ConsumeAuthCode(ctx, code.Hash, time.Now()); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("expired code still there after a GC tick: %v", err)
		}
		stop()
		<-done
	})
}

// hungStore answers Ping only when its context ends, like a database that
// accepts the connection and never replies.
type hungStore struct{ storage.Store }

func (hungStore) Ping(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// A hung store makes /readyz fail after readyTimeout instead of hanging.
func TestReadyzTimesOutOnHungStore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newBubbleServer(t)
		ts.store = hungStore{ts.store}
		rec := httptest.NewRecorder()
		start := time.Now()
		ts.readyz(rec, httptest.NewRequest("GET", "/readyz", nil))
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("status = %d, want 503", rec.Code)
		}
		if waited := time.Since(start); waited != readyTimeout {
			t.Errorf("probe waited %v, want %v", waited, readyTimeout)
		}
	})
}

// A metrics listener that cannot bind stops New, before anything starts,
// rather than leaving a silently missing endpoint.
func TestNewFailsWhenMetricsPortTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := testConfig()
	cfg.Metrics.Listen = taken.Addr().String()
	_, err = New(context.Background(), cfg, Options{LogOutput: io.Discard})
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "listen" {
		t.Fatalf("New = %v, want the metrics listener's bind error", err)
	}
}

// A certificate that cannot be loaded stops New, before anything starts.
func TestNewRefusesUnloadableTLS(t *testing.T) {
	cfg := testConfig()
	cfg.TLS = config.TLS{CertFile: "/nonexistent/cert.pem", KeyFile: "/nonexistent/key.pem"}
	if _, err := New(context.Background(), cfg, Options{LogOutput: io.Discard}); err == nil {
		t.Fatal("New accepted a TLS configuration whose files do not exist")
	}
}
