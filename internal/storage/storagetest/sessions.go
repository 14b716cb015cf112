package storagetest

import (
	"slices"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var browserSessionTests = []testCase{
	{"RoundTrip", testBrowserSessionRoundTrip},
	{"CreateExisting", testBrowserSessionCreateExisting},
	{"Missing", testBrowserSessionMissing},
	{"Update", testBrowserSessionUpdate},
	{"ListOldestFirst", testBrowserSessionList},
	{"Delete", testBrowserSessionDelete},
	{"DeleteEmptySubject", testBrowserSessionDeleteEmptySubject},
}

func testBrowserSessionRoundTrip(t *testing.T, s storage.Store) {
	b := newBrowserSession("b1", "github:alice", at(-time.Hour))
	requireAllSet(t, b)
	must(t, s.CreateBrowserSession(t.Context(), b), "CreateBrowserSession")
	got, err := s.GetBrowserSession(t.Context(), "b1")
	must(t, err, "GetBrowserSession")
	check(t, "browser session", got, b)
}

func testBrowserSessionCreateExisting(t *testing.T, s storage.Store) {
	b := newBrowserSession("b1", "github:alice", at(-time.Hour))
	must(t, s.CreateBrowserSession(t.Context(), b), "CreateBrowserSession")
	// SPEC SE-1: a colliding ID must never hand one user's session to another.
	err := s.CreateBrowserSession(t.Context(), newBrowserSession("b1", "github:mallory", at(0)))
	wantErr(t, err, storage.ErrAlreadyExists, "CreateBrowserSession twice")
	got, err := s.GetBrowserSession(t.Context(), "b1")
	must(t, err, "GetBrowserSession")
	check(t, "browser session after refused create", got, b)
}

func testBrowserSessionMissing(t *testing.T, s storage.Store) {
	_, err := s.GetBrowserSession(t.Context(), "nope")
	wantErr(t, err, storage.ErrNotFound, "GetBrowserSession of a missing session")
	wantErr(t, s.DeleteBrowserSession(t.Context(), "nope"), storage.ErrNotFound, "DeleteBrowserSession of a missing session")
}

func testBrowserSessionUpdate(t *testing.T, s storage.Store) {
	b := newBrowserSession("b1", "github:alice", at(-time.Hour))
	must(t, s.CreateBrowserSession(t.Context(), b), "CreateBrowserSession")
	updaterLaws[storage.BrowserSession]{
		stored:  b,
		missing: newBrowserSession("nope", "github:alice", at(0)),
		update: func(k storage.BrowserSession, fn func(storage.BrowserSession) (storage.BrowserSession, error)) error {
			return s.UpdateBrowserSession(t.Context(), k.ID, fn)
		},
		get: func(k storage.BrowserSession) (storage.BrowserSession, error) {
			return s.GetBrowserSession(t.Context(), k.ID)
		},
		change: func(b storage.BrowserSession) storage.BrowserSession {
			b.LastSeenAt = b.LastSeenAt.Add(time.Minute)
			b.IdleExpiresAt = b.IdleExpiresAt.Add(time.Minute)
			b.Groups = append(slices.Clip(b.Groups), "new-group")
			b.EmailVerified = !b.EmailVerified
			return b
		},
		rekey: func(b storage.BrowserSession) storage.BrowserSession { b.ID += "-moved"; return b },
	}.check(t)
}

// SPEC SE-1: the concurrent-session limit evicts from the front of the list,
// so the order must be by CreatedAt, not by insertion or ID.
func testBrowserSessionList(t *testing.T, s storage.Store) {
	l, err := s.ListBrowserSessions(t.Context(), "")
	must(t, err, "ListBrowserSessions of an empty store")
	check(t, "sessions of an empty store", l, nil)

	a1 := newBrowserSession("z-alice-oldest", "alice", at(-3*time.Hour))
	a2 := newBrowserSession("a-alice-middle", "alice", at(-2*time.Hour))
	a3 := newBrowserSession("m-alice-newest", "alice", at(-time.Hour))
	b1 := newBrowserSession("b-bob", "bob", at(-90*time.Minute))
	for _, b := range []storage.BrowserSession{a2, b1, a3, a1} {
		must(t, s.CreateBrowserSession(t.Context(), b), "CreateBrowserSession")
	}
	l, err = s.ListBrowserSessions(t.Context(), "alice")
	must(t, err, "ListBrowserSessions(alice)")
	check(t, "alice's sessions, oldest first", l, []storage.BrowserSession{a1, a2, a3})
	l, err = s.ListBrowserSessions(t.Context(), "")
	must(t, err, "ListBrowserSessions(all)")
	check(t, "all sessions, oldest first", l, []storage.BrowserSession{a1, a2, b1, a3})
	l, err = s.ListBrowserSessions(t.Context(), "carol")
	must(t, err, "ListBrowserSessions(carol)")
	check(t, "sessions of a user with none", l, nil)
}

func testBrowserSessionDelete(t *testing.T, s storage.Store) {
	for _, b := range []storage.BrowserSession{
		newBrowserSession("a1", "alice", at(-3*time.Hour)),
		newBrowserSession("a2", "alice", at(-2*time.Hour)),
		newBrowserSession("a3", "alice", at(-time.Hour)),
		newBrowserSession("b1", "bob", at(-time.Hour)),
	} {
		must(t, s.CreateBrowserSession(t.Context(), b), "CreateBrowserSession")
	}
	must(t, s.DeleteBrowserSession(t.Context(), "a2"), "DeleteBrowserSession")
	_, err := s.GetBrowserSession(t.Context(), "a2")
	wantErr(t, err, storage.ErrNotFound, "GetBrowserSession after delete")

	n, err := s.DeleteBrowserSessions(t.Context(), "alice")
	must(t, err, "DeleteBrowserSessions(alice)")
	if n != 2 {
		t.Errorf("DeleteBrowserSessions(alice) = %d, want 2", n)
	}
	n, err = s.DeleteBrowserSessions(t.Context(), "alice")
	must(t, err, "DeleteBrowserSessions(alice) again")
	if n != 0 {
		t.Errorf("repeated DeleteBrowserSessions(alice) = %d, want 0", n)
	}
	l, err := s.ListBrowserSessions(t.Context(), "")
	must(t, err, "ListBrowserSessions")
	if len(l) != 1 || l[0].ID != "b1" {
		t.Errorf("sessions left after deleting alice's: %v, want just b1", sessionIDs(l))
	}
}

// DeleteBrowserSessions("") is refused and deletes nothing, not even the
// sessions whose subject is "": the kill switch called with a blank user
// must not log everyone out.
func testBrowserSessionDeleteEmptySubject(t *testing.T, s storage.Store) {
	all := []storage.BrowserSession{
		newBrowserSession("a1", "alice", at(-2*time.Hour)),
		newBrowserSession("b1", "bob", at(-time.Hour)),
		newBrowserSession("x1", "", at(0)),
	}
	for _, b := range all {
		must(t, s.CreateBrowserSession(t.Context(), b), "CreateBrowserSession")
	}
	n, err := s.DeleteBrowserSessions(t.Context(), "")
	wantErr(t, err, storage.ErrInvalidArgument, `DeleteBrowserSessions("")`)
	if n != 0 {
		t.Errorf(`refused DeleteBrowserSessions("") reported %d deleted`, n)
	}
	l, err := s.ListBrowserSessions(t.Context(), "")
	must(t, err, "ListBrowserSessions")
	check(t, "sessions after a refused delete", l, all)
}

func sessionIDs(l []storage.BrowserSession) []string {
	ids := make([]string, len(l))
	for i, b := range l {
		ids[i] = b.ID
	}
	return ids
}

var mcpSessionTests = []testCase{
	{"RoundTrip", testMCPSessionRoundTrip},
	{"CreateExisting", testMCPSessionCreateExisting},
	{"Missing", testMCPSessionMissing},
	{"Update", testMCPSessionUpdate},
	{"Delete", testMCPSessionDelete},
}

func testMCPSessionRoundTrip(t *testing.T, s storage.Store) {
	m := newMCPSession("m1")
	requireAllSet(t, m)
	must(t, s.CreateMCPSession(t.Context(), m), "CreateMCPSession")
	got, err := s.GetMCPSession(t.Context(), "m1")
	must(t, err, "GetMCPSession")
	check(t, "MCP session", got, m)
}

func testMCPSessionCreateExisting(t *testing.T, s storage.Store) {
	m := newMCPSession("m1")
	must(t, s.CreateMCPSession(t.Context(), m), "CreateMCPSession")
	// SPEC PX-9: a second principal must not take over a bound session ID.
	dup := newMCPSession("m1")
	dup.Subject = "github:mallory"
	wantErr(t, s.CreateMCPSession(t.Context(), dup), storage.ErrAlreadyExists, "CreateMCPSession twice")
	got, err := s.GetMCPSession(t.Context(), "m1")
	must(t, err, "GetMCPSession")
	check(t, "MCP session after refused create", got, m)
}

func testMCPSessionMissing(t *testing.T, s storage.Store) {
	_, err := s.GetMCPSession(t.Context(), "nope")
	wantErr(t, err, storage.ErrNotFound, "GetMCPSession of a missing session")
	wantErr(t, s.DeleteMCPSession(t.Context(), "nope"), storage.ErrNotFound, "DeleteMCPSession of a missing session")
}

func testMCPSessionUpdate(t *testing.T, s storage.Store) {
	m := newMCPSession("m1")
	must(t, s.CreateMCPSession(t.Context(), m), "CreateMCPSession")
	updaterLaws[storage.MCPSession]{
		stored:  m,
		missing: newMCPSession("nope"),
		update: func(k storage.MCPSession, fn func(storage.MCPSession) (storage.MCPSession, error)) error {
			return s.UpdateMCPSession(t.Context(), k.ID, fn)
		},
		get: func(k storage.MCPSession) (storage.MCPSession, error) { return s.GetMCPSession(t.Context(), k.ID) },
		change: func(m storage.MCPSession) storage.MCPSession {
			m.LastSeenAt = m.LastSeenAt.Add(time.Minute)
			m.ExpiresAt = m.ExpiresAt.Add(time.Minute)
			m.UpstreamID += "-renewed"
			return m
		},
		rekey: func(m storage.MCPSession) storage.MCPSession { m.ID += "-moved"; return m },
	}.check(t)
}

func testMCPSessionDelete(t *testing.T, s storage.Store) {
	must(t, s.CreateMCPSession(t.Context(), newMCPSession("m1")), "CreateMCPSession")
	must(t, s.CreateMCPSession(t.Context(), newMCPSession("m2")), "CreateMCPSession")
	must(t, s.DeleteMCPSession(t.Context(), "m1"), "DeleteMCPSession")
	_, err := s.GetMCPSession(t.Context(), "m1")
	wantErr(t, err, storage.ErrNotFound, "GetMCPSession after delete")
	_, err = s.GetMCPSession(t.Context(), "m2")
	must(t, err, "GetMCPSession of the session that was not deleted")
}
