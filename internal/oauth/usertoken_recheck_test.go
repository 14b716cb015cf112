package oauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/testenv"
)

// rotatingIdP is a token connector (SPEC ID-5) whose provider rotates
// refresh tokens: a redeemed one dies, and redeeming it again is
// invalid_grant (login.ErrUserGone).
type rotatingIdP struct {
	*fakeIdP
	mu                sync.Mutex
	gen               int
	live              map[string]bool
	refreshes, reuses int
}

var _ login.TokenConnector = (*rotatingIdP)(nil)

type rotData struct{ Access, Refresh string }

func (r *rotatingIdP) issueLocked() []byte {
	r.gen++
	d := rotData{Access: fmt.Sprintf("at-%d", r.gen), Refresh: fmt.Sprintf("rt-%d", r.gen)}
	r.live[d.Refresh] = true
	b, _ := json.Marshal(d)
	return b
}

func (r *rotatingIdP) HandleCallback(ctx context.Context, cb string, q url.Values, verifier, nonce string) (login.Identity, error) {
	id, err := r.fakeIdP.HandleCallback(ctx, cb, q, verifier, nonce)
	r.mu.Lock()
	defer r.mu.Unlock()
	id.ConnectorData = r.issueLocked()
	return id, err
}

func (r *rotatingIdP) Refresh(_ context.Context, id login.Identity) (login.Identity, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refreshes++
	var d rotData
	json.Unmarshal(id.ConnectorData, &d)
	if !r.live[d.Refresh] {
		r.reuses++
		return login.Identity{}, fmt.Errorf("invalid_grant: %w", login.ErrUserGone)
	}
	delete(r.live, d.Refresh)
	id.ConnectorData = r.issueLocked()
	return id, nil
}

func (r *rotatingIdP) ConfigHash() []byte { return []byte("rotating-config") }
func (r *rotatingIdP) AccessToken(data []byte) (string, time.Time, error) {
	var d rotData
	if json.Unmarshal(data, &d) != nil || d.Access == "" {
		return "", time.Time{}, login.ErrNoToken
	}
	return d.Access, time.Time{}, nil
}
func (r *rotatingIdP) RevokeTokens(context.Context, []byte) error { return nil }

// TestRecheckRotatesUpstreamTokens: the login keeps the token connector's
// data bound to its config hash, and every AS-6 re-check goes through
// usertoken, which stores the rotated refresh token: the second re-check
// redeems the token the first one got, not the dead one from the login
// (which the provider would answer with invalid_grant, ending the grant).
func TestRecheckRotatesUpstreamTokens(t *testing.T) {
	idp := &rotatingIdP{fakeIdP: &fakeIdP{}, live: map[string]bool{}}
	clock := testenv.NewClock(time.Now().Truncate(time.Second))
	g := testenv.New(t, testenv.Options{Connectors: []login.Connector{idp}, Now: clock.Now})
	f, tok := mailIdPTokens(t, g, g.NewBrowser())
	if tok.Status != http.StatusOK {
		t.Fatalf("code exchange: %d %s", tok.Status, tok.Raw)
	}
	rec, err := g.Store().GetUpstreamToken(t.Context(), "fake:carol", "fake")
	if err != nil || !bytes.Equal(rec.ConfigHash, idp.ConfigHash()) || bytes.Contains(rec.Sealed, []byte("rt-1")) {
		t.Fatalf("stored after login: %+v, %v; want sealed data bound to the config hash", rec, err)
	}
	next := tok
	for i := range 2 {
		clock.Advance(20 * time.Minute) // due for a re-check
		next = g.RefreshFlow(f, next.Get("refresh_token"), nil)
		if next.Status != http.StatusOK {
			t.Fatalf("refresh %d after a re-check: %d %s", i, next.Status, next.Raw)
		}
	}
	idp.mu.Lock()
	defer idp.mu.Unlock()
	if idp.refreshes != 2 || idp.reuses != 0 || !idp.live["rt-3"] {
		t.Fatalf("provider saw %d refreshes, %d reuses, live %v", idp.refreshes, idp.reuses, idp.live)
	}
}
