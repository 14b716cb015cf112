package login

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/mcpgate/mcpgate/internal/config"
)

// githubTimeout bounds each call to GitHub, so a hung GitHub holds a login
// or a re-check for seconds, not forever.
const githubTimeout = 15 * time.Second

// githubRefreshAhead: a stored access token that expires within this is
// renewed before use (GitHub Apps with expiring user tokens issue them for
// eight hours).
const githubRefreshAhead = 5 * time.Minute

// GitHub is the github provider (SPEC ID-3): an OAuth app login with PKCE
// and state, the user from /user, the verified primary email, and org and
// team memberships as groups ("org" and "org/team-slug", lower-case),
// restricted by allowed_orgs and allowed_teams.
//
// The subject is GitHub's numeric user ID: a login can be renamed and then
// claimed by someone else, an ID never changes hands.
type GitHub struct {
	id     string
	oauth  oauth2.Config // RedirectURL is set per call
	api    string        // API base, no trailing slash
	apiURL *url.URL
	orgs   []string // allowed_orgs, lower-case
	teams  []string // allowed_teams, lower-case
	client *http.Client
	now    func() time.Time
}

var (
	_ RedirectConnector = (*GitHub)(nil)
	_ TokenConnector    = (*GitHub)(nil)
)

// NewGitHub builds the github connector from a provider of type github.
func NewGitHub(cfg config.IdentityProvider) (*GitHub, error) {
	if cfg.Type != "github" {
		return nil, fmt.Errorf("provider %q: type %q is not github", cfg.ID, cfg.Type)
	}
	api := strings.TrimSuffix(orDefault(cfg.APIURL, config.DefaultGitHubAPIURL), "/")
	web := strings.TrimSuffix(cfg.WebURL, "/")
	if web == "" && api == config.DefaultGitHubAPIURL {
		web = config.DefaultGitHubWebURL
	}
	apiURL, err := url.Parse(api)
	var errs []error
	if err != nil || apiURL.Host == "" || (apiURL.Scheme != "https" && apiURL.Scheme != "http") {
		errs = append(errs, errors.New("api_url is not an http(s) URL"))
	}
	if w, err := url.Parse(web); err != nil || w.Host == "" {
		errs = append(errs, errors.New("web_url is not an http(s) URL"))
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		errs = append(errs, errors.New("client_id and client_secret are required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("provider %q: %w", cfg.ID, err)
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{"read:user", "user:email", "read:org"}
	}
	return &GitHub{
		id: cfg.ID,
		oauth: oauth2.Config{
			ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Scopes: scopes,
			Endpoint: oauth2.Endpoint{
				AuthURL:  web + "/login/oauth/authorize",
				TokenURL: web + "/login/oauth/access_token",
				// GitHub takes the client credentials in the form; saying so
				// spares the library's probe of both styles.
				AuthStyle: oauth2.AuthStyleInParams,
			},
		},
		api: api, apiURL: apiURL,
		orgs:   lower(cfg.AllowedOrgs),
		teams:  lower(cfg.AllowedTeams),
		client: &http.Client{Timeout: githubTimeout},
		now:    time.Now,
	}, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func lower(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	return out
}

func (g *GitHub) ID() string          { return g.id }
func (g *GitHub) Type() string        { return "github" }
func (g *GitHub) DisplayName() string { return "GitHub" }

// LoginURL sends the browser to GitHub's authorize endpoint with state and
// the PKCE S256 challenge (SPEC ID-1). GitHub has no ID token, so there is
// no nonce to send; state and PKCE bind the callback to this flow.
func (g *GitHub) LoginURL(callbackURL, state, codeChallenge, _ string) (string, error) {
	if callbackURL == "" || state == "" || codeChallenge == "" {
		return "", errors.New("github: callback URL, state and code challenge are required")
	}
	c := g.oauth
	c.RedirectURL = callbackURL
	return c.AuthCodeURL(state,
		oauth2.SetAuthURLParam("code_challenge", codeChallenge),
		oauth2.SetAuthURLParam("code_challenge_method", "S256")), nil
}

// oauthErrorRE: the error codes of RFC 6749 §4.1.2.1 are ASCII words. The
// callback's query comes through the browser, so anything else (and any
// error_description) is the sender's text and stays out of errors and logs.
var oauthErrorRE = regexp.MustCompile(`^[a-z_]{1,64}$`)

// HandleCallback redeems the code with the PKCE verifier, reads the user
// and checks allowed_orgs / allowed_teams (an error wrapping ErrNotAllowed
// when neither admits the user). The caller has already matched state.
func (g *GitHub) HandleCallback(ctx context.Context, callbackURL string, q url.Values, codeVerifier, _ string) (Identity, error) {
	if e := q.Get("error"); e != "" {
		if !oauthErrorRE.MatchString(e) {
			e = "unrecognised error"
		}
		// RFC 6749 §4.1.2.1: GitHub itself could not serve the request.
		if e == "server_error" || e == "temporarily_unavailable" {
			return Identity{}, fmt.Errorf("%w: github authorization: %s", ErrProviderUnavailable, e)
		}
		return Identity{}, fmt.Errorf("github: authorization failed: %s", e)
	}
	code := q.Get("code")
	if code == "" || codeVerifier == "" {
		return Identity{}, errors.New("github: callback without code")
	}
	c := g.oauth
	c.RedirectURL = callbackURL
	tok, err := c.Exchange(g.httpContext(ctx), code, oauth2.VerifierOption(codeVerifier))
	if err != nil {
		return Identity{}, tokenEndpointError(ctx, "code exchange", err)
	}
	data := g.dataFrom(tok)
	id, err := g.identity(ctx, data.AccessToken)
	if err != nil {
		// A token refused right after it was issued is GitHub's fault or a
		// race with the user revoking it; either way not a user verdict.
		return Identity{}, err
	}
	if !g.admits(id.Groups) {
		return Identity{}, fmt.Errorf("%w: GitHub user %s (id %s) is in none of allowed_orgs and allowed_teams",
			ErrNotAllowed, id.Username, id.Subject)
	}
	id.ConnectorData = data.encode()
	return id, nil
}

// Refresh re-reads the user, the orgs and the teams with the stored token
// (renewing the token first when it has a refresh token and expires within
// githubRefreshAhead). A 401 (user deleted, app authorization revoked,
// token expired without a refresh token), a changed user ID, a refused
// refresh token or a user no longer admitted by allowed_orgs /
// allowed_teams is an error wrapping ErrUserGone. An unreachable GitHub or
// a 5xx is an error wrapping ErrProviderUnavailable.
//
// Storing the result: GitHub rotates refresh tokens, the old one dies when
// a new one is issued. So Refresh can fail AFTER the renewal succeeded (the
// /user call that follows gets a 5xx). It then returns the error together
// with an Identity whose only field is the new ConnectorData, and the
// caller MUST store that ConnectorData even though err != nil, or the user's
// grant is lost. When err != nil and ConnectorData is nil, nothing changed.
func (g *GitHub) Refresh(ctx context.Context, prev Identity) (Identity, error) {
	data, err := decodeGitHubData(prev.ConnectorData)
	if err != nil {
		// Nothing to re-check with: the user must log in again.
		return Identity{}, fmt.Errorf("%w: %w", ErrUserGone, err)
	}
	renewed := false
	if data.RefreshToken != "" && !data.Expiry.IsZero() && !g.now().Add(githubRefreshAhead).Before(data.Expiry) {
		next, err := g.renew(ctx, data)
		switch {
		case err == nil:
			data, renewed = next, true
		case errors.Is(err, ErrProviderUnavailable) && g.now().Before(data.Expiry):
			// The token endpoint is down but the access token still
			// works: re-check with it, and renew on a later call.
		default:
			return Identity{}, err
		}
	}
	id, err := g.identity(ctx, data.AccessToken)
	switch {
	case errors.Is(err, errGitHubUnauthorized):
		err = fmt.Errorf("%w: %w", ErrUserGone, err)
	case err == nil && id.Subject != prev.Subject:
		err = fmt.Errorf("%w: github token now belongs to user id %s, not %s", ErrUserGone, id.Subject, prev.Subject)
	case err == nil && !g.admits(id.Groups):
		err = fmt.Errorf("%w: GitHub user %s (id %s) is no longer in allowed_orgs or allowed_teams",
			ErrUserGone, id.Username, id.Subject)
	}
	if err != nil {
		if renewed {
			return Identity{ConnectorData: data.encode()}, err
		}
		return Identity{}, err
	}
	id.ConnectorData = data.encode()
	return id, nil
}

// admits applies allowed_orgs and allowed_teams to groups: membership of
// any listed org or team admits; with both lists empty everyone is.
func (g *GitHub) admits(groups []string) bool {
	if len(g.orgs) == 0 && len(g.teams) == 0 {
		return true
	}
	for _, grp := range groups {
		if slices.Contains(g.orgs, grp) || slices.Contains(g.teams, grp) {
			return true
		}
	}
	return false
}

// httpContext makes golang.org/x/oauth2 use g's client (with its timeout).
func (g *GitHub) httpContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, g.client)
}
