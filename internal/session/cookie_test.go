package session

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// wantCookie is every attribute a cookie of this package must carry.
type wantCookie struct {
	name   string
	secure bool
	maxAge int
}

// checkCookie compares the parsed cookie and the raw header: the raw header
// proves there is no Domain attribute (a Domain would let sibling hosts
// receive the cookie and breaks __Host-).
func checkCookie(t *testing.T, rec *httptest.ResponseRecorder, want wantCookie) {
	t.Helper()
	c := onlyCookie(t, rec, want.name)
	raw := rec.Header().Get("Set-Cookie")
	if c.Secure != want.secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode ||
		c.Path != "/" || c.Domain != "" || c.MaxAge != want.maxAge {
		t.Errorf("cookie %q = %+v, want Secure=%v HttpOnly SameSite=Lax Path=/ MaxAge=%d", raw, c, want.secure, want.maxAge)
	}
	if strings.Contains(strings.ToLower(raw), "domain") {
		t.Errorf("cookie %q carries a Domain", raw)
	}
}

func TestCookieAttributes(t *testing.T) {
	for _, tc := range []struct {
		secure            bool
		session, flowName string
	}{
		{true, "__Host-mcpgate_session", "__Host-mcpgate_flow"},
		{false, "mcpgate_session", "mcpgate_flow"},
	} {
		f := newFixture(t, func(o *Options) { o.Secure = tc.secure; o.AbsoluteTimeout = 12 * time.Hour })
		t.Run("login secure="+boolString(tc.secure), func(t *testing.T) {
			rec := httptest.NewRecorder()
			if _, err := f.m.Login(t.Context(), rec, request(firefox), storage.BrowserSession{Subject: "local:ann"}); err != nil {
				t.Fatal(err)
			}
			checkCookie(t, rec, wantCookie{tc.session, tc.secure, 12 * 3600})
		})
		t.Run("logout secure="+boolString(tc.secure), func(t *testing.T) {
			rec := httptest.NewRecorder()
			if err := f.m.Logout(t.Context(), rec, request(firefox)); err != nil {
				t.Fatal(err)
			}
			checkCookie(t, rec, wantCookie{tc.session, tc.secure, -1})
		})
		t.Run("flow secure="+boolString(tc.secure), func(t *testing.T) {
			rec := httptest.NewRecorder()
			f.m.BindFlow(rec, request(firefox))
			checkCookie(t, rec, wantCookie{tc.flowName, tc.secure, 600})
		})
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// A leaked database must not yield a cookie: the record is keyed by the
// SHA-256 of the value, and the value itself appears nowhere in it.
func TestRecordIDIsHashOfCookie(t *testing.T) {
	f := newFixture(t, nil)
	s, c := f.login(t, "local:ann")
	if len(c.Value) != 43 {
		t.Fatalf("cookie value %q: want 43 base64url characters (32 bytes)", c.Value)
	}
	if s.ID != hashHex(c.Value) || !f.stored(t, hashHex(c.Value)) {
		t.Fatalf("record ID = %q, want SHA-256 of the cookie %q", s.ID, hashHex(c.Value))
	}
	if _, err := f.store.GetBrowserSession(t.Context(), c.Value); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("record found under the raw cookie value: %v", err)
	}
}

func TestCurrentRefusesUnknownAndMalformedCookies(t *testing.T) {
	f := newFixture(t, nil)
	_, good := f.login(t, "local:ann")
	if !f.current(good) {
		t.Fatal("the cookie Login set is not accepted")
	}
	for name, c := range map[string]*http.Cookie{
		"no cookie":     nil,
		"unknown value": {Name: good.Name, Value: newSecret()},
		"malformed":     {Name: good.Name, Value: "not-a-session"},
		"truncated":     {Name: good.Name, Value: good.Value[:42]},
		"plain name":    {Name: SessionCookiePlain, Value: good.Value},
		"record ID":     {Name: good.Name, Value: hashHex(good.Value)},
	} {
		if f.current(c) {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	for name, o := range map[string]Options{
		"nil store":        {},
		"negative idle":    {Store: newFixture(t, nil).store, IdleTimeout: -time.Second},
		"negative max":     {Store: newFixture(t, nil).store, MaxPerUser: -1},
		"negative absolut": {Store: newFixture(t, nil).store, AbsoluteTimeout: -time.Second},
	} {
		if _, err := New(o); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: New = %v, want ErrInvalid", name, err)
		}
	}
}
