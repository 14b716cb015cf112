package oauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/mcpgate/mcpgate/internal/clientmeta"
	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/scope"
	"github.com/mcpgate/mcpgate/internal/storage"
)

// Client is a resolved OAuth client, whatever its source.
type Client struct {
	storage.Client
	FirstParty bool // config: skip the consent page
}

// Public reports whether the client has no secret (RFC 6749 §2.1).
func (c Client) Public() bool { return c.TokenEndpointAuthMethod == "none" }

// ScopeCap is the scope list that caps what the client may request, or
// nil for no cap. A dynamically registered client's own scope list caps
// nothing: MCP clients register with the scope of their first challenge
// and keep the registration, so a cap would refuse every step-up (MCP
// authorization, step-up flow), and whoever registers can register again
// with a wider list anyway (RFC 7591 §2 calls them scopes the client "can
// use", not a limit). Operators' lists (config) and metadata documents,
// which their publishers choose, do cap.
func (c Client) ScopeCap() []string {
	if c.Source == storage.ClientSourceDCR {
		return nil
	}
	return c.Scopes
}

// AllowsGrant reports whether the client registered for grant.
func (c Client) AllowsGrant(grant string) bool { return slices.Contains(c.GrantTypes, grant) }

// clientDirectory resolves client IDs: configured clients from memory, an
// https client ID through its metadata document (CIMD), anything else
// from the store (DCR).
type clientDirectory struct {
	p      *Provider
	config map[string]Client
}

func newClientDirectory(p *Provider, list []config.Client) (*clientDirectory, error) {
	d := &clientDirectory{p: p, config: make(map[string]Client, len(list))}
	for _, c := range list {
		sc := storage.Client{
			ID:                      c.ClientID,
			Name:                    c.Name,
			RedirectURIs:            c.RedirectURIs,
			GrantTypes:              c.GrantTypes,
			ResponseTypes:           []string{"code"},
			TokenEndpointAuthMethod: c.TokenEndpointAuthMethod,
			Scopes:                  c.Scopes,
			Source:                  storage.ClientSourceConfig,
		}
		if c.ClientSecret != "" {
			sc.SecretHash = hashSecret(c.ClientSecret)
		}
		d.config[c.ClientID] = Client{Client: sc, FirstParty: c.FirstParty}
	}
	return d, nil
}

// errUnknownClient is what every lookup failure looks like to a caller, so
// the answer does not tell an attacker which client IDs exist.
var errUnknownClient = errors.New("unknown client")

// Get resolves id. A CIMD client is fetched (or taken from the cache in the
// store) on demand.
func (d *clientDirectory) Get(ctx context.Context, id string) (Client, error) {
	if c, ok := d.config[id]; ok {
		return c, nil
	}
	if isCIMDClientID(id) {
		return d.cimd(ctx, id)
	}
	c, err := d.p.Store.GetClient(ctx, id)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && c.Source != storage.ClientSourceDCR) {
		return Client{}, errUnknownClient
	}
	if err != nil {
		return Client{}, err
	}
	if !c.ExpiresAt.IsZero() && c.ExpiresAt.Before(d.p.Now()) {
		return Client{}, errUnknownClient
	}
	return Client{Client: c}, nil
}

func isCIMDClientID(id string) bool { return strings.HasPrefix(id, "https://") }

// cimd resolves a client ID metadata document client. The store caches
// documents for every instance; an expired entry is fetched again.
func (d *clientDirectory) cimd(ctx context.Context, id string) (Client, error) {
	p := d.p
	if !p.Config.Registration.CIMDEnabled() || p.Fetcher == nil {
		return Client{}, errUnknownClient
	}
	now := p.Now()
	if c, err := p.Store.GetClient(ctx, id); err == nil && c.Source == storage.ClientSourceCIMD && c.ExpiresAt.After(now) {
		return Client{Client: c}, nil
	}
	m, expires, err := p.Fetcher.Fetch(ctx, id)
	if err != nil {
		return Client{}, fmt.Errorf("%w: %w", errUnknownClient, err)
	}
	if err := p.policy.ValidateCIMD(id, &m); err != nil {
		return Client{}, fmt.Errorf("%w: %w", errUnknownClient, err)
	}
	c := clientFromMetadata(m)
	c.ID, c.Source, c.CreatedAt, c.UpdatedAt, c.ExpiresAt = id, storage.ClientSourceCIMD, now, now, expires
	if err := p.Store.PutClient(ctx, c); err != nil {
		return Client{}, err
	}
	return Client{Client: c}, nil
}

// clientFromMetadata builds a stored client from validated RFC 7591
// metadata.
func clientFromMetadata(m clientmeta.Metadata) storage.Client {
	return storage.Client{
		Name:                    m.ClientName,
		URI:                     m.ClientURI,
		LogoURI:                 m.LogoURI,
		RedirectURIs:            m.RedirectURIs,
		GrantTypes:              m.GrantTypes,
		ResponseTypes:           m.ResponseTypes,
		TokenEndpointAuthMethod: m.TokenEndpointAuthMethod,
		Scopes:                  scope.Tokens(m.Scope),
	}
}

// hashSecret hashes a client secret. Secrets are server-generated (DCR) or
// required to be long (config), so a fast hash is enough: there is no
// low-entropy password to brute-force (SPEC AS-4).
func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// clientCredentials reads the client ID and secret of a request: HTTP
// Basic (client_secret_basic, both parts form-urlencoded, RFC 6749
// §2.3.1) or the form (client_secret_post, or a public client's
// client_id alone). A form client_id beside Basic must name the same
// client. Any unreadable credential is invalid_client.
func clientCredentials(r *http.Request) (id, secret string, basic bool, e *Error) {
	id, secret, basic = r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return "", "", false, errInvalidClient("Client authentication failed.")
		}
		if form := r.PostForm.Get("client_id"); form != "" && form != id {
			return "", "", false, errInvalidRequest("client_id differs from the authenticated client.")
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" {
		return "", "", false, errInvalidClient("Client authentication failed.")
	}
	return id, secret, basic, nil
}

// authenticateClient identifies the client at the token, revocation and
// introspection endpoints (RFC 6749 §2.3.1). It accepts exactly the method
// the client registered; a public client sends only client_id. Any
// failure is invalid_client, whatever went wrong.
func (p *Provider) authenticateClient(r *http.Request) (Client, *Error) {
	id, secret, basic, e := clientCredentials(r)
	if e != nil {
		return Client{}, e
	}
	c, err := p.clients.Get(r.Context(), id)
	if err != nil {
		if !errors.Is(err, errUnknownClient) {
			return Client{}, p.fail(r, "client lookup failed", err)
		}
		return Client{}, errInvalidClient("Client authentication failed.")
	}
	method := "client_secret_post"
	if basic {
		method = "client_secret_basic"
	} else if secret == "" {
		method = "none"
	}
	if method != c.TokenEndpointAuthMethod {
		return Client{}, errInvalidClient("Client authentication failed.")
	}
	if method != "none" && subtle.ConstantTimeCompare(hashSecret(secret), c.SecretHash) != 1 {
		// Constant-time over the hashes: the comparison time does not
		// reveal how much of a guessed secret was right.
		return Client{}, errInvalidClient("Client authentication failed.")
	}
	return c, nil
}
