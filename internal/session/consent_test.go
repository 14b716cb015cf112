package session

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/storage/memory"
	"github.com/mcpgate/mcpgate/internal/testenv/clock"
)

func TestConsentCovers(t *testing.T) {
	granted := storage.Consent{Scopes: []string{"files:read", "files:write"}, GrantedAt: t0}
	expiring := granted
	expiring.ExpiresAt = t0.Add(time.Hour)
	for _, tc := range []struct {
		name   string
		c      storage.Consent
		scopes []string
		now    time.Time
		want   bool
	}{
		{"same scopes", granted, []string{"files:read", "files:write"}, t0, true},
		{"order does not matter", granted, []string{"files:write", "files:read"}, t0, true},
		{"narrower", granted, []string{"files:read"}, t0, true},
		{"no scopes", granted, nil, t0, true},
		{"broader", granted, []string{"files:read", "files:delete"}, t0, false},
		{"other scope", granted, []string{"admin"}, t0, false},
		{"prefix is not a scope", granted, []string{"files"}, t0, false},
		{"empty scope", granted, []string{""}, t0, false},
		{"no expiry, far future", granted, []string{"files:read"}, t0.AddDate(10, 0, 0), true},
		{"before expiry", expiring, []string{"files:read"}, t0.Add(time.Hour - time.Second), true},
		{"at expiry", expiring, []string{"files:read"}, t0.Add(time.Hour), true},
		{"after expiry", expiring, []string{"files:read"}, t0.Add(time.Hour + time.Nanosecond), false},
		{"after expiry, no scopes", expiring, nil, t0.Add(2 * time.Hour), false},
		{"zero consent", storage.Consent{}, nil, t0, false},
		{"never granted", storage.Consent{Scopes: []string{"files:read"}}, []string{"files:read"}, t0, false},
	} {
		if got := ConsentCovers(tc.c, tc.scopes, tc.now); got != tc.want {
			t.Errorf("%s: ConsentCovers(%v, %v) = %v, want %v", tc.name, tc.c.Scopes, tc.scopes, got, tc.want)
		}
	}
}

const (
	ann      = "local:ann"
	cursor   = "https://cursor.example/client.json"
	callback = "http://127.0.0.1/callback"
	files    = "https://files.example/mcp"
)

func newConsents(t *testing.T) (*Consents, *clock.Clock, *auditLog) {
	t.Helper()
	clk, log := clock.New(t0), &auditLog{}
	return &Consents{Store: memory.New(), TTL: 30 * 24 * time.Hour, Now: clk.Now, Audit: log.record}, clk, log
}

func covers(t *testing.T, c *Consents, subject, client, redirect, resource string, scopes ...string) bool {
	t.Helper()
	ok, err := c.Covers(t.Context(), subject, client, redirect, resource, scopes)
	if err != nil {
		t.Fatalf("Covers: %v", err)
	}
	return ok
}

func grant(t *testing.T, c *Consents, scopes ...string) {
	t.Helper()
	if err := c.Grant(t.Context(), ann, cursor, callback, files, scopes); err != nil {
		t.Fatalf("Grant: %v", err)
	}
}

