package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/mcpgate/mcpgate/internal/testenv"
)

// errTooManyAuthorizations is the fetcher's answer past its budget: a
// client that keeps asking the user to authorize again is looping.
var errTooManyAuthorizations = errors.New("authorization budget exhausted")

// authorization is what the client asked the user to approve.
type authorization struct {
	ClientID, Scope, Resource, RedirectURI string
}

// userAgent is the user's browser as the go-sdk client's
// AuthorizationCodeFetcher: it opens the authorization URL, signs in on
// the local login page and approves the consent page as a person would,
// and hands the client the code, state and iss of the final redirect
// (RFC 6749 §4.1.2, RFC 9207). Nothing listens on the redirect URI: the
// redirect is read from the Location header.
//
// It answers with errors rather than failing the test: the client calls it
// from inside a transport write, where t.Fatal must not run.
type userAgent struct {
	base     string       // the gateway's public URL
	browser  *http.Client // cookie jar, trusts the gateway, no redirects
	username string
	password string
	budget   int // authorizations allowed before errTooManyAuthorizations

	mu    sync.Mutex
	asked []authorization
}

func newUserAgent(g *testenv.Gateway, username string, budget int) *userAgent {
	return &userAgent{base: g.URL, browser: g.NewBrowser().Client, username: username, password: testenv.Password, budget: budget}
}

// authorizations returns the authorizations the client asked for so far.
func (u *userAgent) authorizations() []authorization {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]authorization(nil), u.asked...)
}

// fetch is the auth.AuthorizationCodeFetcher.
func (u *userAgent) fetch(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
	start, err := url.Parse(args.URL)
	if err != nil {
		return nil, err
	}
	q := start.Query()
	u.mu.Lock()
	if len(u.asked) >= u.budget {
		u.mu.Unlock()
		return nil, fmt.Errorf("%w (%d authorizations)", errTooManyAuthorizations, u.budget)
	}
	u.asked = append(u.asked, authorization{ClientID: q.Get("client_id"), Scope: q.Get("scope"),
		Resource: q.Get("resource"), RedirectURI: q.Get("redirect_uri")})
	u.mu.Unlock()

	loc, err := u.follow(ctx, args.URL)
	if err != nil {
		return nil, err
	}
	back := loc.Query()
	if e := back.Get("error"); e != "" {
		return nil, fmt.Errorf("authorization refused: %s: %s", e, back.Get("error_description"))
	}
	return &auth.AuthorizationResult{Code: back.Get("code"), State: back.Get("state"), Iss: back.Get("iss")}, nil
}

// follow walks the flow from the authorization URL until the gateway
// redirects away from itself, submitting the login and consent forms on
// the way, and returns that redirect.
func (u *userAgent) follow(ctx context.Context, target string) (*url.URL, error) {
	resp, err := u.do(ctx, http.MethodGet, target, nil)
	for range 8 {
		if err != nil {
			return nil, err
		}
		loc, lerr := resp.Location()
		if lerr != nil {
			return nil, fmt.Errorf("flow stopped at %s with %d", resp.Request.URL.Path, resp.StatusCode)
		}
		if loc.Scheme+"://"+loc.Host != u.base {
			return loc, nil // back at the client
		}
		resp, err = u.step(ctx, loc)
	}
	return nil, errors.New("flow did not return to the client")
}

// step handles one page of the gateway: the login and consent pages get
// their forms submitted, unless they redirect on by themselves (a signed-in
// user, a remembered consent).
func (u *userAgent) step(ctx context.Context, loc *url.URL) (*http.Response, error) {
	page, err := u.do(ctx, http.MethodGet, loc.String(), nil)
	if err != nil || page.StatusCode == http.StatusFound || page.StatusCode == http.StatusSeeOther {
		return page, err
	}
	req := loc.Query().Get("req")
	switch loc.Path {
	case "/oauth/login":
		return u.do(ctx, http.MethodPost, u.base+"/oauth/login", url.Values{
			"req": {req}, "provider": {"local"}, "username": {u.username}, "password": {u.password}})
	case "/oauth/consent":
		return u.do(ctx, http.MethodPost, u.base+"/oauth/consent", url.Values{"req": {req}, "action": {"approve"}})
	}
	return page, nil
}

// do sends one browser request (a same-origin form post when form is set)
// and closes the body: the flow is steered by statuses and Location only.
func (u *userAgent) do(ctx context.Context, method, target string, form url.Values) (*http.Response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", u.base)
	}
	resp, err := u.browser.Do(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}
