package extauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"go.uber.org/goleak"

	"github.com/mcpgate/mcpgate/internal/testenv/clock"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// t0 is where every test clock starts.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// rsaKeys are generated once per test binary: 2048-bit generation is slow
// under -race.
var rsaKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	keys := make([]*rsa.PrivateKey, 4)
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

func rsaKey(i int) *rsa.PrivateKey { return rsaKeys()[i] }

// Where a fake AS serves its metadata.
const (
	metaSuffixed = iota // {issuer}/.well-known/oauth-authorization-server (Okta)
	metaInserted        // RFC 8414 §3.1
	metaOIDC            // {issuer}/.well-known/openid-configuration
)

// fakeAS is an external authorization server behind httptest: metadata,
// JWKS and introspection, with hit counters and switches for outages.
type fakeAS struct {
	t      testing.TB
	srv    *httptest.Server
	issuer string

	mu         sync.Mutex
	metaAt     int
	metaIssuer string // issuer named in the metadata; default the real one
	noJWKS     bool   // metadata without jwks_uri
	published  []jose.JSONWebKey
	introspect func(token string) map[string]any
	introAuth  []string // "id:secret" of each introspection call
	introQuery []string // raw query of each introspection call

	down       atomic.Bool            // every endpoint answers 503
	introGate  atomic.Pointer[func()] // run by each introspection call before as.mu, so calls can be held concurrently
	metaHits   atomic.Int64
	jwksHits   atomic.Int64
	introHits  atomic.Int64
	jwksServed chan struct{} // one value per JWKS served, dropped when full
}

// newFakeAS starts an AS whose issuer is the server URL plus issuerPath.
func newFakeAS(t testing.TB, issuerPath string, metaAt int) *fakeAS {
	as := &fakeAS{t: t, metaAt: metaAt, jwksServed: make(chan struct{}, 16)}
	as.srv = httptest.NewServer(http.HandlerFunc(as.serve))
	t.Cleanup(as.srv.Close)
	as.issuer = as.srv.URL + issuerPath
	return as
}

// publish replaces the JWKS with the public halves of keys.
func (as *fakeAS) publish(keys ...jose.JSONWebKey) {
	as.mu.Lock()
	defer as.mu.Unlock()
	as.published = keys
}

func rsaJWK(k *rsa.PrivateKey, kid string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"}
}

func (as *fakeAS) metadataPath() string {
	path := strings.TrimPrefix(as.issuer, as.srv.URL)
	switch as.metaAt {
	case metaInserted:
		return "/.well-known/oauth-authorization-server" + strings.TrimSuffix(path, "/")
	case metaOIDC:
		return strings.TrimSuffix(path, "/") + "/.well-known/openid-configuration"
	}
	return strings.TrimSuffix(path, "/") + "/.well-known/oauth-authorization-server"
}

func (as *fakeAS) serve(w http.ResponseWriter, r *http.Request) {
	if as.down.Load() {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if gate := as.introGate.Load(); gate != nil && r.URL.Path == "/introspect" {
		(*gate)()
	}
	as.mu.Lock()
	defer as.mu.Unlock()
	switch r.URL.Path {
	case as.metadataPath():
		as.metaHits.Add(1)
		md := map[string]any{"issuer": as.issuer, "introspection_endpoint": as.srv.URL + "/introspect"}
		if as.metaIssuer != "" {
			md["issuer"] = as.metaIssuer
		}
		if !as.noJWKS {
			md["jwks_uri"] = as.srv.URL + "/keys"
		}
		writeJSON(w, md)
	case "/keys":
		as.jwksHits.Add(1)
		writeJSON(w, jose.JSONWebKeySet{Keys: as.published})
		select {
		case as.jwksServed <- struct{}{}:
		default:
		}
	case "/introspect":
		as.serveIntrospection(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (as *fakeAS) serveIntrospection(w http.ResponseWriter, r *http.Request) {
	as.introHits.Add(1)
	id, secret, _ := r.BasicAuth()
	as.introAuth = append(as.introAuth, id+":"+secret)
	as.introQuery = append(as.introQuery, r.URL.RawQuery)
	if r.Method != http.MethodPost || id != "gateway" || secret != "s3cret" {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	resp := map[string]any{"active": false}
	if as.introspect != nil {
		if m := as.introspect(r.PostFormValue("token")); m != nil {
			resp = m
		}
	}
	writeJSON(w, resp)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// newVerifier builds a Verifier for as on the test clock clk, with
// audience api://mcp and the scp claim (Okta's shape); edit changes opts.
func newVerifier(t testing.TB, as *fakeAS, clk *clock.Clock, edit func(*Options)) *Verifier {
	t.Helper()
	opts := Options{
		Issuer:     as.issuer,
		Audience:   "api://mcp",
		ScopeClaim: "scp",
		HTTPClient: as.srv.Client(),
		Now:        clk.Now,
		Log:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	if edit != nil {
		edit(&opts)
	}
	v, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// oktaClaims are the claims of an Okta custom-AS access token.
func oktaClaims(as *fakeAS, now time.Time) map[string]any {
	return map[string]any{
		"ver": 1, "jti": "AT.k3Jv", "iss": as.issuer, "aud": "api://mcp",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"cid": "0oa1client", "uid": "00u1user", "sub": "alice@acme.com",
		"scp": []string{"mcp:read", "mcp:write"}, "groups": []string{"eng", "oncall"},
	}
}

// signer produces a JWS signature over the signing input.
type signer func(input []byte) []byte

func rs256(k *rsa.PrivateKey) signer {
	return func(in []byte) []byte {
		h := sha256.Sum256(in)
		sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:])
		if err != nil {
			panic(err)
		}
		return sig
	}
}

func es256(k *ecdsa.PrivateKey) signer {
	return func(in []byte) []byte {
		h := sha256.Sum256(in)
		r, s, err := ecdsa.Sign(rand.Reader, k, h[:])
		if err != nil {
			panic(err)
		}
		return append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	}
}

func hs256(secret []byte) signer {
	return func(in []byte) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write(in)
		return m.Sum(nil)
	}
}

func noSignature([]byte) []byte { return nil }

// mint builds a compact JWS by hand, so tests can write any header an
// attacker could, independent of the library under test.
func mint(header, claims map[string]any, sign signer) string {
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(claims)
	return input + "." + base64.RawURLEncoding.EncodeToString(sign([]byte(input)))
}

// oktaToken is a valid Okta-shaped token signed with key under kid.
func oktaToken(as *fakeAS, now time.Time, k *rsa.PrivateKey, kid string) string {
	return mint(map[string]any{"alg": "RS256", "kid": kid, "typ": "JWT"}, oktaClaims(as, now), rs256(k))
}

func newECKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// wantInvalid fails unless err is ErrInvalidToken with reason in its text,
// and checks the error does not repeat the token.
func wantInvalid(t testing.TB, err error, reason, token string) {
	t.Helper()
	if !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("want ErrInvalidToken (%s), got %v", reason, err)
	}
	if !strings.Contains(err.Error(), reason) {
		t.Fatalf("want reason %q, got %q", reason, err)
	}
	if token != "" && strings.Contains(err.Error(), token) {
		t.Fatalf("error repeats the token: %v", err)
	}
}

func mustVerify(t testing.TB, v *Verifier, token string) Claims {
	t.Helper()
	c, err := v.Verify(context.Background(), token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return c
}
