// Package fakeoidc is an OpenID Provider behind httptest (TLS by default,
// so the connector's HTTP client seam is exercised with a test CA):
// discovery,
// JWKS, an authorization endpoint that redirects straight back with a
// code (no login page), token (authorization_code with PKCE S256, and
// refresh_token with rotation: a refresh token dies on use), userinfo and
// RFC 7009 revocation.
//
// Tests switch on misbehaviour through the exported fields (under Lock):
// forged signatures, a wrong audience or nonce, expired ID tokens, 5xx
// answers, error redirects such as access_denied.
package fakeoidc

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// ClientID and ClientSecret are the only client the OP knows.
const (
	ClientID     = "mcpgate-test"
	ClientSecret = "fake-oidc-secret"
)

// User is what the OP says about the signed-in user.
type User struct {
	Subject, Email, Name, PreferredUsername string
	EmailVerified                           bool
	// Groups is the groups claim's value as sent: a []string, a string,
	// or anything else (nil: no claim).
	Groups any
	// InUserinfo moves email and groups from the ID token to the userinfo
	// answer only.
	InUserinfo bool
}

// OP is the fake provider.
type OP struct {
	T      testing.TB
	Server *httptest.Server
	Issuer string

	mu sync.Mutex
	// Behaviour switches; set them through Set.
	User          User
	ForgeSig      bool   // sign ID tokens with a key the JWKS does not hold
	WrongAud      bool   // ID tokens for another client
	WrongNonce    bool   // ID tokens with another nonce
	Expired       bool   // ID tokens that expired an hour ago
	Down          bool   // every endpoint answers 503
	DenyWith      string // the authorization endpoint redirects back with this error
	NoRevocation  bool   // discovery lists no revocation_endpoint
	NoRefresh     bool   // no refresh tokens issued
	UserinfoCalls int
	Refreshes     int // refresh_token grants answered with new tokens

	// UserinfoStatus, when set, is the status the userinfo endpoint
	// answers every request with (401 for a disabled user, 5xx).
	UserinfoStatus int
	// NoUserinfo leaves userinfo_endpoint out of discovery.
	NoUserinfo bool

	// ExpiresIn is the expires_in, in seconds, of access tokens issued
	// from now on; 0 means 3600.
	ExpiresIn int
	// AuthMethods, when set, is the token_endpoint_auth_methods_supported
	// discovery lists, and the token and revocation endpoints accept only
	// those (client_secret_basic, client_secret_post); unset, discovery
	// lists client_secret_basic and both are accepted.
	AuthMethods []string
	// TokenRequests counts every request to the token endpoint;
	// RefreshRequests the refresh_token grants among them with valid
	// client credentials, answered or refused; InvalidGrants those refused
	// with invalid_grant (a dead or reused refresh token).
	TokenRequests, RefreshRequests, InvalidGrants int

	key       *rsa.PrivateKey
	kid       string
	oldKeys   []jose.JSONWebKey // still published after a rotation
	codes     map[string]codeGrant
	refresh   map[string]bool // live refresh tokens
	access    map[string]bool // live access tokens
	issued    []string        // access tokens in the order issued
	revoked   []string
	authorize []url.Values
	n         int
}

type codeGrant struct {
	redirect, challenge, nonce string
}

// New starts an OP over TLS with httptest's certificate (a connector
// needs Client to reach it); it is closed when the test ends.
func New(t testing.TB) *OP { return start(t, true) }

// NewHTTP starts an OP over plain HTTP on loopback, which the config
// accepts as an issuer: a gateway can then build the connector from its
// configuration alone.
func NewHTTP(t testing.TB) *OP { return start(t, false) }

func start(t testing.TB, tls bool) *OP {
	op := &OP{T: t, codes: map[string]codeGrant{}, refresh: map[string]bool{}, access: map[string]bool{},
		User: User{Subject: "user-1", Email: "carol@idp.test", EmailVerified: true, Name: "Carol",
			PreferredUsername: "carol", Groups: []string{"staff"}}}
	op.newKey()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", op.discovery)
	mux.HandleFunc("GET /jwks", op.jwks)
	mux.HandleFunc("GET /authorize", op.authorizeEndpoint)
	mux.HandleFunc("POST /token", op.token)
	mux.HandleFunc("GET /userinfo", op.userinfo)
	mux.HandleFunc("POST /revoke", op.revoke)
	if tls {
		op.Server = httptest.NewTLSServer(op.down(mux))
	} else {
		op.Server = httptest.NewServer(op.down(mux))
	}
	op.Issuer = op.Server.URL
	t.Cleanup(op.Server.Close)
	return op
}

