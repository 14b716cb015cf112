package testenv

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/clientmeta"
	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/server"
	"github.com/mcpgate/mcpgate/internal/storage"
)

// Users of the test gateway's local provider ("local"). Their subjects are
// "local:<username>".
const (
	Alice    = "alice" // groups: staff
	Bob      = "bob"   // groups: staff, admins
	Password = "correct horse battery staple"
	// ConfidentialSecret is the secret of the confidential test client.
	ConfidentialSecret = "conf-secret-0123456789abcdefghijklmnop"
)

// Clients pre-registered in the test configuration.
const (
	PublicClient       = "test-public" // redirect http://127.0.0.1/callback (any port), refresh allowed
	ConfidentialClient = "test-conf"   // client_secret_basic, redirect https://app.example/cb
	NoRefreshClient    = "test-norefresh"
)

// Resource paths of the test upstreams. Their resource URIs are
// Gateway.URL + path.
const (
	FilesPath = "/mcp/files" // requires files:read
	AdminPath = "/mcp/admin" // requires admin:all
)

// Options shape a test gateway.
type Options struct {
	// Driver is memory, sqlite (default; a file in t.TempDir()) or postgres
	// (DSN required).
	Driver string
	DSN    string
	// Mutate adjusts the configuration before the server is built.
	Mutate func(*config.Config)
	// Now is the clock of every part; default time.Now.
	Now func() time.Time
	// Listen, when set, reuses this address instead of a fresh port (a
	// restart test keeps public_url).
	Listen string
	// TLS serves the gateway over https with httptest's certificate, so
	// public_url is https and cookies get the __Host- prefix and Secure.
	TLS bool
	// Connectors are extra login connectors (a fake upstream IdP).
	Connectors []login.Connector
	// AuditOutput, when set, receives the audit JSON lines instead of
	// Gateway.Audit (a benchmark discards them, to measure the gateway
	// rather than an ever-growing buffer).
	AuditOutput io.Writer
	// CIMDResolver and CIMDDial replace the CIMD fetcher's resolver and
	// dialler (server.Options): SSRF tests answer DNS themselves and
	// record what is dialled.
	CIMDResolver clientmeta.Resolver
	CIMDDial     func(ctx context.Context, network, address string) (net.Conn, error)
}

// Gateway is a real mcpgate server behind httptest.
type Gateway struct {
	T      testing.TB
	URL    string // public_url, the issuer
	Server *server.Server
	HTTP   *httptest.Server
	Config *config.Config
	Logs   *Buffer
	Audit  *Buffer
}

