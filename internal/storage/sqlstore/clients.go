package sqlstore

import (
	"context"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var clients = record[storage.Client]{
	what: "client", table: "clients", key: []string{"id"},
	cols: []string{"id", "secret_hash", "name", "uri", "logo_uri", "redirect_uris", "grant_types",
		"response_types", "token_endpoint_auth_method", "scopes", "source",
		"created_at", "updated_at", "expires_at"},
	args: func(c storage.Client) []any {
		return []any{c.ID, c.SecretHash, c.Name, c.URI, c.LogoURI, jsonText(c.RedirectURIs),
			jsonText(c.GrantTypes), jsonText(c.ResponseTypes), c.TokenEndpointAuthMethod,
			jsonText(c.Scopes), string(c.Source), nanos(c.CreatedAt), nanos(c.UpdatedAt), nanos(c.ExpiresAt)}
	},
	scan: func(sc scanner) (c storage.Client, err error) {
		err = sc.Scan(&c.ID, blobCol{&c.SecretHash}, &c.Name, &c.URI, &c.LogoURI, jsonCol{&c.RedirectURIs},
			jsonCol{&c.GrantTypes}, jsonCol{&c.ResponseTypes}, &c.TokenEndpointAuthMethod,
			jsonCol{&c.Scopes}, (*string)(&c.Source), timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt}, timeCol{&c.ExpiresAt})
		return c, err
	},
}

// CreateClient stores c; ErrAlreadyExists if its ID is taken.
func (s *Store) CreateClient(ctx context.Context, c storage.Client) error {
	return clients.create(ctx, s, s.w, c)
}

// GetClient returns the client with the given ID.
func (s *Store) GetClient(ctx context.Context, id string) (storage.Client, error) {
	return clients.get(ctx, s, id)
}

// UpdateClient replaces the client with fn's result (compare-and-swap).
func (s *Store) UpdateClient(ctx context.Context, id string, fn func(storage.Client) (storage.Client, error)) error {
	return clients.update(ctx, s, fn, id)
}

// PutClient creates c or replaces the client with its ID.
func (s *Store) PutClient(ctx context.Context, c storage.Client) error {
	return clients.put(ctx, s, c)
}

// DeleteClient deletes the client with the given ID.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	return clients.delete(ctx, s, id)
}

// ListClients lists every client, by ID.
func (s *Store) ListClients(ctx context.Context) ([]storage.Client, error) {
	return clients.find(ctx, s, "1 = 1", "id")
}
