// Package fakegithub is a fake GitHub (web OAuth endpoints and the REST API
// a login needs) behind httptest, with users a test controls, Link-header
// pagination and a failure mode. Tests of the github connector point both
// its web and API URLs at it, as at a GitHub Enterprise server.
package fakegithub

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The OAuth app the fake knows.
const (
	ClientID     = "Iv1.fakeclient"
	ClientSecret = "fake-client-secret-0123456789"
)

// APIPrefix is where the REST API is served, as on GitHub Enterprise
// Server (<web>/api/v3).
const APIPrefix = "/api/v3"

// User is an account at the fake.
type User struct {
	ID     int64
	Login  string
	Name   string
	Emails []Email
	Orgs   []string // org logins
	Teams  []string // "org/team-slug"
}

// Email is one of a user's addresses (GET /user/emails).
type Email struct {
	Email    string `json:"email"`
	Primary  bool   `json:"primary"`
	Verified bool   `json:"verified"`
}

// Failure selects what the fake fails with 502.
type Failure int

const (
	FailNone  Failure = iota
	FailAll           // every endpoint
	FailAPI           // the REST API only; OAuth endpoints still work
	FailToken         // the token endpoint only
)

type codeGrant struct {
	user                   int64
	challenge, redirectURI string
}

type tokenGrant struct {
	user    int64
	refresh bool
}

// Server is a running fake.
type Server struct {
	*httptest.Server
	// PageSize is the page size of list endpoints (default 2, so tests
	// with three or more items see several pages).
	PageSize int
	// TokenTTL, when set, makes the fake issue expiring tokens with a
	// refresh token, as a GitHub App with expiring user tokens does.
	TokenTTL time.Duration

	mu       sync.Mutex
	users    map[int64]*User
	loginAs  int64
	deny     bool
	failure  Failure
	forbid   []string
	codes    map[string]codeGrant
	tokens   map[string]tokenGrant
	requests []string
	revoked  []int64
}

// New starts a fake that lives as long as the test.
func New(t testing.TB) *Server {
	s := &Server{PageSize: 2, users: map[int64]*User{}, codes: map[string]codeGrant{}, tokens: map[string]tokenGrant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/oauth/authorize", s.authorize)
	mux.HandleFunc("POST /login/oauth/access_token", s.accessToken)
	mux.HandleFunc("GET "+APIPrefix+"/user", s.api(s.user))
	mux.HandleFunc("GET "+APIPrefix+"/user/emails", s.api(s.emails))
	mux.HandleFunc("GET "+APIPrefix+"/user/orgs", s.api(s.orgs))
	mux.HandleFunc("GET "+APIPrefix+"/user/teams", s.api(s.teams))
	mux.HandleFunc("DELETE "+APIPrefix+"/applications/{client}/grant", s.revokeGrant)
	s.Server = httptest.NewServer(s.record(mux))
	t.Cleanup(s.Close)
	return s
}

// WebURL is the base of /login/oauth/*; APIURL the REST API's.
func (s *Server) WebURL() string { return s.URL }
func (s *Server) APIURL() string { return s.URL + APIPrefix }

// SetUser adds or replaces a user (by ID).
func (s *Server) SetUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = &u
}

// DeleteUser removes a user; their tokens then get 401.
func (s *Server) DeleteUser(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.users, id)
}

// LoginAs chooses who approves the next authorizations.
func (s *Server) LoginAs(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loginAs = id
}

// Deny makes authorizations end with error=access_denied.
func (s *Server) Deny(deny bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deny = deny
}

// Fail sets the failure mode.
func (s *Server) Fail(f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failure = f
}

// Forbid makes these API paths ("/user/emails") answer 403, as for a
// token without the scope; no arguments lifts it.
func (s *Server) Forbid(paths ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forbid = paths
}

// Requests returns "METHOD path?query" of every request so far.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// RevokedGrants returns the users whose grant was deleted.
func (s *Server) RevokedGrants() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.revoked)
}

