package sqlstore

import (
	"context"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var consents = record[storage.Consent]{
	what: "consent", table: "consents", key: []string{"subject", "client_id", "redirect_uri", "resource"},
	cols: []string{"subject", "client_id", "redirect_uri", "resource", "scopes", "granted_at", "expires_at"},
	args: func(c storage.Consent) []any {
		return []any{c.Subject, c.ClientID, c.RedirectURI, c.Resource, jsonText(c.Scopes),
			nanos(c.GrantedAt), nanos(c.ExpiresAt)}
	},
	scan: func(sc scanner) (c storage.Consent, err error) {
		err = sc.Scan(&c.Subject, &c.ClientID, &c.RedirectURI, &c.Resource, jsonCol{&c.Scopes},
			timeCol{&c.GrantedAt}, timeCol{&c.ExpiresAt})
		return c, err
	},
}

// PutConsent creates c or replaces the consent with its key.
func (s *Store) PutConsent(ctx context.Context, c storage.Consent) error {
	return consents.put(ctx, s, c)
}

// GetConsent returns the consent with the given key.
func (s *Store) GetConsent(ctx context.Context, subject, clientID, redirectURI, resource string) (storage.Consent, error) {
	return consents.get(ctx, s, subject, clientID, redirectURI, resource)
}

// ListConsents lists the consents matching f, by key.
func (s *Store) ListConsents(ctx context.Context, f storage.ConsentFilter) ([]storage.Consent, error) {
	w := new(filter).eq("subject", f.Subject).eq("client_id", f.ClientID)
	return consents.find(ctx, s, w.sql(), "subject, client_id, redirect_uri, resource", w.args...)
}

// DeleteConsents deletes the consents matching f and returns how many. An
// empty filter, which would delete every consent, is refused.
func (s *Store) DeleteConsents(ctx context.Context, f storage.ConsentFilter) (int, error) {
	if err := storage.CheckConsentFilter(f); err != nil {
		return 0, err
	}
	w := new(filter).eq("subject", f.Subject).eq("client_id", f.ClientID)
	n, err := s.exec(ctx, s.w, "DELETE FROM consents WHERE "+s.d.keyOrdered(consents.table, consents.key, w.sql()), w.args...)
	return n, s.wrap("delete consents", err)
}
