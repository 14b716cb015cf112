package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// A store must share no slice with its callers: a record a caller handed in
// or got back and then modified must not change what the store holds. An
// in-process backend that forgets a copy lets one request's scribbles leak
// into another's tokens.
var aliasingTests = []testCase{
	{"Clients", testAliasClients},
	{"AuthRequests", testAliasAuthRequests},
	{"AuthCodes", testAliasAuthCodes},
	{"RefreshFamilies", testAliasFamilies},
	{"RefreshRotation", testAliasRotation},
	{"Consents", testAliasConsents},
	{"BrowserSessions", testAliasBrowserSessions},
	{"UpstreamTokens", testAliasUpstream},
	{"SigningKeys", testAliasSigningKeys},
	{"Audit", testAliasAudit},
	{"AuditPrev", testAliasAuditPrev},
}

// noAliasing stores fixture() with put, scribbles on the caller's copy, then
// on what get returns, and checks after each that get still returns an
// unmodified fixture.
func noAliasing[T any](t *testing.T, what string, fixture func() T, put func(T) error, get func() (T, error)) {
	t.Helper()
	in := fixture()
	must(t, put(in), "storing "+what)
	scribble(&in)
	got, err := get()
	must(t, err, "reading "+what)
	check(t, what+" after the caller modified what it stored", got, fixture())
	scribble(&got)
	got, err = get()
	must(t, err, "reading "+what)
	check(t, what+" after the caller modified what it read", got, fixture())
}

func testAliasClients(t *testing.T, s storage.Store) {
	fix := func() storage.Client { return newClient("c1") }
	noAliasing(t, "created client", fix,
		func(c storage.Client) error { return s.CreateClient(t.Context(), c) },
		func() (storage.Client, error) { return s.GetClient(t.Context(), "c1") })
	fix2 := func() storage.Client { return newClient("c2") }
	noAliasing(t, "put client", fix2,
		func(c storage.Client) error { return s.PutClient(t.Context(), c) },
		func() (storage.Client, error) { return s.GetClient(t.Context(), "c2") })
	noAliasing(t, "listed client", fix2,
		func(storage.Client) error { return nil },
		func() (storage.Client, error) {
			l, err := s.ListClients(t.Context())
			sortClients(l)
			if err != nil || len(l) != 2 {
				return storage.Client{}, errors.Join(err, errors.New("want 2 clients"))
			}
			return l[1], nil
		})

	// The record an updater returns is the caller's, too.
	var handed storage.Client
	must(t, s.UpdateClient(t.Context(), "c1", func(c storage.Client) (storage.Client, error) {
		handed = c
		return c, nil
	}), "UpdateClient")
	scribble(&handed)
	got, err := s.GetClient(t.Context(), "c1")
	must(t, err, "GetClient")
	check(t, "client after the caller modified what its updater returned", got, fix())
}

func testAliasAuthRequests(t *testing.T, s storage.Store) {
	fix := func() storage.AuthRequest { return newAuthRequest("r1") }
	noAliasing(t, "auth request", fix,
		func(r storage.AuthRequest) error { return s.CreateAuthRequest(t.Context(), r) },
		func() (storage.AuthRequest, error) { return s.GetAuthRequest(t.Context(), "r1") })
	noAliasing(t, "auth request by state", fix,
		func(storage.AuthRequest) error { return nil },
		func() (storage.AuthRequest, error) {
			return s.GetAuthRequestByUpstreamState(t.Context(), fix().UpstreamStateHash)
		})
}

func testAliasAuthCodes(t *testing.T, s storage.Store) {
	now := at(0)
	fix := func() storage.AuthCode {
		c := newAuthCode("code-1")
		c.ConsumedAt = now
		return c
	}
	noAliasing(t, "auth code", fix,
		func(c storage.AuthCode) error {
			c.ConsumedAt = time.Time{}
			return s.CreateAuthCode(t.Context(), c)
		},
		func() (storage.AuthCode, error) {
			c, err := s.ConsumeAuthCode(t.Context(), []byte("code-1"), now)
			if errors.Is(err, storage.ErrConsumed) {
				err = nil
			}
			return c, err
		})
}

func testAliasFamilies(t *testing.T, s storage.Store) {
	fixF := func() storage.RefreshFamily { return newFamily("f1", "alice", "c1") }
	fixT := func() storage.RefreshToken { return newRefreshToken("t1", "f1") }
	f, tok := fixF(), fixT()
	must(t, s.CreateRefreshFamily(t.Context(), f, tok), "CreateRefreshFamily")
	scribble(&f)
	scribble(&tok)
	noAliasing(t, "refresh family", fixF,
		func(storage.RefreshFamily) error { return nil },
		func() (storage.RefreshFamily, error) { return s.GetRefreshFamily(t.Context(), "f1") })
	noAliasing(t, "listed refresh family", fixF,
		func(storage.RefreshFamily) error { return nil },
		func() (storage.RefreshFamily, error) {
			l, err := s.ListRefreshFamilies(t.Context(), storage.FamilyFilter{})
			if err != nil || len(l) != 1 {
				return storage.RefreshFamily{}, errors.Join(err, errors.New("want 1 family"))
			}
			return l[0], nil
		})
	noAliasing(t, "refresh token", fixT,
		func(storage.RefreshToken) error { return nil },
		func() (storage.RefreshToken, error) { return s.GetRefreshToken(t.Context(), "t1") })
}

