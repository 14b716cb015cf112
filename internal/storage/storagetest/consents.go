package storagetest

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var consentTests = []testCase{
	{"RoundTrip", testConsentRoundTrip},
	{"KeyHasFourParts", testConsentKey},
	{"PutReplaces", testConsentPutReplaces},
	{"ListAndDelete", testConsentListAndDelete},
	{"DeleteEmptyFilter", testConsentDeleteEmptyFilter},
}

func getConsent(t *testing.T, s storage.Store, c storage.Consent) (storage.Consent, error) {
	t.Helper()
	return s.GetConsent(t.Context(), c.Subject, c.ClientID, c.RedirectURI, c.Resource)
}

func testConsentRoundTrip(t *testing.T, s storage.Store) {
	c := newConsent("github:alice", "c1", "https://c1.example/cb", "https://mcp.example/files")
	requireAllSet(t, c)
	must(t, s.PutConsent(t.Context(), c), "PutConsent")
	got, err := getConsent(t, s, c)
	must(t, err, "GetConsent")
	check(t, "consent", got, c)
}

// SPEC AS-3: an approval is for one (user, client, redirect URI, resource);
// a store that dropped any part of the key would let one approval stand in
// for another (a confused deputy).
func testConsentKey(t *testing.T, s storage.Store) {
	c := newConsent("github:alice", "c1", "https://c1.example/cb", "https://mcp.example/files")
	must(t, s.PutConsent(t.Context(), c), "PutConsent")
	variants := []func(*storage.Consent){
		func(c *storage.Consent) { c.Subject = "github:bob" },
		func(c *storage.Consent) { c.ClientID = "c2" },
		func(c *storage.Consent) { c.RedirectURI = "https://evil.example/cb" },
		func(c *storage.Consent) { c.Resource = "https://mcp.example/mail" },
	}
	for _, vary := range variants {
		k := c
		vary(&k)
		_, err := getConsent(t, s, k)
		wantErr(t, err, storage.ErrNotFound, "GetConsent of a key differing in one part")
	}
	// And each variant is a consent of its own.
	for i, vary := range variants {
		k := newConsent("github:alice", "c1", "https://c1.example/cb", "https://mcp.example/files")
		vary(&k)
		k.Scopes = []string{"variant", string(rune('a' + i))}
		must(t, s.PutConsent(t.Context(), k), "PutConsent")
	}
	got, err := getConsent(t, s, c)
	must(t, err, "GetConsent")
	check(t, "original consent after putting its neighbours", got, c)
	l, err := s.ListConsents(t.Context(), storage.ConsentFilter{})
	must(t, err, "ListConsents")
	if len(l) != 5 {
		t.Errorf("ListConsents found %d consents, want 5", len(l))
	}
}

func testConsentPutReplaces(t *testing.T, s storage.Store) {
	c := newConsent("github:alice", "c1", "https://c1.example/cb", "https://mcp.example/files")
	must(t, s.PutConsent(t.Context(), c), "PutConsent")
	repl := c
	repl.Scopes = []string{"mcp:read", "mcp:write"}
	repl.GrantedAt = at(time.Hour)
	repl.ExpiresAt = time.Time{}
	must(t, s.PutConsent(t.Context(), repl), "PutConsent again")
	got, err := getConsent(t, s, c)
	must(t, err, "GetConsent")
	check(t, "replaced consent", got, repl)
	l, err := s.ListConsents(t.Context(), storage.ConsentFilter{})
	must(t, err, "ListConsents")
	check(t, "consents after replacing put", l, []storage.Consent{repl})
}

