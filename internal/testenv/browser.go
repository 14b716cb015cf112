package testenv

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
)

// Browser is a user agent with a cookie jar that does not follow
// redirects, so a test sees every hop of the flow.
type Browser struct {
	T      testing.TB
	G      *Gateway
	Client *http.Client
}

// NewBrowser returns a browser with an empty cookie jar.
func (g *Gateway) NewBrowser() *Browser {
	jar, _ := cookiejar.New(nil)
	c := g.Client()
	c.Jar = jar
	return &Browser{T: g.T, G: g, Client: c}
}

// Response is a read response.
type Response struct {
	*http.Response
	Body string
}

// Location is the redirect target, resolved against the request URL.
func (r Response) Location() *url.URL {
	loc, err := r.Response.Location()
	if err != nil {
		return nil
	}
	return loc
}

func (b *Browser) do(req *http.Request) Response {
	b.T.Helper()
	resp, err := b.Client.Do(req)
	if err != nil {
		b.T.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return Response{Response: resp, Body: string(body)}
}

// Get fetches target (absolute, or a path on the gateway).
func (b *Browser) Get(target string) Response {
	b.T.Helper()
	req, err := http.NewRequest(http.MethodGet, b.abs(target), nil)
	if err != nil {
		b.T.Fatal(err)
	}
	return b.do(req)
}

// Post submits a form the way a browser does, same-origin.
func (b *Browser) Post(target string, form url.Values) Response {
	b.T.Helper()
	return b.PostFrom(target, form, b.G.URL)
}

// PostFrom submits a form with the given Origin header (a cross-site
// attacker's page sends its own origin).
func (b *Browser) PostFrom(target string, form url.Values, origin string) Response {
	b.T.Helper()
	req, err := http.NewRequest(http.MethodPost, b.abs(target), strings.NewReader(form.Encode()))
	if err != nil {
		b.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return b.do(req)
}

func (b *Browser) abs(target string) string {
	if strings.HasPrefix(target, "/") {
		return b.G.URL + target
	}
	return target
}

// PKCE is a code verifier and its S256 challenge.
type PKCE struct{ Verifier, Challenge string }

// NewPKCE makes a fresh verifier (RFC 7636 §4.1).
func NewPKCE() PKCE {
	b := make([]byte, 32)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(v))
	return PKCE{Verifier: v, Challenge: base64.RawURLEncoding.EncodeToString(sum[:])}
}

// AuthParams are the authorization request parameters of a typical public
// client flow for resource; tests change what they need.
func (g *Gateway) AuthParams(clientID, redirectURI, resource string, p PKCE) url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI},
		"code_challenge": {p.Challenge}, "code_challenge_method": {"S256"},
		"resource": {resource}, "state": {"xyz-state"},
	}
}

// Authorize runs the whole browser side of the flow with params: the
// authorization request, consent (approve), and the local login form if
// the browser is not signed in. It returns the final redirect to the
// client, failing the test if any step answers differently.
func (b *Browser) Authorize(params url.Values, username string) *url.URL {
	b.T.Helper()
	resp := b.Get("/oauth/authorize?" + params.Encode())
	for range 6 {
		loc := resp.Location()
		if loc == nil {
			b.T.Fatalf("flow stopped at %s with %d:\n%s", resp.Request.URL.Path, resp.StatusCode, resp.Body)
		}
		if loc.Scheme+"://"+loc.Host != b.G.URL || !strings.HasPrefix(loc.Path, "/oauth/") {
			return loc // back at the client
		}
		page := b.Get(loc.String())
		switch loc.Path {
		case "/oauth/consent":
			if page.Location() != nil {
				resp = page // consent remembered: straight on
				continue
			}
			resp = b.Post("/oauth/consent", url.Values{"req": {loc.Query().Get("req")}, "action": {"approve"}})
		case "/oauth/login":
			if page.Location() != nil {
				resp = page
				continue
			}
			resp = b.Post("/oauth/login", url.Values{
				"req": {loc.Query().Get("req")}, "provider": {"local"}, "username": {username}, "password": {Password},
			})
		default:
			resp = page
		}
	}
	b.T.Fatalf("flow did not return to the client")
	return nil
}

// Token calls the token endpoint with form; clientID and secret, when the
// secret is set, go in HTTP Basic. It returns the status and JSON body.
func (g *Gateway) Token(form url.Values, clientID, secret string) (int, map[string]any) {
	g.T.Helper()
	return g.PostForm("/oauth/token", form, clientID, secret)
}

// PostForm posts a form to an AS endpoint like a non-browser client.
func (g *Gateway) PostForm(path string, form url.Values, clientID, secret string) (int, map[string]any) {
	g.T.Helper()
	if secret == "" && clientID != "" {
		form.Set("client_id", clientID)
	}
	req, _ := http.NewRequest(http.MethodPost, g.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	}
	resp, err := g.Client().Do(req)
	if err != nil {
		g.T.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	raw, _ := io.ReadAll(resp.Body)
	json.Unmarshal(raw, &body)
	return resp.StatusCode, body
}

// ExchangeCode redeems code for the public client flow.
func (g *Gateway) ExchangeCode(clientID, secret, code, redirectURI string, p PKCE) (int, map[string]any) {
	g.T.Helper()
	return g.Token(url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {p.Verifier},
	}, clientID, secret)
}

// Refresh redeems a refresh token.
func (g *Gateway) Refresh(clientID, secret, refreshToken string, extra url.Values) (int, map[string]any) {
	g.T.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	for k, v := range extra {
		form[k] = v
	}
	return g.Token(form, clientID, secret)
}

// Login runs a complete public-client flow for username against resource
// and returns the token response.
func (g *Gateway) Login(b *Browser, clientID, resource, username string) map[string]any {
	g.T.Helper()
	p := NewPKCE()
	redirect := "http://127.0.0.1/callback"
	loc := b.Authorize(g.AuthParams(clientID, redirect, resource, p), username)
	code := loc.Query().Get("code")
	if code == "" {
		g.T.Fatalf("no code in %s", loc)
	}
	status, body := g.ExchangeCode(clientID, "", code, redirect, p)
	if status != http.StatusOK {
		g.T.Fatalf("code exchange: %d %v", status, body)
	}
	return body
}
