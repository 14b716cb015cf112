package login

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Limits on what the API may send: a page is at most 100 small objects,
// and 50 pages are 5000 orgs or teams, beyond any real membership. A
// GitHub (or something posing as one) that sends more is refused rather
// than followed forever.
const (
	githubMaxBody  = 1 << 20
	githubMaxPages = 50
)

var (
	// errGitHubUnauthorized: the API refused the token (401).
	errGitHubUnauthorized = errors.New("github: token refused (401)")
	// errGitHubNoAccess: the token may not read this (403 without an
	// exhausted rate limit, or 404): a scope or permission not granted.
	errGitHubNoAccess = errors.New("github: not accessible with this token")
)

// identity reads the user behind token: /user, the verified primary email
// and the org and team memberships as groups.
func (g *GitHub) identity(ctx context.Context, token string) (Identity, error) {
	var user struct {
		ID    int64  `json:"id"`
		Login string `json:"login"`
		Name  string `json:"name"`
	}
	if err := g.getJSON(ctx, token, g.api+"/user", &user); err != nil {
		return Identity{}, err
	}
	if user.ID <= 0 {
		return Identity{}, errors.New("github: /user has no id")
	}
	id := Identity{Subject: strconv.FormatInt(user.ID, 10), Username: user.Login, Name: user.Name}
	var err error
	if id.Email, err = g.primaryEmail(ctx, token); err != nil {
		return Identity{}, err
	}
	id.EmailVerified = id.Email != ""
	if id.Groups, err = g.groups(ctx, token); err != nil {
		return Identity{}, err
	}
	return id, nil
}

// primaryEmail is the primary address if GitHub has verified it, else "".
// Only that one is trusted: a secondary address, or an unverified primary
// one, can be any address the account holder typed in, someone else's
// included, and policy rules match on email.
func (g *GitHub) primaryEmail(ctx context.Context, token string) (string, error) {
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if err := getPages(ctx, g, token, "/user/emails", &emails); err != nil {
		return "", err
	}
	for _, e := range emails {
		if e.Primary && e.Verified && e.Email != "" {
			return e.Email, nil
		}
	}
	return "", nil
}

