package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/storage/memory"
	"github.com/mcpgate/mcpgate/internal/testenv/clock"
)

// t0 is the test epoch; every clock starts here.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// auditLog collects audited events.
type auditLog struct {
	mu     sync.Mutex
	events []audit.Event
}

func (l *auditLog) record(_ context.Context, e audit.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// reasons lists the "reason" of every event of type typ, in order.
func (l *auditLog) reasons(typ audit.EventType) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.events {
		if e.Type == typ {
			r, _ := e.Details["reason"].(string)
			out = append(out, r)
		}
	}
	return out
}

func (l *auditLog) count(typ audit.EventType) int { return len(l.reasons(typ)) }

// fixture is a Manager on a memory store with a clock and an audit log.
type fixture struct {
	m     *Manager
	store *memory.Store
	clock *clock.Clock
	log   *auditLog
}

func newFixture(t *testing.T, edit func(*Options)) *fixture {
	t.Helper()
	f := &fixture{store: memory.New(), clock: clock.New(t0), log: &auditLog{}}
	o := Options{Store: f.store, Secure: true, Now: f.clock.Now, Audit: f.log.record}
	if edit != nil {
		edit(&o)
	}
	m, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.m = m
	return f
}

// request builds a GET carrying the given cookies and User-Agent.
func request(ua string, cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "https://gate.example/authorize", nil)
	r.Header.Set("User-Agent", ua)
	for _, c := range cookies {
		if c != nil {
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	return r
}

const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"

// login logs subject in from a browser carrying cookies and returns the
// session and the cookie set.
func (f *fixture) login(t *testing.T, subject string, cookies ...*http.Cookie) (storage.BrowserSession, *http.Cookie) {
	t.Helper()
	rec := httptest.NewRecorder()
	s, err := f.m.Login(t.Context(), rec, request(firefox, cookies...),
		storage.BrowserSession{Subject: subject, ProviderID: "local", Groups: []string{"dev"}})
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	return s, onlyCookie(t, rec, f.m.sessionName)
}

// current reports whether a browser presenting c has a live session.
func (f *fixture) current(c *http.Cookie) bool {
	_, ok := f.m.Current(request(firefox, c))
	return ok
}

// stored reports whether a session record with id exists.
func (f *fixture) stored(t *testing.T, id string) bool {
	t.Helper()
	all, err := f.store.ListBrowserSessions(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(all, func(s storage.BrowserSession) bool { return s.ID == id })
}

// onlyCookie returns the single Set-Cookie of the response, which must be
// named name.
func onlyCookie(t *testing.T, rec *httptest.ResponseRecorder, name string) *http.Cookie {
	t.Helper()
	cs := rec.Result().Cookies()
	if len(cs) != 1 || cs[0].Name != name {
		t.Fatalf("Set-Cookie = %v, want exactly one %q", rec.Header().Values("Set-Cookie"), name)
	}
	return cs[0]
}

// hashHex is the record ID a cookie value must map to, computed here
// independently of the package.
func hashHex(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}
