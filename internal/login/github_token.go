package login

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"golang.org/x/oauth2"
)

// githubData is the github connector's ConnectorData: the user's tokens at
// GitHub (SPEC ID-5). A classic OAuth app's token never expires and has no
// refresh token; a GitHub App with expiring user tokens gives both.
type githubData struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
}

func (d githubData) encode() []byte {
	b, _ := json.Marshal(d) // cannot fail: strings and a time
	return b
}

// decodeGitHubData reads ConnectorData. Errors never quote it: it holds
// credentials.
func decodeGitHubData(b []byte) (githubData, error) {
	var d githubData
	if len(b) == 0 {
		return d, ErrNoToken
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("%w: github connector data is unreadable", ErrNoToken)
	}
	if d.AccessToken == "" {
		return d, ErrNoToken
	}
	return d, nil
}

// dataFrom keeps what the token endpoint returned. The expiry is counted
// from g's clock, not the library's, so it agrees with the clock Refresh
// compares it with.
func (g *GitHub) dataFrom(tok *oauth2.Token) githubData {
	d := githubData{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken}
	switch secs := expiresIn(tok); {
	case secs > 0:
		d.Expiry = g.now().Add(time.Duration(secs) * time.Second).UTC()
	case !tok.Expiry.IsZero():
		d.Expiry = tok.Expiry.UTC()
	}
	return d
}

// expiresIn is the token response's expires_in in seconds, or 0. The
// library fills Token.ExpiresIn only for a JSON answer; GitHub answers
// form-encoded unless asked for JSON, so the raw field is read too.
func expiresIn(tok *oauth2.Token) int64 {
	if tok.ExpiresIn > 0 {
		return tok.ExpiresIn
	}
	switch v := tok.Extra("expires_in").(type) {
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return max(n, 0)
	case int64:
		return max(v, 0)
	case float64:
		return max(int64(v), 0)
	}
	return 0
}

// renew redeems the refresh token. GitHub rotates it: from here on only
// the returned data is valid (see Refresh on storing it).
func (g *GitHub) renew(ctx context.Context, d githubData) (githubData, error) {
	// An empty access token makes the library refresh at once.
	ts := g.oauth.TokenSource(g.httpContext(ctx), &oauth2.Token{RefreshToken: d.RefreshToken})
	tok, err := ts.Token()
	if err != nil {
		return githubData{}, tokenEndpointError(ctx, "refresh", err)
	}
	out := g.dataFrom(tok)
	if out.RefreshToken == "" {
		out.RefreshToken = d.RefreshToken
	}
	return out, nil
}

// refusedGrant are the token endpoint's answers that mean the grant itself
// is dead (RFC 6749 §5.2 invalid_grant; GitHub's own codes).
var refusedGrant = map[string]bool{"invalid_grant": true, "bad_refresh_token": true, "bad_verification_code": true}

var errorCodeRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// tokenEndpointError turns an error of golang.org/x/oauth2 into one that
// says what happened without quoting GitHub's answer (RetrieveError's text
// includes the response body). A refused grant during a refresh wraps
// ErrUserGone; a 5xx or transport failure ErrProviderUnavailable.
func tokenEndpointError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("github: %s: %w", what, ctx.Err())
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		// The library wraps transport failures with %v, so they cannot be
		// told apart from an unparsable answer: both are GitHub's side.
		return fmt.Errorf("%w: github: %s: token endpoint unreachable or answered nonsense", ErrProviderUnavailable, what)
	}
	code := re.ErrorCode
	if !errorCodeRE.MatchString(code) {
		code = "no error code"
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	switch {
	case status >= 500 || status == http.StatusTooManyRequests:
		return fmt.Errorf("%w: github: %s: token endpoint status %d", ErrProviderUnavailable, what, status)
	case what == "refresh" && refusedGrant[code]:
		return fmt.Errorf("%w: github: refresh token refused (%s)", ErrUserGone, code)
	}
	return fmt.Errorf("github: %s refused: %s (status %d)", what, code, status)
}

// ConfigHash identifies the API and OAuth app that issued stored tokens
// (SPEC ID-5): tokens of another app or another GitHub are never sent.
func (g *GitHub) ConfigHash() []byte {
	h := sha256.New()
	for _, s := range []string{"github", g.api, g.oauth.ClientID} {
		fmt.Fprintf(h, "%d:%s\n", len(s), s)
	}
	return h.Sum(nil)
}

// AccessToken reads the access token in data and its expiry (zero for an
// OAuth app's non-expiring token).
func (g *GitHub) AccessToken(data []byte) (string, time.Time, error) {
	d, err := decodeGitHubData(data)
	if err != nil {
		return "", time.Time{}, err
	}
	return d.AccessToken, d.Expiry, nil
}

// RevokeTokens deletes the user's authorization of the app (DELETE
// /applications/{client_id}/grant, authenticated with the app's own
// credentials), which revokes every token GitHub issued to the app for
// that user. A deployment without the endpoint (405, 501) gives
// errors.ErrUnsupported. A 404 is an error, not success: GitHub answers
// 404 both for a token it no longer knows and for credentials it refuses,
// and a kill switch must not report a revocation it cannot confirm.
func (g *GitHub) RevokeTokens(ctx context.Context, data []byte) error {
	d, err := decodeGitHubData(data)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"access_token": d.AccessToken})
	u := g.api + "/applications/" + url.PathEscape(g.oauth.ClientID) + "/grant"
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u, bytes.NewReader(body))
	if err != nil {
		return errors.New("github: bad revocation URL")
	}
	req.SetBasicAuth(g.oauth.ClientID, g.oauth.ClientSecret)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("Content-Type", "application/json")
	resp, err := g.do(ctx, req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK:
		return nil
	case http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return fmt.Errorf("github: grant revocation: status %d: %w", resp.StatusCode, errors.ErrUnsupported)
	case http.StatusNotFound:
		return errors.New("github: grant revocation: 404 (token unknown to GitHub, or client credentials refused)")
	}
	return statusError(req, resp)
}
