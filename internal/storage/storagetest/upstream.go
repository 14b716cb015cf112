package storagetest

import (
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var upstreamTokenTests = []testCase{
	{"RoundTrip", testUpstreamRoundTrip},
	{"KeyIsSubjectAndProvider", testUpstreamKey},
	{"PutReplaces", testUpstreamPutReplaces},
	{"Update", testUpstreamUpdate},
	{"DeleteBySubject", testUpstreamDelete},
	{"DeleteEmptySubject", testUpstreamDeleteEmptySubject},
}

func getUpstream(t *testing.T, s storage.Store, k storage.UpstreamToken) (storage.UpstreamToken, error) {
	t.Helper()
	return s.GetUpstreamToken(t.Context(), k.Subject, k.ProviderID)
}

func testUpstreamRoundTrip(t *testing.T, s storage.Store) {
	u := newUpstreamToken("github:alice", "github")
	requireAllSet(t, u)
	must(t, s.PutUpstreamToken(t.Context(), u), "PutUpstreamToken")
	got, err := getUpstream(t, s, u)
	must(t, err, "GetUpstreamToken")
	check(t, "upstream token", got, u)
}

func testUpstreamKey(t *testing.T, s storage.Store) {
	toks := []storage.UpstreamToken{
		newUpstreamToken("alice", "github"),
		newUpstreamToken("alice", "google"),
		newUpstreamToken("bob", "github"),
	}
	for _, u := range toks {
		must(t, s.PutUpstreamToken(t.Context(), u), "PutUpstreamToken")
	}
	for _, u := range toks {
		got, err := getUpstream(t, s, u)
		must(t, err, "GetUpstreamToken")
		check(t, "upstream token of "+u.Subject+"@"+u.ProviderID, got, u)
	}
	for _, k := range []storage.UpstreamToken{{Subject: "bob", ProviderID: "google"}, {Subject: "carol", ProviderID: "github"}} {
		_, err := getUpstream(t, s, k)
		wantErr(t, err, storage.ErrNotFound, "GetUpstreamToken of "+k.Subject+"@"+k.ProviderID)
	}
}

func testUpstreamPutReplaces(t *testing.T, s storage.Store) {
	u := newUpstreamToken("alice", "github")
	must(t, s.PutUpstreamToken(t.Context(), u), "PutUpstreamToken")
	repl := u
	repl.Sealed = []byte("refreshed")
	repl.ConfigHash = nil
	repl.ExpiresAt = at(2 * time.Hour)
	repl.UpdatedAt = at(0)
	must(t, s.PutUpstreamToken(t.Context(), repl), "PutUpstreamToken again")
	got, err := getUpstream(t, s, u)
	must(t, err, "GetUpstreamToken")
	check(t, "replaced upstream token", got, repl)
}

func testUpstreamUpdate(t *testing.T, s storage.Store) {
	u := newUpstreamToken("alice", "github")
	must(t, s.PutUpstreamToken(t.Context(), u), "PutUpstreamToken")
	must(t, s.PutUpstreamToken(t.Context(), newUpstreamToken("alice", "google")), "PutUpstreamToken")
	updaterLaws[storage.UpstreamToken]{
		stored:  u,
		missing: newUpstreamToken("bob", "github"),
		update: func(k storage.UpstreamToken, fn func(storage.UpstreamToken) (storage.UpstreamToken, error)) error {
			return s.UpdateUpstreamToken(t.Context(), k.Subject, k.ProviderID, fn)
		},
		get: func(k storage.UpstreamToken) (storage.UpstreamToken, error) { return getUpstream(t, s, k) },
		change: func(u storage.UpstreamToken) storage.UpstreamToken {
			u.Sealed = append([]byte("refreshed:"), u.Sealed...)
			u.ExpiresAt = u.ExpiresAt.Add(time.Hour)
			u.UpdatedAt = u.UpdatedAt.Add(time.Minute)
			return u
		},
		rekey: func(u storage.UpstreamToken) storage.UpstreamToken { u.ProviderID = "gitlab"; return u },
	}.check(t)
	// The neighbour under the same subject is untouched.
	got, err := getUpstream(t, s, storage.UpstreamToken{Subject: "alice", ProviderID: "google"})
	must(t, err, "GetUpstreamToken")
	check(t, "neighbouring upstream token", got, newUpstreamToken("alice", "google"))
}

func testUpstreamDelete(t *testing.T, s storage.Store) {
	for _, u := range []storage.UpstreamToken{
		newUpstreamToken("alice", "github"),
		newUpstreamToken("alice", "google"),
		newUpstreamToken("bob", "github"),
	} {
		must(t, s.PutUpstreamToken(t.Context(), u), "PutUpstreamToken")
	}
	n, err := s.DeleteUpstreamTokens(t.Context(), "alice")
	must(t, err, "DeleteUpstreamTokens(alice)")
	if n != 2 {
		t.Errorf("DeleteUpstreamTokens(alice) = %d, want 2", n)
	}
	n, err = s.DeleteUpstreamTokens(t.Context(), "alice")
	must(t, err, "DeleteUpstreamTokens(alice) again")
	if n != 0 {
		t.Errorf("repeated DeleteUpstreamTokens(alice) = %d, want 0", n)
	}
	for _, p := range []string{"github", "google"} {
		_, err := s.GetUpstreamToken(t.Context(), "alice", p)
		wantErr(t, err, storage.ErrNotFound, "GetUpstreamToken after DeleteUpstreamTokens")
	}
	_, err = s.GetUpstreamToken(t.Context(), "bob", "github")
	must(t, err, "GetUpstreamToken of another subject")
}

// DeleteUpstreamTokens("") is refused and deletes nothing, as
// DeleteBrowserSessions(""): a blank user must not wipe everyone's tokens.
func testUpstreamDeleteEmptySubject(t *testing.T, s storage.Store) {
	all := []storage.UpstreamToken{
		newUpstreamToken("alice", "github"),
		newUpstreamToken("bob", "github"),
		newUpstreamToken("", "github"),
	}
	for _, u := range all {
		must(t, s.PutUpstreamToken(t.Context(), u), "PutUpstreamToken")
	}
	n, err := s.DeleteUpstreamTokens(t.Context(), "")
	wantErr(t, err, storage.ErrInvalidArgument, `DeleteUpstreamTokens("")`)
	if n != 0 {
		t.Errorf(`refused DeleteUpstreamTokens("") reported %d deleted`, n)
	}
	for _, u := range all {
		got, err := getUpstream(t, s, u)
		must(t, err, "GetUpstreamToken after a refused delete")
		check(t, "upstream token of "+u.Subject+"@"+u.ProviderID+" after a refused delete", got, u)
	}
}