// Client is an HTTP client that trusts the gateway's certificate (when it
// serves https) and does not follow redirects.
func (g *Gateway) Client() *http.Client {
	return &http.Client{
		Transport:     g.HTTP.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Store is the server's storage backend.
func (g *Gateway) Store() storage.Store { return g.Server.Store() }

// Resource returns the resource URI of an upstream path.
func (g *Gateway) Resource(path string) string { return g.URL + path }

var (
	hashOnce sync.Once
	hashed   string
)

// passwordHash is an argon2id hash of Password with parameters cheap
// enough for tests.
func passwordHash(t testing.TB) string {
	hashOnce.Do(func() {
		h, err := login.HashArgon2idParams(Password, 8<<10, 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		hashed = h
	})
	return hashed
}

// Config returns the test configuration for a gateway at publicURL.
func Config(t testing.TB, publicURL string, o Options) *config.Config {
	key := make([]byte, 32)
	rand.Read(key)
	cfg := config.Default()
	cfg.PublicURL = publicURL
	cfg.Listen = "127.0.0.1:0"
	cfg.Logging.Level = "debug"
	cfg.Secrets = config.Secrets{Keys: []config.SealKey{{ID: "k1", Value: base64.StdEncoding.EncodeToString(key)}}, Active: "k1"}
	switch o.Driver {
	case "", "sqlite":
		cfg.Storage = config.Storage{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "mcpgate.db")}
	default:
		cfg.Storage = config.Storage{Driver: o.Driver, DSN: o.DSN}
	}
	cfg.IdentityProviders = []config.IdentityProvider{{ID: "local", Type: "local", Users: []config.LocalUser{
		{Username: Alice, PasswordHash: passwordHash(t), Email: "alice@example.com", Groups: []string{"staff"}},
		{Username: Bob, PasswordHash: passwordHash(t), Email: "bob@example.com", Groups: []string{"staff", "admins"}},
	}}}
	cfg.Upstreams = []config.Upstream{
		{Name: "files", Path: FilesPath, URL: "http://127.0.0.1:1/mcp", Scopes: []string{"files:read"}},
		{Name: "admin", Path: AdminPath, URL: "http://127.0.0.1:1/mcp", Scopes: []string{"admin:all"}},
	}
	cfg.Scopes = []config.Scope{
		{Name: "files:read", Description: "Read files"},
		{Name: "files:write", Description: "Change files", Implies: []string{"files:read"}},
		{Name: "admin:all", Description: "Administer", Groups: []string{"admins"}},
		{Name: "offline_access", Description: "Stay signed in"},
	}
	cfg.Clients = []config.Client{
		{ClientID: PublicClient, Name: "Test public app", RedirectURIs: []string{"http://127.0.0.1/callback", "cursor://test/callback"}},
		{ClientID: ConfidentialClient, Name: "Test confidential app", ClientSecret: ConfidentialSecret, RedirectURIs: []string{"https://app.example/cb"}},
		{ClientID: NoRefreshClient, RedirectURIs: []string{"http://127.0.0.1/callback"}, GrantTypes: []string{"authorization_code"}},
	}
	if o.Mutate != nil {
		o.Mutate(cfg)
	}
	cfg.ApplyDefaults()
	return cfg
}

// New starts a gateway; it is closed when the test ends.
func New(t testing.TB, o Options) *Gateway {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	if o.Listen != "" {
		ts.Listener.Close()
		ln, err := listen(o.Listen)
		if err != nil {
			t.Fatal(err)
		}
		ts.Listener = ln
	}
	scheme := "http://"
	if o.TLS {
		scheme = "https://"
	}
	cfg := Config(t, scheme+ts.Listener.Addr().String(), o)
	return start(t, ts, cfg, o)
}

// Restart builds a new gateway on the same address and configuration (and
// so the same store), as a process restart would. The old one must be
// closed first.
func (g *Gateway) Restart(t testing.TB, o Options) *Gateway {
	t.Helper()
	ln, err := listen(g.HTTP.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	ts.Listener.Close()
	ts.Listener = ln
	return start(t, ts, g.Config, o)
}

func start(t testing.TB, ts *httptest.Server, cfg *config.Config, o Options) *Gateway {
	t.Helper()
	logs, aud := &Buffer{}, &Buffer{}
	var auditOut io.Writer = aud
	if o.AuditOutput != nil {
		auditOut = o.AuditOutput
	}
	cfg.Audit.Stdout = true
	ctx, cancel := context.WithCancel(context.Background())
	s, err := server.New(ctx, cfg, server.Options{Version: "test", LogOutput: logs, AuditStdout: auditOut, Now: o.Now, ExtraConnectors: o.Connectors,
		CIMDResolver: o.CIMDResolver, CIMDDial: o.CIMDDial})
	if err != nil {
		cancel()
		ts.Listener.Close()
		t.Fatalf("server.New: %v", err)
	}
	ts.Config.Handler = s.Handler()
	// The server limits, as Serve sets them (tests of read timeouts and
	// header sizes must meet the real ones).
	sc := cfg.Server
	ts.Config.ReadHeaderTimeout, ts.Config.ReadTimeout = time.Duration(sc.ReadHeaderTimeout), time.Duration(sc.ReadTimeout)
	ts.Config.IdleTimeout, ts.Config.MaxHeaderBytes = time.Duration(sc.IdleTimeout), sc.MaxHeaderBytes
	if strings.HasPrefix(cfg.PublicURL, "https://") {
		ts.StartTLS()
	} else {
		ts.Start()
	}
	done := make(chan struct{})
	go func() { defer close(done); s.RunBackground(ctx) }()
	g := &Gateway{T: t, URL: cfg.PublicURL, Server: s, HTTP: ts, Config: cfg, Logs: logs, Audit: aud}
	t.Cleanup(func() {
		cancel()
		<-done
		ts.Close()
		s.Close()
		if t.Failed() {
			t.Logf("gateway log:\n%s", logs.String())
		}
	})
	return g
}

// Close stops the gateway early (a restart test). Cleanup still runs.
func (g *Gateway) Close() {
	g.Server.CloseStreams() // open SSE streams would keep HTTP.Close waiting
	g.HTTP.Close()
	g.Server.Close()
}

// Buffer is a goroutine-safe bytes.Buffer for logs and audit output.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

var _ io.Writer = (*Buffer)(nil)

func listen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

// Metric reads one sample (series, labels included, as exposed) from the
// gateway's /metrics; 0 when it is absent.
func (g *Gateway) Metric(t testing.TB, series string) float64 {
	t.Helper()
	resp, err := g.Client().Get(g.HTTP.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", series, err)
			}
			return f
		}
	}
	return 0
}
