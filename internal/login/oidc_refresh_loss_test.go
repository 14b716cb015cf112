package login_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/testenv/fakeoidc"
)

// lossyTransport passes every request to the OP and counts them by path,
// then replaces the answer for paths in lose with a 502 (once, for a
// path in loseOnce): the OP did its work (a refresh token is rotated) but
// the answer never reaches mcpgate, as when a proxy in front of the IdP
// times out.
type lossyTransport struct {
	base     http.RoundTripper
	lose     map[string]bool
	loseOnce map[string]bool
	sent     map[string]int
}

func (lt *lossyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	lt.sent[r.URL.Path]++
	resp, err := lt.base.RoundTrip(r)
	if err != nil || !(lt.lose[r.URL.Path] || lt.loseOnce[r.URL.Path]) {
		return resp, err
	}
	delete(lt.loseOnce, r.URL.Path)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return &http.Response{StatusCode: http.StatusBadGateway, Header: http.Header{"Content-Type": {"text/plain"}},
		Body: io.NopCloser(strings.NewReader("bad gateway")), Request: r}, nil
}

func lossyOIDC(t *testing.T, op *fakeoidc.OP, lose ...string) (*login.OIDC, *lossyTransport) {
	hc := op.Client()
	lt := &lossyTransport{base: hc.Transport, lose: map[string]bool{}, loseOnce: map[string]bool{}, sent: map[string]int{}}
	hc.Transport = lt
	c, err := login.NewOIDC(oidcProvider(op.Issuer), login.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	return c, lt
}

// TestOIDCLostTokenAnswerIsNotRedeemedTwice: when the token endpoint's
// answer is lost, the refresh token is not sent a second time in the same
// call (x/oauth2's client-auth probing would resend it the other way, and
// a rotating provider then answers invalid_grant): the outage stays an
// outage (ErrProviderUnavailable), never a verdict that ends the grant.
func TestOIDCLostTokenAnswerIsNotRedeemedTwice(t *testing.T) {
	op := fakeoidc.New(t)
	c, lt := lossyOIDC(t, op)
	id, err := loginOIDC(t, op, c)
	if err != nil {
		t.Fatal(err)
	}
	before := lt.sent["/token"]
	lt.loseOnce["/token"] = true
	_, err = c.Refresh(context.Background(), id)
	if errors.Is(err, login.ErrUserGone) || !errors.Is(err, login.ErrProviderUnavailable) {
		t.Fatalf("refresh with its answer lost: %v, want ErrProviderUnavailable and not ErrUserGone", err)
	}
	if n := lt.sent["/token"] - before; n != 1 {
		t.Fatalf("one Refresh sent %d token requests, want 1", n)
	}
}

// TestOIDCRotatedTokenKeptWhenLaterStepFails: the OP rotates the refresh
// token, then userinfo fails. Refresh returns the new connector data with
// its error, so the caller can store it; the rotated-out data is dead, and
// the returned data still refreshes.
func TestOIDCRotatedTokenKeptWhenLaterStepFails(t *testing.T) {
	op := fakeoidc.New(t)
	c, lt := lossyOIDC(t, op)
	id, err := loginOIDC(t, op, c)
	if err != nil {
		t.Fatal(err)
	}
	lt.lose["/userinfo"] = true
	got, err := c.Refresh(context.Background(), id)
	if err == nil {
		t.Fatal("refresh with userinfo down succeeded; the test needs it to fail after the token endpoint answered")
	}
	if len(got.ConnectorData) == 0 || string(got.ConnectorData) == string(id.ConnectorData) {
		t.Fatalf("refresh failing after rotation returned data %q; want the new tokens", got.ConnectorData)
	}
	lt.lose["/userinfo"] = false
	if _, err := c.Refresh(context.Background(), id); !errors.Is(err, login.ErrUserGone) {
		t.Fatalf("the rotated-out token still refreshes (%v): the fake does not rotate, so this test proves nothing", err)
	}
	got.Subject = id.Subject
	if _, err := c.Refresh(context.Background(), got); err != nil {
		t.Fatalf("refresh with the data returned beside the error: %v", err)
	}
}
