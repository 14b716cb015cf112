package login

import (
	"errors"
	"fmt"

	"github.com/mcpgate/mcpgate/internal/config"
)

// Build makes a connector for every configured provider, keyed by ID. It
// reports every provider's problems at once. An oidc connector does not
// contact its provider here (discovery is lazy), so the gateway starts
// while a provider is down.
func Build(providers []config.IdentityProvider) (map[string]Connector, error) {
	out := make(map[string]Connector, len(providers))
	seen := map[string]bool{}
	var errs []error
	for _, p := range providers {
		if seen[p.ID] {
			errs = append(errs, fmt.Errorf("provider %q: duplicate id", p.ID))
			continue
		}
		seen[p.ID] = true
		c, err := build(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[p.ID] = c
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func build(p config.IdentityProvider) (Connector, error) {
	switch p.Type {
	case "local":
		return NewLocal(p)
	case "github":
		g, err := NewGitHub(p)
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return g, nil
	case "oidc":
		o, err := NewOIDC(p)
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return o, nil
	default:
		return nil, fmt.Errorf("provider %q: unknown type %q", p.ID, p.Type)
	}
}
