package stdio

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

const ownerHeader = "X-Test-Owner"

// ownerUpstream is a raw-mode bridge whose owner is the X-Test-Owner
// header, with room for 8 processes and so, by default, 2 per owner.
func ownerUpstream(t *testing.T, edit func(*Options)) *testUpstream {
	return newUpstream(t, "raw", func(o *Options) {
		o.MaxProcesses = 8
		o.Owner = func(r *http.Request) string { return r.Header.Get(ownerHeader) }
		if edit != nil {
			edit(o)
		}
	})
}

// initAs sends a raw initialize as owner and returns the response.
func (u *testUpstream) initAs(t *testing.T, owner string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("POST", u.url, strings.NewReader(rawInit))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set(ownerHeader, owner)
	resp, err := u.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// openAs initializes a session as owner and returns its ID.
func (u *testUpstream) openAs(t *testing.T, owner string) string {
	t.Helper()
	resp := u.initAs(t, owner)
	defer resp.Body.Close()
	id := resp.Header.Get(headerSession)
	if resp.StatusCode != 200 || id == "" {
		t.Fatalf("initialize as %q: %s %s", owner, resp.Status, body(t, resp))
	}
	if evs := readEvents(t, resp.Body); len(evs) != 1 {
		t.Fatalf("initialize as %q: events %q", owner, evs)
	}
	return id
}

// wantRefused checks the refusal of an initialize: 503 and the JSON-RPC
// error the global limit answers with, naming no session.
func wantRefused(t *testing.T, resp *http.Response) {
	t.Helper()
	got := body(t, resp)
	var e struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if resp.StatusCode != 503 || json.Unmarshal([]byte(got), &e) != nil {
		t.Fatalf("initialize over the limit: %s %s", resp.Status, got)
	}
	if e.JSONRPC != "2.0" || string(e.ID) != `"init"` || e.Error.Code != CodeServerError || e.Error.Message == "" {
		t.Fatalf("503 body = %s", got)
	}
	if resp.Header.Get(headerSession) != "" {
		t.Fatal("a refused initialize got a session ID")
	}
}

// One owner filling its share leaves the others their slots; its own next
// initialize is refused until one of its sessions ends.
func TestMaxPerOwner(t *testing.T) {
	u := ownerUpstream(t, nil) // MaxPerOwner defaults to 8/4 = 2
	a1 := u.openAs(t, "alice")
	u.openAs(t, "alice")
	wantRefused(t, u.initAs(t, "alice"))
	rec := u.logs.await(t, "per-owner refusal logged", func(r logRecord) bool {
		return r.msg == "stdio per-owner process limit reached"
	})
	if rec.attrs["owner"] != logTag("alice") || rec.attrs["limit"] != "2" {
		t.Fatalf("refusal log attrs = %v", rec.attrs)
	}

	u.openAs(t, "bob")
	if n := u.bridge.Processes(); n != 3 {
		t.Fatalf("Processes() = %d, want 3", n)
	}

	u.do(t, context.Background(), "DELETE", a1, "").Body.Close()
	waitFor(t, "alice's deleted session to be reaped", func() bool { return u.bridge.Processes() == 2 })
	u.openAs(t, "alice")
	wantRefused(t, u.initAs(t, "alice"))
	u.bridge.mu.Lock()
	defer u.bridge.mu.Unlock()
	if u.bridge.owned["alice"] != 2 || u.bridge.owned["bob"] != 1 || len(u.bridge.owned) != 2 {
		t.Fatalf("owned = %v", u.bridge.owned)
	}
}

// MaxPerOwner, set, overrides the default share; the global limit still
// applies across owners.
func TestMaxPerOwnerExplicit(t *testing.T) {
	u := ownerUpstream(t, func(o *Options) { o.MaxProcesses, o.MaxPerOwner = 3, 2 })
	u.openAs(t, "alice")
	u.openAs(t, "alice")
	wantRefused(t, u.initAs(t, "alice"))
	u.openAs(t, "bob")
	wantRefused(t, u.initAs(t, "carol")) // MaxProcesses
}

func TestMaxPerOwnerDefaults(t *testing.T) {
	for _, tc := range []struct {
		name       string
		owner      bool
		max, per   int
		wantPerOwn int
	}{
		{"no owner: one shared owner up to MaxProcesses", false, 8, 0, 8},
		{"no owner, no max", false, 0, 0, DefaultMaxProcesses},
		{"owner: a quarter", true, 8, 0, 2},
		{"owner: at least one", true, 3, 0, 1},
		{"owner: default max", true, 0, 0, DefaultMaxProcesses / 4},
		{"explicit", true, 8, 5, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Command: []string{"true"}, MaxProcesses: tc.max, MaxPerOwner: tc.per}
			if tc.owner {
				o.Owner = func(*http.Request) string { return "x" }
			}
			b, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			if b.perOwn != tc.wantPerOwn {
				t.Fatalf("per-owner limit %d, want %d", b.perOwn, tc.wantPerOwn)
			}
		})
	}
	if _, err := New(Options{Command: []string{"true"}, MaxPerOwner: -1}); err == nil {
		t.Fatal("negative MaxPerOwner accepted")
	}
	if _, err := New(Options{Command: []string{"true"}, InitTimeout: -1}); err == nil {
		t.Fatal("negative InitTimeout accepted")
	}
}