func testConsentListAndDelete(t *testing.T, s storage.Store) {
	l, err := s.ListConsents(t.Context(), storage.ConsentFilter{})
	must(t, err, "ListConsents of an empty store")
	check(t, "consents of an empty store", l, nil)

	const res1, res2 = "https://mcp.example/files", "https://mcp.example/mail"
	all := []storage.Consent{
		newConsent("alice", "c1", "https://c1.example/cb", res1),
		newConsent("alice", "c1", "https://c1.example/cb", res2),
		newConsent("alice", "c2", "https://c2.example/cb", res1),
		newConsent("bob", "c1", "https://c1.example/cb", res1),
	}
	for _, c := range all {
		must(t, s.PutConsent(t.Context(), c), "PutConsent")
	}
	for _, tc := range []struct {
		f    storage.ConsentFilter
		want []storage.Consent
	}{
		{storage.ConsentFilter{}, all},
		{storage.ConsentFilter{Subject: "alice"}, all[:3]},
		{storage.ConsentFilter{ClientID: "c1"}, []storage.Consent{all[0], all[1], all[3]}},
		{storage.ConsentFilter{Subject: "alice", ClientID: "c1"}, all[:2]},
		{storage.ConsentFilter{Subject: "carol"}, nil},
	} {
		l, err := s.ListConsents(t.Context(), tc.f)
		must(t, err, "ListConsents")
		sortConsents(l)
		check(t, "consents of subject="+tc.f.Subject+" client="+tc.f.ClientID, l, tc.want)
	}

	n, err := s.DeleteConsents(t.Context(), storage.ConsentFilter{Subject: "alice", ClientID: "c1"})
	must(t, err, "DeleteConsents")
	if n != 2 {
		t.Errorf("DeleteConsents(alice, c1) = %d, want 2", n)
	}
	n, err = s.DeleteConsents(t.Context(), storage.ConsentFilter{Subject: "alice", ClientID: "c1"})
	must(t, err, "DeleteConsents again")
	if n != 0 {
		t.Errorf("repeated DeleteConsents(alice, c1) = %d, want 0", n)
	}
	l, err = s.ListConsents(t.Context(), storage.ConsentFilter{})
	must(t, err, "ListConsents")
	sortConsents(l)
	check(t, "consents left", l, []storage.Consent{all[2], all[3]})

	n, err = s.DeleteConsents(t.Context(), storage.ConsentFilter{ClientID: "c1"})
	must(t, err, "DeleteConsents by client")
	if n != 1 {
		t.Errorf("DeleteConsents(client c1) = %d, want 1", n)
	}
	n, err = s.DeleteConsents(t.Context(), storage.ConsentFilter{Subject: "alice"})
	must(t, err, "DeleteConsents by subject")
	if n != 1 {
		t.Errorf("DeleteConsents(subject alice) = %d, want 1", n)
	}
	l, err = s.ListConsents(t.Context(), storage.ConsentFilter{})
	must(t, err, "ListConsents")
	check(t, "consents left", l, nil)
}

// An empty filter matches every consent; on a delete that is a caller bug
// (a blank user reaching the kill switch), never a request to forget every
// approval in the deployment. It is refused and deletes nothing.
func testConsentDeleteEmptyFilter(t *testing.T, s storage.Store) {
	all := []storage.Consent{
		newConsent("alice", "c1", "https://c1.example/cb", "https://mcp.example/files"),
		newConsent("bob", "c2", "https://c2.example/cb", "https://mcp.example/files"),
		newConsent("", "", "https://c3.example/cb", "https://mcp.example/files"),
	}
	for _, c := range all {
		must(t, s.PutConsent(t.Context(), c), "PutConsent")
	}
	n, err := s.DeleteConsents(t.Context(), storage.ConsentFilter{})
	wantErr(t, err, storage.ErrInvalidArgument, "DeleteConsents with an empty filter")
	if n != 0 {
		t.Errorf("refused DeleteConsents reported %d deleted", n)
	}
	l, err := s.ListConsents(t.Context(), storage.ConsentFilter{})
	must(t, err, "ListConsents")
	sortConsents(l)
	sortConsents(all)
	check(t, "consents after a refused delete", l, all)
}

func sortConsents(l []storage.Consent) {
	slices.SortFunc(l, func(a, b storage.Consent) int {
		return cmp.Or(cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.ClientID, b.ClientID),
			cmp.Compare(a.RedirectURI, b.RedirectURI), cmp.Compare(a.Resource, b.Resource))
	})
}