// Client is an HTTP client trusting the OP's certificate.
func (op *OP) Client() *http.Client { return op.Server.Client() }

// Set changes behaviour under the lock.
func (op *OP) Set(f func(*OP)) {
	op.mu.Lock()
	defer op.mu.Unlock()
	f(op)
}

// Rotate replaces the signing key; the old key stays in the JWKS only if
// keepOld.
func (op *OP) Rotate(keepOld bool) {
	op.mu.Lock()
	defer op.mu.Unlock()
	if keepOld {
		op.oldKeys = append(op.oldKeys, jose.JSONWebKey{Key: &op.key.PublicKey, KeyID: op.kid, Algorithm: "RS256", Use: "sig"})
	} else {
		op.oldKeys = nil
	}
	op.newKey()
}

// AuthorizeRequests returns the queries the authorization endpoint got.
func (op *OP) AuthorizeRequests() []url.Values {
	op.mu.Lock()
	defer op.mu.Unlock()
	return append([]url.Values(nil), op.authorize...)
}

// IssuedAccessTokens returns the access tokens issued so far, oldest
// first.
func (op *OP) IssuedAccessTokens() []string {
	op.mu.Lock()
	defer op.mu.Unlock()
	return append([]string(nil), op.issued...)
}

// Revoked returns the tokens revoked through the revocation endpoint.
func (op *OP) Revoked() []string {
	op.mu.Lock()
	defer op.mu.Unlock()
	return append([]string(nil), op.revoked...)
}

// KillRefreshTokens revokes every refresh token (the user was disabled).
func (op *OP) KillRefreshTokens() {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.refresh = map[string]bool{}
}

func (op *OP) newKey() {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		op.T.Fatal(err)
	}
	op.key = k
	op.n++
	op.kid = "key-" + string(rune('0'+op.n%10))
}

func (op *OP) down(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op.mu.Lock()
		down := op.Down
		op.mu.Unlock()
		if down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (op *OP) discovery(w http.ResponseWriter, _ *http.Request) {
	op.mu.Lock()
	defer op.mu.Unlock()
	md := map[string]any{
		"issuer":                                op.Issuer,
		"authorization_endpoint":                op.Issuer + "/authorize",
		"token_endpoint":                        op.Issuer + "/token",
		"userinfo_endpoint":                     op.Issuer + "/userinfo",
		"jwks_uri":                              op.Issuer + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
	}
	if op.AuthMethods != nil {
		md["token_endpoint_auth_methods_supported"] = op.AuthMethods
	}
	if !op.NoRevocation {
		md["revocation_endpoint"] = op.Issuer + "/revoke"
	}
	if op.NoUserinfo {
		delete(md, "userinfo_endpoint")
	}
	writeJSON(w, http.StatusOK, md)
}

func (op *OP) jwks(w http.ResponseWriter, _ *http.Request) {
	op.mu.Lock()
	defer op.mu.Unlock()
	keys := append([]jose.JSONWebKey{{Key: &op.key.PublicKey, KeyID: op.kid, Algorithm: "RS256", Use: "sig"}}, op.oldKeys...)
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: keys})
}

// authorizeEndpoint redirects straight back: with DenyWith's error, or a
// code bound to the redirect URI, the PKCE challenge and the nonce.
func (op *OP) authorizeEndpoint(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	op.mu.Lock()
	defer op.mu.Unlock()
	op.authorize = append(op.authorize, q)
	if q.Get("client_id") != ClientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || q.Get("state") == "" || q.Get("nonce") == "" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	back := url.Values{"state": {q.Get("state")}, "iss": {op.Issuer}}
	if op.DenyWith != "" {
		back.Set("error", op.DenyWith)
	} else {
		code := rand.Text()
		op.codes[code] = codeGrant{redirect: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), nonce: q.Get("nonce")}
		back.Set("code", code)
	}
	http.Redirect(w, r, q.Get("redirect_uri")+"?"+back.Encode(), http.StatusFound)
}

func tokenErr(w http.ResponseWriter, code string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code})
}

