package memory

import (
	"cmp"
	"context"
	"slices"

	"github.com/mcpgate/mcpgate/internal/storage"
)

func setClientKey(c *storage.Client, id string) { c.ID = id }

func (s *Store) CreateClient(_ context.Context, c storage.Client) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return create(s.clients, "client", c.ID, cloneClient(c))
}

func (s *Store) GetClient(_ context.Context, id string) (storage.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return get(s.clients, "client", id, cloneClient)
}

func (s *Store) UpdateClient(_ context.Context, id string, fn func(storage.Client) (storage.Client, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return update(s.clients, "client", id, cloneClient, setClientKey, fn)
}

func (s *Store) PutClient(_ context.Context, c storage.Client) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[c.ID] = cloneClient(c)
	return nil
}

func (s *Store) DeleteClient(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return remove(s.clients, "client", id)
}

// ListClients lists every client, by ID.
func (s *Store) ListClients(context.Context) ([]storage.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]storage.Client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, cloneClient(c))
	}
	slices.SortFunc(out, func(a, b storage.Client) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}
