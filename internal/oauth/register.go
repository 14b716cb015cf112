package oauth

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/clientmeta"
	"github.com/mcpgate/mcpgate/internal/ratelimit"
	"github.com/mcpgate/mcpgate/internal/storage"
)

// maxRegistrationBytes caps a registration request (SPEC HD-2).
const maxRegistrationBytes = 16 << 10

// registrationResponse is the RFC 7591 §3.2.1 answer: the metadata as
// registered, plus the credentials.
type registrationResponse struct {
	clientmeta.Metadata
	ClientID              string `json:"client_id"`
	ClientSecret          string `json:"client_secret,omitempty"`
	ClientIDIssuedAt      int64  `json:"client_id_issued_at"`
	ClientSecretExpiresAt *int64 `json:"client_secret_expires_at,omitempty"`
}

// register is dynamic client registration (RFC 7591). The client ID is
// generated here; a confidential client gets a 256-bit secret, shown once
// and stored hashed.
func (p *Provider) register(w http.ResponseWriter, r *http.Request) {
	// Registration is unauthenticated and writes to the store: limit it per
	// client IP so a script cannot fill the store or the consent pages with
	// fake clients (SPEC AS-7, rate_limits.register_ip: by default a burst
	// of 10, a developer trying several clients, then one every 6 minutes;
	// an MCP client registers once per server).
	if e := p.limitJSON(w, r, "register", p.Limits.RegisterIP, ratelimit.ByIP(r)); e != nil {
		p.registerError(w, r, e)
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/json" {
		p.registerError(w, r, errInvalidClientMetadata("The body must be application/json."))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRegistrationBytes))
	if err != nil {
		p.registerError(w, r, errInvalidClientMetadata("The request body is too large or unreadable."))
		return
	}
	if clientmeta.Depth(body) > clientmeta.MaxJSONDepth {
		p.registerError(w, r, errInvalidClientMetadata("The request body is nested too deeply."))
		return
	}
	var m clientmeta.Metadata
	if err := json.Unmarshal(body, &m); err != nil {
		p.registerError(w, r, errInvalidClientMetadata("The request body is not a JSON client metadata object."))
		return
	}
	if m.ClientID != "" || m.ClientSecret != "" {
		p.registerError(w, r, errInvalidClientMetadata("client_id and client_secret are assigned by the server."))
		return
	}
	if err := p.policy.Validate(&m); err != nil {
		var me *clientmeta.Error
		if errors.As(err, &me) {
			p.registerError(w, r, &Error{Code: me.Code, Description: me.Description})
			return
		}
		p.registerError(w, r, errInvalidClientMetadata("The client metadata is invalid."))
		return
	}
	now := p.Now()
	c := clientFromMetadata(m)
	c.ID, c.Source, c.CreatedAt, c.UpdatedAt = randomID(), storage.ClientSourceDCR, now, now
	resp := registrationResponse{Metadata: m, ClientID: c.ID, ClientIDIssuedAt: now.Unix()}
	if m.TokenEndpointAuthMethod != "none" {
		secret := randomSecret()
		c.SecretHash = hashSecret(secret)
		never := int64(0)
		resp.ClientSecret, resp.ClientSecretExpiresAt = secret, &never
	}
	if err := p.Store.CreateClient(r.Context(), c); err != nil {
		p.registerError(w, r, p.fail(r, "store client", err))
		return
	}
	p.record(r, audit.Event{Type: audit.ClientRegistered, Client: c.ID, Details: map[string]any{
		"name": c.Name, "redirect_uris": c.RedirectURIs, "auth_method": c.TokenEndpointAuthMethod, "source": "dcr",
	}})
	writeJSON(w, http.StatusCreated, resp)
}

func (p *Provider) registerError(w http.ResponseWriter, r *http.Request, e *Error) {
	p.Metrics.OAuthError("register", e.Code)
	writeJSONError(w, r, e)
}