// clientAuth reports whether r authenticates the client in a way the OP
// accepts.
func (op *OP) clientAuth(r *http.Request) bool {
	id, secret, basic := r.BasicAuth()
	method := "client_secret_post"
	if basic {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		method = "client_secret_basic"
	} else {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	op.mu.Lock()
	allowed := op.AuthMethods == nil || slices.Contains(op.AuthMethods, method)
	op.mu.Unlock()
	return allowed && id == ClientID && secret == ClientSecret
}

func (op *OP) token(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	op.TokenRequests++
	op.mu.Unlock()
	if !op.clientAuth(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="fake"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	var nonce string
	switch r.PostFormValue("grant_type") {
	case "authorization_code":
		g, ok := op.codes[r.PostFormValue("code")]
		delete(op.codes, r.PostFormValue("code"))
		sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
		if !ok || g.redirect != r.PostFormValue("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			tokenErr(w, "invalid_grant")
			return
		}
		nonce = g.nonce
	case "refresh_token":
		rt := r.PostFormValue("refresh_token")
		op.RefreshRequests++
		if !op.refresh[rt] {
			op.InvalidGrants++
			tokenErr(w, "invalid_grant")
			return
		}
		delete(op.refresh, rt) // rotation: the old one dies on use
		op.Refreshes++
	default:
		tokenErr(w, "unsupported_grant_type")
		return
	}
	access := rand.Text()
	op.access[access] = true
	op.issued = append(op.issued, access)
	expiresIn := op.ExpiresIn
	if expiresIn == 0 {
		expiresIn = 3600
	}
	resp := map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": expiresIn,
		"id_token": op.idToken(nonce)}
	if !op.NoRefresh {
		rt := rand.Text()
		op.refresh[rt] = true
		resp["refresh_token"] = rt
	}
	writeJSON(w, http.StatusOK, resp)
}

// idToken signs the user's ID token, misbehaving as switched on.
func (op *OP) idToken(nonce string) string {
	now := time.Now()
	aud := ClientID
	if op.WrongAud {
		aud = "someone-else"
	}
	if op.WrongNonce {
		nonce = "not-the-nonce"
	}
	exp := now.Add(time.Hour)
	if op.Expired {
		exp = now.Add(-time.Hour)
	}
	c := map[string]any{"iss": op.Issuer, "sub": op.User.Subject, "aud": aud, "iat": now.Unix(), "exp": exp.Unix(),
		"name": op.User.Name, "preferred_username": op.User.PreferredUsername}
	if nonce != "" {
		c["nonce"] = nonce
	}
	if !op.User.InUserinfo {
		c["email"], c["email_verified"] = op.User.Email, op.User.EmailVerified
		if op.User.Groups != nil {
			c["groups"] = op.User.Groups
		}
	}
	key := op.key
	if op.ForgeSig {
		forged, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			op.T.Fatal(err)
		}
		key = forged
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: op.kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		op.T.Fatal(err)
	}
	payload, _ := json.Marshal(c)
	jws, err := signer.Sign(payload)
	if err != nil {
		op.T.Fatal(err)
	}
	s, _ := jws.CompactSerialize()
	return s
}

func (op *OP) userinfo(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	op.mu.Lock()
	defer op.mu.Unlock()
	op.UserinfoCalls++
	if op.UserinfoStatus != 0 {
		if op.UserinfoStatus == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		w.WriteHeader(op.UserinfoStatus)
		return
	}
	if !ok || !op.access[tok] {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	c := map[string]any{"sub": op.User.Subject}
	if op.User.InUserinfo {
		c["email"], c["email_verified"] = op.User.Email, op.User.EmailVerified
		if op.User.Groups != nil {
			c["groups"] = op.User.Groups
		}
	}
	writeJSON(w, http.StatusOK, c)
}

func (op *OP) revoke(w http.ResponseWriter, r *http.Request) {
	if !op.clientAuth(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	tok := r.PostFormValue("token")
	op.mu.Lock()
	defer op.mu.Unlock()
	op.revoked = append(op.revoked, tok)
	delete(op.refresh, tok)
	delete(op.access, tok)
	w.WriteHeader(http.StatusOK)
}

// RefreshCount returns how many refresh_token grants succeeded.
func (op *OP) RefreshCount() int {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.Refreshes
}
