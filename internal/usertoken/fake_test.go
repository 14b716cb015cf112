package usertoken

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpgate/mcpgate/internal/login"
)

// fakeProvider is an identity provider that rotates refresh tokens the way
// strict providers do: a refresh token dies when redeemed, and redeeming it
// again is invalid_grant (reported as login.ErrUserGone).
type fakeProvider struct {
	mu      sync.Mutex
	live    map[string]bool // refresh tokens the provider still accepts
	gen     int
	ttl     time.Duration
	now     func() time.Time
	revoked [][]byte

	refreshes atomic.Int32
	reuses    atomic.Int32 // redemptions of a dead refresh token
	// entered receives once per Refresh (if non-nil, buffered); release,
	// when non-nil, holds every Refresh until it is closed.
	entered chan struct{}
	release chan struct{}
	// failNext makes the next Refresh fail with this error after
	// rotating (GitHub's contract: an error and new data).
	failNext error
	// down makes Refresh fail as unreachable, without rotating.
	down bool
	// revokeErr is what RevokeTokens returns.
	revokeErr error
	// noRenew makes Refresh return the identity as given, without error:
	// a provider that issued no refresh token (an OIDC login without
	// offline_access) has nothing to renew with.
	noRenew bool
}

func newFakeProvider(now func() time.Time) *fakeProvider {
	return &fakeProvider{live: map[string]bool{}, ttl: time.Hour, now: now}
}

type fakeData struct {
	Access  string `json:"access"`
	Refresh string `json:"refresh"`
	Exp     int64  `json:"exp"`
}

// issue mints a new access and refresh token pair (a login).
func (p *fakeProvider) issue(exp time.Time) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.issueLocked(exp)
}

func (p *fakeProvider) issueLocked(exp time.Time) []byte {
	p.gen++
	d := fakeData{Access: fmt.Sprintf("access-%d", p.gen), Refresh: fmt.Sprintf("refresh-%d", p.gen), Exp: exp.Unix()}
	p.live[d.Refresh] = true
	b, _ := json.Marshal(d)
	return b
}

// fakeConn is one configuration of the provider (its ID and ConfigHash).
type fakeConn struct {
	id   string
	hash []byte
	p    *fakeProvider
}

var _ login.TokenConnector = (*fakeConn)(nil)

func (c *fakeConn) ID() string          { return c.id }
func (c *fakeConn) Type() string        { return "oidc" }
func (c *fakeConn) DisplayName() string { return c.id }
func (c *fakeConn) ConfigHash() []byte  { return c.hash }

func (c *fakeConn) AccessToken(data []byte) (string, time.Time, error) {
	var d fakeData
	if err := json.Unmarshal(data, &d); err != nil || d.Access == "" {
		return "", time.Time{}, login.ErrNoToken
	}
	return d.Access, time.Unix(d.Exp, 0), nil
}

func (c *fakeConn) Refresh(ctx context.Context, id login.Identity) (login.Identity, error) {
	p := c.p
	p.refreshes.Add(1)
	if p.entered != nil {
		p.entered <- struct{}{}
	}
	if p.release != nil {
		select {
		case <-p.release:
		case <-ctx.Done():
			return login.Identity{}, ctx.Err()
		}
	}
	var d fakeData
	if err := json.Unmarshal(id.ConnectorData, &d); err != nil {
		return login.Identity{}, fmt.Errorf("invalid_grant: %w", login.ErrUserGone)
	}
	if p.noRenew {
		return id, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return login.Identity{}, fmt.Errorf("connection refused: %w", login.ErrProviderUnavailable)
	}
	if !p.live[d.Refresh] {
		p.reuses.Add(1)
		return login.Identity{}, fmt.Errorf("invalid_grant: %w", login.ErrUserGone)
	}
	delete(p.live, d.Refresh)
	out := login.Identity{Subject: id.Subject, Groups: []string{"refreshed"}, ConnectorData: p.issueLocked(p.now().Add(p.ttl))}
	if err := p.failNext; err != nil {
		p.failNext = nil
		return out, err
	}
	return out, nil
}

func (c *fakeConn) RevokeTokens(_ context.Context, data []byte) error {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	if c.p.revokeErr != nil {
		return c.p.revokeErr
	}
	c.p.revoked = append(c.p.revoked, data)
	var d fakeData
	if json.Unmarshal(data, &d) == nil {
		delete(c.p.live, d.Refresh)
	}
	return nil
}

// localConn is a RefreshConnector without upstream tokens (the local
// provider).
type localConn struct{ calls atomic.Int32 }

func (*localConn) ID() string          { return "local" }
func (*localConn) Type() string        { return "local" }
func (*localConn) DisplayName() string { return "local" }
func (l *localConn) Refresh(_ context.Context, id login.Identity) (login.Identity, error) {
	l.calls.Add(1)
	if string(id.ConnectorData) != "stamp-1" {
		return id, login.ErrUserGone
	}
	id.ConnectorData = []byte("stamp-1")
	return id, nil
}

var errBoom = errors.New("boom")