func testAliasRotation(t *testing.T, s storage.Store) {
	_, t1 := rotationFixture(t, s)
	now := at(time.Minute)
	r := rotation("t1", "t2", now)
	got, err := s.RotateRefreshToken(t.Context(), r)
	must(t, err, "RotateRefreshToken")
	scribble(&r.Successor)
	r.SuccessorSealed[0] ^= 0xff
	scribble(&got)
	clean := rotation("t1", "t2", now)
	stored, err := s.GetRefreshToken(t.Context(), "t1")
	must(t, err, "GetRefreshToken")
	check(t, "old token after the caller modified its rotation", stored, rotated(t1, clean))
	succ, err := s.GetRefreshToken(t.Context(), "t2")
	must(t, err, "GetRefreshToken")
	check(t, "successor after the caller modified its rotation", succ, clean.Successor)
}

func testAliasConsents(t *testing.T, s storage.Store) {
	fix := func() storage.Consent { return newConsent("alice", "c1", "https://c1.example/cb", "https://r.example") }
	noAliasing(t, "consent", fix,
		func(c storage.Consent) error { return s.PutConsent(t.Context(), c) },
		func() (storage.Consent, error) { return getConsent(t, s, fix()) })
	noAliasing(t, "listed consent", fix,
		func(storage.Consent) error { return nil },
		func() (storage.Consent, error) {
			l, err := s.ListConsents(t.Context(), storage.ConsentFilter{})
			if err != nil || len(l) != 1 {
				return storage.Consent{}, errors.Join(err, errors.New("want 1 consent"))
			}
			return l[0], nil
		})
}

func testAliasBrowserSessions(t *testing.T, s storage.Store) {
	fix := func() storage.BrowserSession { return newBrowserSession("b1", "alice", at(0)) }
	noAliasing(t, "browser session", fix,
		func(b storage.BrowserSession) error { return s.CreateBrowserSession(t.Context(), b) },
		func() (storage.BrowserSession, error) { return s.GetBrowserSession(t.Context(), "b1") })
	noAliasing(t, "listed browser session", fix,
		func(storage.BrowserSession) error { return nil },
		func() (storage.BrowserSession, error) {
			l, err := s.ListBrowserSessions(t.Context(), "alice")
			if err != nil || len(l) != 1 {
				return storage.BrowserSession{}, errors.Join(err, errors.New("want 1 session"))
			}
			return l[0], nil
		})
}

func testAliasUpstream(t *testing.T, s storage.Store) {
	fix := func() storage.UpstreamToken { return newUpstreamToken("alice", "github") }
	noAliasing(t, "upstream token", fix,
		func(u storage.UpstreamToken) error { return s.PutUpstreamToken(t.Context(), u) },
		func() (storage.UpstreamToken, error) { return getUpstream(t, s, fix()) })
}

func testAliasSigningKeys(t *testing.T, s storage.Store) {
	fix := func() storage.SigningKey { return newSigningKey("k1", at(0)) }
	noAliasing(t, "signing key", fix,
		func(k storage.SigningKey) error { return s.CreateSigningKey(t.Context(), k) },
		func() (storage.SigningKey, error) { return getSigningKey(t, s, "k1") })
}

func testAliasAudit(t *testing.T, s storage.Store) {
	fix := func() storage.AuditRecord {
		r, _ := chained(newAuditRecord("e1", "x", "alice", at(0)))(storage.AuditRecord{}, false)
		r.Seq = 1
		return r
	}
	noAliasing(t, "audit record", fix,
		func(storage.AuditRecord) error {
			var built storage.AuditRecord
			got, err := s.AppendAudit(t.Context(), func(storage.AuditRecord, bool) (storage.AuditRecord, error) {
				built = fix()
				return built, nil
			})
			scribble(&built)
			scribble(&got)
			return err
		},
		func() (storage.AuditRecord, error) {
			l, err := s.ListAudit(t.Context(), storage.AuditQuery{})
			if err != nil || len(l) != 1 {
				return storage.AuditRecord{}, errors.Join(err, errors.New("want 1 record"))
			}
			return l[0], nil
		})
}

// A build that writes to the previous record it is handed (say, appending
// to prev.Hash) must not reach the stored chain.
func testAliasAuditPrev(t *testing.T, s storage.Store) {
	first := appendAll(t, s, newAuditRecord("e1", "x", "alice", at(0)))[0]
	_, err := s.AppendAudit(t.Context(), func(prev storage.AuditRecord, _ bool) (storage.AuditRecord, error) {
		scribble(&prev)
		return prev, errBoom
	})
	if err != errBoom {
		t.Fatalf("AppendAudit whose build failed: got error %v, want errBoom itself", err)
	}
	l, err := s.ListAudit(t.Context(), storage.AuditQuery{})
	must(t, err, "ListAudit")
	check(t, "chain after a build scribbled on prev", l, []storage.AuditRecord{first})
	_, err = s.AppendAudit(t.Context(), func(prev storage.AuditRecord, _ bool) (storage.AuditRecord, error) {
		check(t, "prev handed to the build after one scribbled on it", prev, first)
		return chained(newAuditRecord("e2", "x", "alice", at(time.Second)))(prev, true)
	})
	must(t, err, "AppendAudit")
}