// groups are the user's orgs ("org") and teams ("org/team-slug"), lower
// case (GitHub compares them case-insensitively; policy compares bytes),
// sorted and without duplicates. A team's org counts as an org.
func (g *GitHub) groups(ctx context.Context, token string) ([]string, error) {
	var orgs []struct {
		Login string `json:"login"`
	}
	if err := getPages(ctx, g, token, "/user/orgs", &orgs); err != nil {
		return nil, err
	}
	var teams []struct {
		Slug string `json:"slug"`
		Org  struct {
			Login string `json:"login"`
		} `json:"organization"`
	}
	if err := getPages(ctx, g, token, "/user/teams", &teams); err != nil {
		return nil, err
	}
	out := []string{}
	for _, o := range orgs {
		if o.Login != "" {
			out = append(out, strings.ToLower(o.Login))
		}
	}
	for _, t := range teams {
		if t.Org.Login != "" && t.Slug != "" {
			org := strings.ToLower(t.Org.Login)
			out = append(out, org, org+"/"+strings.ToLower(t.Slug))
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// getPages reads every page of a list endpoint into *all, following the
// Link header's next (RFC 8288). A list the token may not read (the user
// did not grant user:email or read:org, a GitHub App lacks the
// permission) is empty: the user then has no email or fewer groups, which
// can only admit less.
func getPages[T any](ctx context.Context, g *GitHub, token, path string, all *[]T) error {
	err := getAllPages(ctx, g, token, path, all)
	if errors.Is(err, errGitHubNoAccess) {
		*all = nil
		return nil
	}
	return err
}

func getAllPages[T any](ctx context.Context, g *GitHub, token, path string, all *[]T) error {
	next := g.api + path + "?per_page=100"
	for range githubMaxPages {
		var page []T
		resp, err := g.get(ctx, token, next, &page)
		if err != nil {
			return err
		}
		*all = append(*all, page...)
		n, err := linkNext(strings.Join(resp.Header.Values("Link"), ", "))
		if err != nil {
			return fmt.Errorf("github: %s: %w", path, err)
		}
		if n == "" {
			return nil
		}
		if next, err = g.sameAPI(n); err != nil {
			return fmt.Errorf("github: %s: %w", path, err)
		}
	}
	return fmt.Errorf("github: %s: more than %d pages", path, githubMaxPages)
}

// sameAPI resolves a next link and refuses one that leaves the API base:
// the request carries the user's token, and a Link header pointing
// elsewhere (a compromised proxy, a bug) must not send it there.
func (g *GitHub) sameAPI(ref string) (string, error) {
	u, err := g.apiURL.Parse(ref)
	if err != nil || u.Scheme != g.apiURL.Scheme || u.Host != g.apiURL.Host ||
		!strings.HasPrefix(u.Path, strings.TrimSuffix(g.apiURL.Path, "/")+"/") || u.User != nil {
		return "", errors.New("next link leaves the API base")
	}
	return u.String(), nil
}

func (g *GitHub) getJSON(ctx context.Context, token, u string, v any) error {
	_, err := g.get(ctx, token, u, v)
	return err
}

// get GETs u with the token and decodes the JSON answer into v. Errors
// name the path, never the token, and never quote the response.
func (g *GitHub) get(ctx context.Context, token, u string, v any) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, errors.New("github: bad request URL")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	resp, err := g.do(ctx, req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := statusError(req, resp); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, githubMaxBody+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: github: GET %s: reading the answer failed", ErrProviderUnavailable, req.URL.Path)
	case len(body) > githubMaxBody:
		return nil, fmt.Errorf("github: GET %s: answer larger than %d bytes", req.URL.Path, githubMaxBody)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return nil, fmt.Errorf("github: GET %s: answer is not the expected JSON", req.URL.Path)
	}
	return resp, nil
}

// do sends req. A transport failure is ErrProviderUnavailable, unless ctx
// ended (the caller gave up; that is no news about GitHub).
func (g *GitHub) do(ctx context.Context, req *http.Request) (*http.Response, error) {
	req.Header.Set("User-Agent", "mcpgate")
	resp, err := g.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("github: %s %s: %w", req.Method, req.URL.Path, ctx.Err())
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the message already
		}
		return nil, fmt.Errorf("%w: github: %s %s: %v", ErrProviderUnavailable, req.Method, req.URL.Path, err)
	}
	return resp, nil
}

// statusError maps an API status to the login error sentinels: 401 is a
// refused token; 5xx, 429 and a rate limit (an exhausted primary limit,
// or a secondary limit: 403 with Retry-After) say nothing about the user
// (ErrProviderUnavailable); another 403, or a 404, is a resource the
// token may not read. A rate-limit 403 read as "no access" would empty
// the user's orgs and teams, and a re-check would then end the grant of a
// user who is still admitted.
func statusError(req *http.Request, resp *http.Response) error {
	st := resp.StatusCode
	switch {
	case st >= 200 && st < 300:
		return nil
	case st == http.StatusUnauthorized:
		return fmt.Errorf("%w: %s %s", errGitHubUnauthorized, req.Method, req.URL.Path)
	case st >= 500, st == http.StatusTooManyRequests,
		st == http.StatusForbidden && (resp.Header.Get("X-RateLimit-Remaining") == "0" || resp.Header.Get("Retry-After") != ""):
		return fmt.Errorf("%w: github: %s %s: status %d", ErrProviderUnavailable, req.Method, req.URL.Path, st)
	case st == http.StatusForbidden, st == http.StatusNotFound:
		return fmt.Errorf("%w: %s %s: status %d", errGitHubNoAccess, req.Method, req.URL.Path, st)
	}
	return fmt.Errorf("github: %s %s: status %d", req.Method, req.URL.Path, st)
}
