package storagetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var clientTests = []testCase{
	{"RoundTrip", testClientRoundTrip},
	{"CreateExisting", testClientCreateExisting},
	{"Missing", testClientMissing},
	{"Update", testClientUpdate},
	{"Put", testClientPut},
	{"ListAndDelete", testClientListAndDelete},
}

func testClientRoundTrip(t *testing.T, s storage.Store) {
	c := newClient("c1")
	requireAllSet(t, c)
	must(t, s.CreateClient(t.Context(), c), "CreateClient")
	got, err := s.GetClient(t.Context(), "c1")
	must(t, err, "GetClient")
	check(t, "client", got, c)
}

func testClientCreateExisting(t *testing.T, s storage.Store) {
	c := newClient("c1")
	must(t, s.CreateClient(t.Context(), c), "CreateClient")
	dup := newClient("c1")
	dup.Name = "impostor"
	wantErr(t, s.CreateClient(t.Context(), dup), storage.ErrAlreadyExists, "CreateClient twice")
	got, err := s.GetClient(t.Context(), "c1")
	must(t, err, "GetClient")
	check(t, "client after refused create", got, c)
}

func testClientMissing(t *testing.T, s storage.Store) {
	_, err := s.GetClient(t.Context(), "nope")
	wantErr(t, err, storage.ErrNotFound, "GetClient of a missing client")
	wantErr(t, s.DeleteClient(t.Context(), "nope"), storage.ErrNotFound, "DeleteClient of a missing client")
}

func testClientUpdate(t *testing.T, s storage.Store) {
	c := newClient("c1")
	must(t, s.CreateClient(t.Context(), c), "CreateClient")
	updaterLaws[storage.Client]{
		stored:  c,
		missing: newClient("nope"),
		update: func(k storage.Client, fn func(storage.Client) (storage.Client, error)) error {
			return s.UpdateClient(t.Context(), k.ID, fn)
		},
		get: func(k storage.Client) (storage.Client, error) { return s.GetClient(t.Context(), k.ID) },
		change: func(c storage.Client) storage.Client {
			c.Name += " (renamed)"
			c.RedirectURIs = append(slices.Clip(c.RedirectURIs), "https://new.example/cb")
			c.SecretHash = nil
			c.UpdatedAt = c.UpdatedAt.Add(time.Minute)
			return c
		},
		rekey: func(c storage.Client) storage.Client { c.ID += "-moved"; return c },
	}.check(t)
}

func testClientPut(t *testing.T, s storage.Store) {
	c := newClient("c1")
	must(t, s.PutClient(t.Context(), c), "PutClient of a new client")
	got, err := s.GetClient(t.Context(), "c1")
	must(t, err, "GetClient")
	check(t, "client after first put", got, c)

	// A put replaces the whole record; nothing of the old one survives.
	repl := storage.Client{
		ID:           "c1",
		Name:         "replaced",
		RedirectURIs: []string{"https://replaced.example/cb"},
		Source:       storage.ClientSourceCIMD,
		CreatedAt:    at(time.Hour),
	}
	must(t, s.PutClient(t.Context(), repl), "PutClient of an existing client")
	got, err = s.GetClient(t.Context(), "c1")
	must(t, err, "GetClient")
	check(t, "client after replacing put", got, repl)
}

func testClientListAndDelete(t *testing.T, s storage.Store) {
	list, err := s.ListClients(t.Context())
	must(t, err, "ListClients of an empty store")
	check(t, "clients of an empty store", list, nil)

	want := []storage.Client{newClient("a"), newClient("b"), newClient("c")}
	for _, c := range want {
		must(t, s.CreateClient(t.Context(), c), "CreateClient")
	}
	list, err = s.ListClients(t.Context())
	must(t, err, "ListClients")
	sortClients(list)
	check(t, "clients", list, want)

	must(t, s.DeleteClient(t.Context(), "b"), "DeleteClient")
	_, err = s.GetClient(t.Context(), "b")
	wantErr(t, err, storage.ErrNotFound, "GetClient after DeleteClient")
	list, err = s.ListClients(t.Context())
	must(t, err, "ListClients")
	sortClients(list)
	check(t, "clients after delete", list, []storage.Client{want[0], want[2]})
}

func sortClients(l []storage.Client) {
	slices.SortFunc(l, func(a, b storage.Client) int { return strings.Compare(a.ID, b.ID) })
}
