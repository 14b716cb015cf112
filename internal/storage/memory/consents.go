package memory

import (
	"cmp"
	"context"
	"slices"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// consentKey is a consent's identity (SPEC AS-3): an approval for one
// redirect URI or resource never stands in for another.
type consentKey struct {
	subject, clientID, redirectURI, resource string
}

func keyOfConsent(c storage.Consent) consentKey {
	return consentKey{c.Subject, c.ClientID, c.RedirectURI, c.Resource}
}

func consentMatches(c storage.Consent, f storage.ConsentFilter) bool {
	return (f.Subject == "" || c.Subject == f.Subject) && (f.ClientID == "" || c.ClientID == f.ClientID)
}

func (s *Store) PutConsent(_ context.Context, c storage.Consent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.consents[keyOfConsent(c)] = cloneConsent(c)
	return nil
}

func (s *Store) GetConsent(_ context.Context, subject, clientID, redirectURI, resource string) (storage.Consent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return get(s.consents, "consent", consentKey{subject, clientID, redirectURI, resource}, cloneConsent)
}

// ListConsents lists the matching consents, ordered by key.
func (s *Store) ListConsents(_ context.Context, f storage.ConsentFilter) ([]storage.Consent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []storage.Consent
	for _, c := range s.consents {
		if consentMatches(c, f) {
			out = append(out, cloneConsent(c))
		}
	}
	slices.SortFunc(out, func(a, b storage.Consent) int {
		return cmp.Or(cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.ClientID, b.ClientID),
			cmp.Compare(a.RedirectURI, b.RedirectURI), cmp.Compare(a.Resource, b.Resource))
	})
	return out, nil
}

// DeleteConsents refuses an empty filter: it would delete every consent.
func (s *Store) DeleteConsents(_ context.Context, f storage.ConsentFilter) (int, error) {
	if err := storage.CheckConsentFilter(f); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, c := range s.consents {
		if consentMatches(c, f) {
			delete(s.consents, k)
			n++
		}
	}
	return n, nil
}