// An approval answers for exactly its (user, client, redirect URI,
// resource) and the scopes approved (SPEC AS-3).
func TestConsentsCoverExactKeyOnly(t *testing.T) {
	c, clk, _ := newConsents(t)
	if covers(t, c, ann, cursor, callback, files, "files:read") {
		t.Fatal("covered before any approval")
	}
	grant(t, c, "files:read", "files:write")
	for _, tc := range []struct {
		name                             string
		subject, client, redirect, resrc string
		scopes                           []string
		want                             bool
	}{
		{"same request", ann, cursor, callback, files, []string{"files:read", "files:write"}, true},
		{"narrower", ann, cursor, callback, files, []string{"files:read"}, true},
		{"broader", ann, cursor, callback, files, []string{"files:read", "files:admin"}, false},
		{"other redirect URI", ann, cursor, "https://cursor.example/cb", files, []string{"files:read"}, false},
		{"other resource", ann, cursor, callback, "https://mail.example/mcp", []string{"files:read"}, false},
		{"other client", ann, "https://evil.example/client.json", callback, files, []string{"files:read"}, false},
		{"other user", "local:bob", cursor, callback, files, []string{"files:read"}, false},
	} {
		if got := covers(t, c, tc.subject, tc.client, tc.redirect, tc.resrc, tc.scopes...); got != tc.want {
			t.Errorf("%s: covered = %v, want %v", tc.name, got, tc.want)
		}
	}
	clk.Advance(30*24*time.Hour + time.Second)
	if covers(t, c, ann, cursor, callback, files, "files:read") {
		t.Fatal("expired approval covered a request")
	}
}

// Grant keeps what the user approved earlier for the key, unless that
// approval has expired.
func TestGrantMergesLiveApprovals(t *testing.T) {
	c, clk, _ := newConsents(t)
	grant(t, c, "files:write")
	grant(t, c, "files:read")
	if !covers(t, c, ann, cursor, callback, files, "files:read", "files:write") {
		t.Fatal("second approval dropped the first")
	}
	clk.Advance(30*24*time.Hour + time.Second)
	grant(t, c, "files:read")
	if covers(t, c, ann, cursor, callback, files, "files:write") {
		t.Fatal("an expired approval was carried into the new one")
	}
	got, err := c.Store.GetConsent(t.Context(), ann, cursor, callback, files)
	if err != nil || !slices.Equal(got.Scopes, []string{"files:read"}) || !got.ExpiresAt.Equal(clk.Now().Add(c.TTL)) {
		t.Fatalf("stored %+v, %v", got, err)
	}
}

func TestConsentsListAndRevoke(t *testing.T) {
	c, clk, log := newConsents(t)
	grant(t, c, "files:read")
	other := "https://claude.example/client.json"
	if err := c.Grant(t.Context(), ann, other, callback, files, []string{"files:read"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Grant(t.Context(), "local:bob", cursor, callback, files, nil); err != nil {
		t.Fatal(err)
	}
	list, err := c.List(t.Context(), ann)
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %v, %v; want ann's two approvals", list, err)
	}
	n, err := c.Revoke(t.Context(), ann, cursor)
	if err != nil || n != 1 {
		t.Fatalf("Revoke = %d, %v; want 1, nil", n, err)
	}
	if covers(t, c, ann, cursor, callback, files, "files:read") || !covers(t, c, ann, other, callback, files, "files:read") ||
		!covers(t, c, "local:bob", cursor, callback, files) {
		t.Fatal("Revoke did not remove exactly ann's approval of cursor")
	}
	if len(log.events) != 1 || log.events[0].Type != audit.ConsentRevoked || log.events[0].User != ann || log.events[0].Client != cursor {
		t.Fatalf("audit = %+v, want one consent_revoked for ann and cursor", log.events)
	}
	clk.Advance(31 * 24 * time.Hour)
	if list, _ := c.List(t.Context(), ann); len(list) != 0 {
		t.Fatalf("List shows expired approvals: %v", list)
	}
}

func TestConsentsRefuseEmptyKeys(t *testing.T) {
	c, _, _ := newConsents(t)
	ctx := t.Context()
	_, errCovers := c.Covers(ctx, ann, cursor, callback, "", nil)
	errGrant := c.Grant(ctx, ann, "", callback, files, nil)
	_, errList := c.List(ctx, "")
	_, errRevoke := c.Revoke(ctx, "", cursor)
	for name, err := range map[string]error{"Covers": errCovers, "Grant": errGrant, "List": errList, "Revoke": errRevoke} {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s with an empty key part = %v, want ErrInvalid", name, err)
		}
	}
}
