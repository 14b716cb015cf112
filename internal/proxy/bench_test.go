package proxy_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/proxy"
	"github.com/mcpgate/mcpgate/internal/storage/memory"
	"github.com/mcpgate/mcpgate/internal/testenv"
	"github.com/mcpgate/mcpgate/internal/tokens"
)

// SPEC §11 benchmarks. Run them side by side, on 2 cores:
//
//	go test -run '^$' -bench 'Proxy|TokenAuth' -benchtime=3s -count=3 -cpu 2 ./internal/proxy/
//
// PF-1 compares BenchmarkProxyCachedToken with BenchmarkReferenceProxy
// (req/s at 32 connections, p50/p99 at 1); PF-3 compares
// BenchmarkTokenAuthHit with 2 µs and BenchmarkTokenAuthMiss/mcpgate with
// BenchmarkTokenAuthMiss/reference-es256.

var (
	// benchCallBody is a 1 KiB JSON-RPC tools/call.
	benchCallBody = padJSON(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"search","arguments":{"query":"%s"}}}`, 1024)
	// benchResult is the upstream's ~1 KiB answer.
	benchResult = padJSON(`{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"%s"}],"isError":false}}`, 1024)
)

// padJSON fills the %s of format so the result is n bytes long.
func padJSON(format string, n int) []byte {
	return fmt.Appendf(nil, format, strings.Repeat("a", n-len(format)+2))
}

// benchUpstream answers every POST with benchResult, as an MCP server
// answers a call with a JSON response.
func benchUpstream(b *testing.B) *httptest.Server {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(benchResult)))
		w.Write(benchResult)
	}))
	b.Cleanup(up.Close)
	return up
}

// poolTransport is an HTTP transport with an idle pool sized for the
// benchmark's 32 connections, so no request pays a dial.
func poolTransport() *http.Transport {
	return &http.Transport{
		MaxIdleConns: 1024, MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second,
		DisableCompression: true,
	}
}

// BenchmarkReferenceProxy is SPEC §11's reference proxy: a bare
// httputil.ReverseProxy with an idle pool sized for the load and
// immediate flushing, in front of the same upstream.
func BenchmarkReferenceProxy(b *testing.B) {
	target, _ := url.Parse(benchUpstream(b).URL)
	rp := &httputil.ReverseProxy{
		Rewrite:       func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		FlushInterval: -1,
		Transport:     poolTransport(),
	}
	front := httptest.NewServer(rp)
	b.Cleanup(front.Close)
	benchLoad(b, front.URL+testenv.FilesPath, "not-checked")
}

// BenchmarkProxyCachedToken is mcpgate's full pipeline (origin, bearer,
// cached verification, inspection, policy, forward) under steady traffic
// with one valid, cached token and no tool rules (SPEC PF-1).
func BenchmarkProxyCachedToken(b *testing.B) {
	up := benchUpstream(b)
	g, tok := benchGateway(b, up.URL)
	benchLoad(b, g.URL+testenv.FilesPath, tok)
}

// benchGateway starts the gateway the PF-1 benchmarks measure, in front of
// upstream, and returns it with a day-long access token for alice. The
// MCP rate limits stay on (each request still pays their check) at rates
// one user's benchmark load never reaches.
func benchGateway(b *testing.B, upstream string) (*testenv.Gateway, string) {
	g := testenv.New(b, testenv.Options{AuditOutput: io.Discard, Mutate: func(c *config.Config) {
		c.Upstreams[0].URL = upstream
		c.Logging.Level = "error"
		c.Signing.AccessTokenTTL = config.Duration(24 * time.Hour)
		liftMCPLimits(c)
	}})
	_, rep := g.Tokens(g.NewBrowser(), testenv.PublicClient, g.URL+testenv.FilesPath, testenv.Alice)
	return g, rep.Get("access_token")
}

// liftMCPLimits keeps the MCP rate limits on (their cost stays in the
// measured path) at a rate no benchmark or fuzzing run reaches.
func liftMCPLimits(c *config.Config) {
	c.RateLimits.MCPUser = config.RateLimit{Rate: "1000000/s", Burst: 1000000}
	c.RateLimits.MCPUserTool = config.RateLimit{Rate: "1000000/s", Burst: 1000000}
}

// benchLoad runs the PF-1 load against target: 32 concurrent clients,
// and 1 client for latency.
func benchLoad(b *testing.B, target, tok string) {
	client := &http.Client{Transport: poolTransport()}
	b.Cleanup(client.CloseIdleConnections)
	if err := benchPost(client, target, tok); err != nil { // warm: verify and cache the token
		b.Fatal(err)
	}
	b.Run("conns=32", func(b *testing.B) {
		// RunParallel starts parallelism × GOMAXPROCS goroutines: 16 × 2.
		b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
		runLoad(b, func(record func(time.Duration)) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					t0 := time.Now()
					if err := benchPost(client, target, tok); err != nil {
						b.Error(err)
						return
					}
					record(time.Since(t0))
				}
			})
		})
	})
	b.Run("conns=1", func(b *testing.B) {
		runLoad(b, func(record func(time.Duration)) {
			for range b.N {
				t0 := time.Now()
				if err := benchPost(client, target, tok); err != nil {
					b.Fatal(err)
				}
				record(time.Since(t0))
			}
		})
	})
}

// runLoad times run and reports throughput and latency percentiles.
func runLoad(b *testing.B, run func(record func(time.Duration))) {
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	record := func(d time.Duration) {
		mu.Lock()
		lat = append(lat, d)
		mu.Unlock()
	}
	b.ResetTimer()
	cpu0 := processCPU(b)
	start := time.Now()
	run(record)
	elapsed := time.Since(start)
	cpu := processCPU(b) - cpu0
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
	// CPU time of the whole process (load generator, proxy and upstream)
	// per request. On 2 saturated cores throughput is 2 s / this, and
	// unlike req/s it barely moves when another process shares the
	// machine, so it shows a change in the proxy's cost through noise.
	b.ReportMetric(float64(cpu.Microseconds())/float64(len(lat)), "cpu-µs/req")
}

// processCPU is the user and system CPU time this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchPost(client *http.Client, target, tok string) error {
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(benchCallBody))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || n != int64(len(benchResult)) {
		return fmt.Errorf("status %d, %d bytes", resp.StatusCode, n)
	}
	return nil
}

// benchKeys is an in-test ES256 tokens.KeySource.
type benchKeys struct {
	priv   *ecdsa.PrivateKey
	signer jose.Signer
}

const benchKID = "bench-es256"

func newBenchKeys(b *testing.B) *benchKeys {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256,
		Key: jose.JSONWebKey{Key: priv, KeyID: benchKID, Algorithm: "ES256", Use: "sig"}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(tokens.TypeAccessToken)))
	if err != nil {
		b.Fatal(err)
	}
	return &benchKeys{priv: priv, signer: s}
}

func (k *benchKeys) Sign(payload []byte, _ string) (string, error) {
	obj, err := k.signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return obj.CompactSerialize()
}

func (k *benchKeys) PublicKey(kid string) (jose.JSONWebKey, bool) {
	return jose.JSONWebKey{Key: &k.priv.PublicKey, KeyID: benchKID, Algorithm: "ES256", Use: "sig"}, kid == benchKID
}

const benchResource = "https://mcp.example.com/mcp/files"

// benchToken returns a verifier with a ready revocation cache and a
// token for benchResource it accepts.
func benchToken(b *testing.B) (*tokens.Verifier, *benchKeys, string) {
	keys := newBenchKeys(b)
	rc := tokens.NewRevocationCache(memory.New(), tokens.CacheOptions{})
	if err := rc.Refresh(b.Context()); err != nil {
		b.Fatal(err)
	}
	const iss = "https://mcp.example.com"
	tok, _, err := (&tokens.Minter{Issuer: iss, Keys: keys}).Mint(tokens.Grant{
		Subject: "local:alice", ClientID: "client-a", Resource: benchResource, FamilyID: "fam-1",
		ProviderID: "local", Scopes: []string{"files:read"}, Groups: []string{"staff"},
	})
	if err != nil {
		b.Fatal(err)
	}
	return &tokens.Verifier{Issuer: iss, Keys: keys, Revoked: rc}, keys, tok
}

// BenchmarkTokenAuthHit is a verification-cache hit (SPEC PF-3: at most
// 2 µs per request): hash, cache lookup, expiry and revocation checks.
func BenchmarkTokenAuthHit(b *testing.B) {
	ver, _, tok := benchToken(b)
	auth := proxy.NewTokenAuth(ver, benchResource, nil, nil)
	ctx := b.Context()
	if _, err := auth.Authenticate(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := auth.Authenticate(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := auth.Authenticate(ctx, tok); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkTokenAuthMiss is a token the cache does not hold, beside SPEC
// PF-3's reference verify (stdlib ES256 over the same token, no header or
// claim checks); the miss may cost at most 1.15x the reference. The cache
// is given a clock past the token's expiry, so every call misses and
// verifies (the verifier keeps the real clock and accepts the token):
// the same work as a new token, without minting one per iteration.
func BenchmarkTokenAuthMiss(b *testing.B) {
	ver, keys, tok := benchToken(b)
	ctx := b.Context()
	b.Run("mcpgate", func(b *testing.B) {
		late := time.Now().Add(48 * time.Hour)
		auth := proxy.NewTokenAuth(ver, benchResource, nil, func() time.Time { return late })
		b.ReportAllocs()
		for b.Loop() {
			if _, err := auth.Authenticate(ctx, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reference-es256", func(b *testing.B) {
		pub := &keys.priv.PublicKey
		b.ReportAllocs()
		for b.Loop() {
			i := strings.LastIndexByte(tok, '.')
			sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
			if err != nil || len(sig) != 64 {
				b.Fatal("bad signature encoding")
			}
			sum := sha256.Sum256([]byte(tok[:i]))
			r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
			if !ecdsa.Verify(pub, sum[:], r, s) {
				b.Fatal("reference verify failed")
			}
		}
	})
}

// BenchmarkOverhead calls mcpgate's whole HTTP handler (middleware and
// pipeline) and the bare reference ReverseProxy in process, one request
// at a time, both forwarding to the same loopback upstream. The
// difference of the two ns/op is the gateway's own cost per request,
// without the load generator's network stack: the figure to drive down
// for PF-1, which that cost decides on 2 saturated cores.
func BenchmarkOverhead(b *testing.B) {
	up := benchUpstream(b)
	target, _ := url.Parse(up.URL)
	ref := &httputil.ReverseProxy{
		Rewrite:       func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		FlushInterval: -1,
		Transport:     poolTransport(),
	}
	g, tok := benchGateway(b, up.URL)
	for _, c := range []struct {
		name string
		h    http.Handler
	}{{"reference", ref}, {"mcpgate", g.Server.Handler()}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, g.URL+testenv.FilesPath, bytes.NewReader(benchCallBody))
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				w := httptest.NewRecorder()
				c.h.ServeHTTP(w, req)
				if w.Code != http.StatusOK || w.Body.Len() != len(benchResult) {
					b.Fatalf("status %d, %d bytes: %s", w.Code, w.Body.Len(), w.Body.Bytes())
				}
			}
		})
	}
}

// BenchmarkPF1 measures SPEC PF-1 as one figure: mcpgate (as in
// BenchmarkProxyCachedToken) against the reference proxy, in alternating
// short rounds within one run, so that a slow spell of a shared machine
// falls on both sides alike instead of on whichever benchmark ran then.
// Run it once:
//
//	go test -run '^$' -bench '^BenchmarkPF1$' -benchtime=1x ./internal/proxy/
//
// It reports both throughputs at 32 connections and their ratio (target
// >= 0.95), and p50/p99 at 1 connection with their ratios (targets <= 1.10
// and <= 1.25).
func BenchmarkPF1(b *testing.B) {
	up := benchUpstream(b)
	target, _ := url.Parse(up.URL)
	ref := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite:       func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		FlushInterval: -1,
		Transport:     poolTransport(),
	})
	b.Cleanup(ref.Close)
	g, tok := benchGateway(b, up.URL)
	sides := [2]struct {
		name, url, tok string
		elapsed        time.Duration
		n              int
		lat            []time.Duration
	}{
		{name: "reference", url: ref.URL + testenv.FilesPath, tok: "not-checked"},
		{name: "mcpgate", url: g.URL + testenv.FilesPath, tok: tok},
	}
	client := &http.Client{Transport: poolTransport()}
	b.Cleanup(client.CloseIdleConnections)
	const rounds, perRound, serialPerRound, conns = 20, 2000, 300, 32
	for range b.N {
		for round := range rounds + 1 {
			for i := range sides {
				s := &sides[(round+i)%2] // alternate which side goes first
				// 32 connections: perRound requests shared by 32 workers.
				var next sync.WaitGroup
				var failed error
				var mu sync.Mutex
				work := make(chan struct{}, perRound)
				for range perRound {
					work <- struct{}{}
				}
				close(work)
				t0 := time.Now()
				for range conns {
					next.Go(func() {
						for range work {
							if err := benchPost(client, s.url, s.tok); err != nil {
								mu.Lock()
								failed = err
								mu.Unlock()
								return
							}
						}
					})
				}
				next.Wait()
				d := time.Since(t0)
				if failed != nil {
					b.Fatalf("%s: %v", s.name, failed)
				}
				// 1 connection: latency of serial requests.
				lat := make([]time.Duration, 0, serialPerRound)
				for range serialPerRound {
					t := time.Now()
					if err := benchPost(client, s.url, s.tok); err != nil {
						b.Fatalf("%s: %v", s.name, err)
					}
					lat = append(lat, time.Since(t))
				}
				if round == 0 {
					continue // warm-up: connections, caches, the token
				}
				s.elapsed += d
				s.n += perRound
				s.lat = append(s.lat, lat...)
			}
		}
	}
	pct := func(lat []time.Duration, p float64) float64 {
		slices.Sort(lat)
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds())
	}
	rps := func(i int) float64 { return float64(sides[i].n) / sides[i].elapsed.Seconds() }
	b.ReportMetric(rps(0), "ref-req/s")
	b.ReportMetric(rps(1), "mcpgate-req/s")
	b.ReportMetric(rps(1)/rps(0), "throughput-ratio")
	p50r, p50m := pct(sides[0].lat, 0.5), pct(sides[1].lat, 0.5)
	p99r, p99m := pct(sides[0].lat, 0.99), pct(sides[1].lat, 0.99)
	b.ReportMetric(p50r, "ref-p50-µs")
	b.ReportMetric(p50m, "mcpgate-p50-µs")
	b.ReportMetric(p50m/p50r, "p50-ratio")
	b.ReportMetric(p99r, "ref-p99-µs")
	b.ReportMetric(p99m, "mcpgate-p99-µs")
	b.ReportMetric(p99m/p99r, "p99-ratio")
}
