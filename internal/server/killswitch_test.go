package server

import (
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/usertoken"
)

// revokingIdP is a fake token connector recording RevokeTokens.
type revokingIdP struct {
	mu      sync.Mutex
	revoked []string
	err     error
}

func (*revokingIdP) ID() string          { return "corp" }
func (*revokingIdP) Type() string        { return "oidc" }
func (*revokingIdP) DisplayName() string { return "Corp" }
func (*revokingIdP) ConfigHash() []byte  { return []byte("corp-config") }
func (*revokingIdP) AccessToken(data []byte) (string, time.Time, error) {
	return string(data), time.Time{}, nil
}
func (*revokingIdP) Refresh(_ context.Context, id login.Identity) (login.Identity, error) {
	return id, nil
}
func (p *revokingIdP) RevokeTokens(_ context.Context, data []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.revoked = append(p.revoked, string(data))
	return nil
}

// TestKillSwitchRevokesUpstreamTokens: the kill switch revokes the user's
// tokens at the provider (SPEC ID-5) and deletes them; a provider that
// fails or cannot revoke does not stop the kill switch, and the stored
// tokens are deleted regardless.
func TestKillSwitchRevokesUpstreamTokens(t *testing.T) {
	for _, tc := range []struct {
		name        string
		err         error
		wantRevoked int
		wantErr     bool
	}{
		{"revoked", nil, 1, false},
		{"unsupported", errors.ErrUnsupported, 0, false},
		{"failing", errors.New("provider said 500"), 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp := &revokingIdP{err: tc.err}
			a, err := OpenAdmin(t.Context(), testConfig(), Options{AuditStdout: io.Discard, ExtraConnectors: []login.Connector{idp}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.Close() })
			users, err := usertoken.New(usertoken.Options{Store: a.store, Seal: a.seal, Connectors: []login.Connector{idp}})
			if err != nil {
				t.Fatal(err)
			}
			if err := users.Keep(t.Context(), "corp:alice", "corp", []byte("alice-upstream-token")); err != nil {
				t.Fatal(err)
			}
			users.Keep(t.Context(), "corp:bob", "corp", []byte("bob-upstream-token"))
			res, err := a.RevokeUser(t.Context(), "corp:alice")
			if err != nil {
				t.Fatalf("kill switch: %v", err)
			}
			if res.UpstreamRevoked != tc.wantRevoked || (res.UpstreamRevokeErr != nil) != tc.wantErr || res.UpstreamTokens != 1 {
				t.Fatalf("result %+v", res)
			}
			if tc.err == nil && (len(idp.revoked) != 1 || idp.revoked[0] != "alice-upstream-token") {
				t.Fatalf("revoked at the provider: %q", idp.revoked)
			}
			if _, err := a.store.GetUpstreamToken(t.Context(), "corp:alice", "corp"); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("alice's upstream token is still stored: %v", err)
			}
			if tok, err := users.UserToken(t.Context(), "corp:bob", "corp"); err != nil || tok != "bob-upstream-token" {
				t.Fatalf("bob's token: %q, %v", tok, err)
			}
		})
	}
}