// Authorize plays the browser: it follows loginURL to the fake's authorize
// endpoint and returns the query of the redirect back to the callback.
func (s *Server) Authorize(t testing.TB, loginURL string) url.Values {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(loginURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("authorize: status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query()
}

func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Method+" "+r.URL.RequestURI())
		f := s.failure
		forbidden := slices.Contains(s.forbid, strings.TrimPrefix(r.URL.Path, APIPrefix))
		s.mu.Unlock()
		if forbidden && strings.HasPrefix(r.URL.Path, APIPrefix+"/") {
			writeJSON(w, http.StatusForbidden, map[string]string{"message": "Resource not accessible by integration"})
			return
		}
		if f == FailAll || (f == FailAPI && strings.HasPrefix(r.URL.Path, APIPrefix+"/")) ||
			(f == FailToken && r.URL.Path == "/login/oauth/access_token") {
			http.Error(w, `{"message":"Server Error"}`, http.StatusBadGateway)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if q.Get("client_id") != ClientID || err != nil || redirect.Host == "" {
		http.Error(w, "bad client or redirect_uri", http.StatusBadRequest)
		return
	}
	back := url.Values{"state": {q.Get("state")}}
	s.mu.Lock()
	switch {
	case s.deny:
		back.Set("error", "access_denied")
		back.Set("error_description", "The user has denied your application access.")
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		back.Set("error", "invalid_request")
	default:
		code := random()
		s.codes[code] = codeGrant{user: s.loginAs, challenge: q.Get("code_challenge"), redirectURI: q.Get("redirect_uri")}
		back.Set("code", code)
	}
	s.mu.Unlock()
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// accessToken answers errors with 200 and an "error" member, as GitHub
// does (form-encoded unless JSON is asked for, see writeToken).
func (s *Server) accessToken(w http.ResponseWriter, r *http.Request) {
	if r.ParseForm() != nil || r.PostForm.Get("client_id") != ClientID ||
		subtle.ConstantTimeCompare([]byte(r.PostForm.Get("client_secret")), []byte(ClientSecret)) != 1 {
		writeToken(w, r, map[string]any{"error": "incorrect_client_credentials"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var user int64
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code := r.PostForm.Get("code")
		g, ok := s.codes[code]
		delete(s.codes, code) // single use, whatever happens next
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		switch {
		case !ok || g.redirectURI != r.PostForm.Get("redirect_uri"):
			writeToken(w, r, map[string]any{"error": "bad_verification_code"})
			return
		case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
			writeToken(w, r, map[string]any{"error": "invalid_grant", "error_description": "PKCE verification failed"})
			return
		}
		user = g.user
	case "refresh_token":
		rt := r.PostForm.Get("refresh_token")
		g, ok := s.tokens[rt]
		if !ok || !g.refresh {
			writeToken(w, r, map[string]any{"error": "bad_refresh_token"})
			return
		}
		delete(s.tokens, rt) // rotation: the old refresh token dies
		user = g.user
	default:
		writeToken(w, r, map[string]any{"error": "unsupported_grant_type"})
		return
	}
	writeToken(w, r, s.issueLocked(user))
}

func (s *Server) issueLocked(user int64) map[string]any {
	at := "gho_" + random()
	s.tokens[at] = tokenGrant{user: user}
	out := map[string]any{"access_token": at, "token_type": "bearer", "scope": "read:org,read:user,user:email"}
	if s.TokenTTL > 0 {
		rt := "ghr_" + random()
		s.tokens[rt] = tokenGrant{user: user, refresh: true}
		out["expires_in"] = int(s.TokenTTL.Seconds())
		out["refresh_token"] = rt
		out["refresh_token_expires_in"] = 15897600
	}
	return out
}

// api authenticates the bearer token and hands its user to h.
func (s *Server) api(h func(w http.ResponseWriter, r *http.Request, u User)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			tok, ok = strings.CutPrefix(r.Header.Get("Authorization"), "token ")
		}
		s.mu.Lock()
		g, known := s.tokens[tok]
		u, exists := s.users[g.user]
		var user User
		if exists {
			user = *u
		}
		s.mu.Unlock()
		if !ok || !known || g.refresh || !exists {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
			return
		}
		h(w, r, user)
	}
}

func (s *Server) user(w http.ResponseWriter, _ *http.Request, u User) {
	writeJSON(w, http.StatusOK, map[string]any{"id": u.ID, "login": u.Login, "name": u.Name, "type": "User"})
}

func (s *Server) emails(w http.ResponseWriter, r *http.Request, u User) {
	s.page(w, r, u.Emails)
}

func (s *Server) orgs(w http.ResponseWriter, r *http.Request, u User) {
	out := []map[string]any{}
	for i, o := range u.Orgs {
		out = append(out, map[string]any{"login": o, "id": 1000 + i})
	}
	s.page(w, r, out)
}

func (s *Server) teams(w http.ResponseWriter, r *http.Request, u User) {
	out := []map[string]any{}
	for _, t := range u.Teams {
		org, slug, _ := strings.Cut(t, "/")
		out = append(out, map[string]any{"slug": slug, "name": slug, "organization": map[string]any{"login": org}})
	}
	s.page(w, r, out)
}

// page writes one page of items with GitHub's Link header.
func writePage[T any](s *Server, w http.ResponseWriter, r *http.Request, items []T) {
	n, _ := strconv.Atoi(r.URL.Query().Get("page"))
	n = max(n, 1)
	size := s.PageSize
	last := max((len(items)+size-1)/size, 1)
	link := func(p int, rel string) string {
		return fmt.Sprintf(`<%s%s?page=%d&per_page=%d>; rel="%s"`, s.URL, r.URL.Path, p, size, rel)
	}
	var links []string
	if n < last {
		links = append(links, link(n+1, "next"), link(last, "last"))
	}
	if n > 1 {
		links = append(links, link(1, "first"), link(n-1, "prev"))
	}
	if links != nil {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	lo, hi := min((n-1)*size, len(items)), min(n*size, len(items))
	writeJSON(w, http.StatusOK, append([]T{}, items[lo:hi]...))
}

func (s *Server) page(w http.ResponseWriter, r *http.Request, items any) {
	switch v := items.(type) {
	case []Email:
		writePage(s, w, r, v)
	case []map[string]any:
		writePage(s, w, r, v)
	}
}

// revokeGrant is DELETE /applications/{client_id}/grant: basic auth with
// the app's credentials, the token in the body; it revokes every token
// of that user for the app.
func (s *Server) revokeGrant(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok || id != ClientID || r.PathValue("client") != ClientID ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(ClientSecret)) != 1 {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials"})
		return
	}
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if json.NewDecoder(r.Body).Decode(&body) != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Validation Failed"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.tokens[body.AccessToken]
	if !ok || g.refresh {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	for t, o := range s.tokens {
		if o.user == g.user {
			delete(s.tokens, t)
		}
	}
	s.revoked = append(s.revoked, g.user)
	w.WriteHeader(http.StatusNoContent)
}

// writeToken answers the token endpoint as GitHub does: JSON when asked
// for it, form-encoded otherwise (golang.org/x/oauth2 asks for neither).
func writeToken(w http.ResponseWriter, r *http.Request, v map[string]any) {
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		writeJSON(w, http.StatusOK, v)
		return
	}
	form := url.Values{}
	for k, x := range v {
		form.Set(k, fmt.Sprint(x))
	}
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	w.Write([]byte(form.Encode()))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func random() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