// A bare initialize nobody follows up is ended after InitTimeout, long
// before IdleTimeout, and gives its owner's slot back.
func TestInitTimeoutReapsBareInitialize(t *testing.T) {
	u := ownerUpstream(t, func(o *Options) {
		o.InitTimeout = 100 * time.Millisecond
		o.IdleTimeout = time.Hour
		o.MaxPerOwner = 1
	})
	id := u.openAs(t, "alice")
	waitFor(t, "the abandoned session to be reaped", func() bool { return u.bridge.Processes() == 0 })
	u.logs.await(t, "init timeout exit logged", func(r logRecord) bool {
		return r.msg == "stdio child exited" && r.attrs["reason"] == reasonInit
	})
	resp := u.do(t, context.Background(), "POST", id, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	if resp.StatusCode != 404 {
		t.Fatalf("POST to the reaped session: %s", resp.Status)
	}
	resp.Body.Close()
	u.openAs(t, "alice")
}

// A session that had a request after its initialize is on IdleTimeout:
// InitTimeout no longer ends it.
func TestInitTimeoutSparesUsedSession(t *testing.T) {
	// Timers too long to fire during the test; onIdle is called by hand.
	u := newUpstream(t, "raw", func(o *Options) {
		o.InitTimeout = time.Minute
		o.IdleTimeout = time.Hour
	})
	id := u.initRaw(t)
	s := onlySession(t, u.bridge)
	s.mu.Lock()
	if got := s.idleTimeoutLocked(); got != time.Minute {
		s.mu.Unlock()
		t.Fatalf("idle timeout after a bare initialize = %v, want InitTimeout", got)
	}
	s.mu.Unlock()
	resp := u.do(t, context.Background(), "POST", id, `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	if resp.StatusCode != 202 {
		t.Fatalf("notification: %s", resp.Status)
	}
	resp.Body.Close()
	s.mu.Lock()
	s.idleSince = time.Now().Add(-2 * time.Minute)
	s.mu.Unlock()
	s.onIdle()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closedLocked() || s.idleTimeoutLocked() != time.Hour {
		t.Fatal("a session in use was ended by InitTimeout")
	}
}

// InitTimeout never exceeds IdleTimeout.
func TestInitTimeoutCappedByIdle(t *testing.T) {
	b, err := New(Options{Command: []string{"true"}, IdleTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if b.init != time.Second {
		t.Fatalf("init timeout %v, want the idle timeout 1s", b.init)
	}
}
