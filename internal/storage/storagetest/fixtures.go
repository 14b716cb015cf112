package storagetest

import (
	"errors"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// base is the instant every fixture time is relative to. It carries
// microseconds, the finest precision the suite asks a backend to keep
// (PostgreSQL's timestamptz keeps no more).
var base = time.Date(2031, time.March, 4, 5, 6, 7, 891011000, time.UTC)

// zone is where fixture times are expressed, so a backend that does not
// normalise to UTC is caught.
var zone = time.FixedZone("UTC+05:30", 5*3600+30*60)

// at is base+d, expressed in zone.
func at(d time.Duration) time.Time { return base.Add(d).In(zone) }

// errBoom is what failing callbacks return; stores must hand it back as is.
var errBoom = errors.New("storagetest: boom")

// The fixtures below fill every field a freshly created record has; the
// round-trip tests set the rest (consumption, rotation, revocation).

func newClient(id string) storage.Client {
	return storage.Client{
		ID:                      id,
		SecretHash:              []byte("secret-hash:" + id),
		Name:                    "Client " + id,
		URI:                     "https://" + id + ".example",
		LogoURI:                 "https://" + id + ".example/logo.png",
		RedirectURIs:            []string{"https://" + id + ".example/cb", "http://127.0.0.1/cb"},
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		ResponseTypes:           []string{"code"},
		TokenEndpointAuthMethod: "client_secret_basic",
		Scopes:                  []string{"mcp:read", "mcp:write"},
		Source:                  storage.ClientSourceDCR,
		CreatedAt:               at(-2 * time.Hour),
		UpdatedAt:               at(-time.Hour),
		ExpiresAt:               at(24 * time.Hour),
	}
}

func newAuthRequest(id string) storage.AuthRequest {
	return storage.AuthRequest{
		ID:                  id,
		ClientID:            "client-1",
		RedirectURI:         "https://client.example/cb",
		State:               "client-state:" + id,
		CodeChallenge:       "challenge:" + id,
		CodeChallengeMethod: "S256",
		Resource:            "https://mcp.example/files",
		Scopes:              []string{"mcp:read", "offline_access"},
		Prompt:              "consent",
		BrowserBinding:      []byte("binding:" + id),
		ConsentGranted:      true,
		ProviderID:          "github",
		UpstreamStateHash:   []byte("upstream-state:" + id),
		UpstreamSealed:      []byte("sealed-verifier-and-nonce:" + id),
		Subject:             "github:alice",
		AuthTime:            at(-time.Minute),
		CreatedAt:           at(-2 * time.Minute),
		ExpiresAt:           at(8 * time.Minute),
	}
}

func newAuthCode(hash string) storage.AuthCode {
	return storage.AuthCode{
		Hash:                []byte(hash),
		ClientID:            "client-1",
		RedirectURI:         "https://client.example/cb",
		CodeChallenge:       "challenge:" + hash,
		CodeChallengeMethod: "S256",
		Resource:            "https://mcp.example/files",
		Scopes:              []string{"mcp:read", "offline_access"},
		Subject:             "github:alice",
		ProviderID:          "github",
		Groups:              []string{"staff", "admins"},
		Email:               "alice@example.com",
		EmailVerified:       true,
		AuthTime:            at(-time.Minute),
		FamilyID:            "family-of:" + hash,
		CreatedAt:           at(-10 * time.Second),
		ExpiresAt:           at(50 * time.Second),
	}
}

func newFamily(id, subject, clientID string) storage.RefreshFamily {
	return storage.RefreshFamily{
		ID:            id,
		ClientID:      clientID,
		Subject:       subject,
		ProviderID:    "github",
		Resource:      "https://mcp.example/files",
		Scopes:        []string{"mcp:read", "offline_access"},
		Groups:        []string{"staff"},
		Email:         subject + "@example.com",
		EmailVerified: true,
		AuthTime:      at(-time.Hour),
		CreatedAt:     at(-50 * time.Minute),
		LastUsedAt:    at(-40 * time.Minute),
		ExpiresAt:     at(30 * 24 * time.Hour),
		UserCheckedAt: at(-45 * time.Minute),
	}
}

func newRefreshToken(id, familyID string) storage.RefreshToken {
	return storage.RefreshToken{
		ID:         id,
		FamilyID:   familyID,
		ClientID:   "client-1",
		SecretHash: []byte("refresh-secret-hash:" + id),
		CreatedAt:  at(-40 * time.Minute),
		ExpiresAt:  at(30 * 24 * time.Hour),
	}
}

func newConsent(subject, clientID, redirectURI, resource string) storage.Consent {
	return storage.Consent{
		Subject:     subject,
		ClientID:    clientID,
		RedirectURI: redirectURI,
		Resource:    resource,
		Scopes:      []string{"mcp:read"},
		GrantedAt:   at(-time.Hour),
		ExpiresAt:   at(90 * 24 * time.Hour),
	}
}

func newBrowserSession(id, subject string, created time.Time) storage.BrowserSession {
	return storage.BrowserSession{
		ID:            id,
		Subject:       subject,
		ProviderID:    "github",
		Email:         subject + "@example.com",
		EmailVerified: true,
		Name:          "Name of " + subject,
		Groups:        []string{"staff"},
		UserAgentHash: []byte("ua-hash:" + id),
		IPPrefix:      "192.0.2.0/24",
		AuthTime:      created,
		CreatedAt:     created,
		LastSeenAt:    created.Add(time.Minute),
		IdleExpiresAt: created.Add(2 * time.Hour),
		ExpiresAt:     created.Add(12 * time.Hour),
	}
}

func newUpstreamToken(subject, providerID string) storage.UpstreamToken {
	return storage.UpstreamToken{
		Subject:    subject,
		ProviderID: providerID,
		ConfigHash: []byte("config-hash:" + providerID),
		Sealed:     []byte("sealed-tokens:" + subject + "@" + providerID),
		ExpiresAt:  at(time.Hour),
		UpdatedAt:  at(-time.Minute),
	}
}

func newSigningKey(id string, created time.Time) storage.SigningKey {
	return storage.SigningKey{
		ID:            id,
		Algorithm:     "ES256",
		PublicJWK:     []byte(`{"kty":"EC","kid":"` + id + `"}`),
		PrivateSealed: []byte("sealed-private:" + id),
		CreatedAt:     created,
		ActiveAt:      created.Add(time.Hour),
	}
}

func newRevocation(kind storage.RevocationKind, key string, created time.Time) storage.Revocation {
	return storage.Revocation{
		Kind:      kind,
		Key:       key,
		Reason:    "reason for " + key,
		NotBefore: created.Add(-time.Second),
		CreatedAt: created,
		ExpiresAt: created.Add(time.Hour),
	}
}

func newMCPSession(id string) storage.MCPSession {
	return storage.MCPSession{
		ID:         id,
		Upstream:   "files",
		Subject:    "github:alice",
		ClientID:   "client-1",
		UpstreamID: "upstream-session:" + id,
		CreatedAt:  at(-time.Hour),
		LastSeenAt: at(-time.Minute),
		ExpiresAt:  at(time.Hour),
	}
}

func newAuditRecord(id, typ, subject string, when time.Time) storage.AuditRecord {
	return storage.AuditRecord{
		ID:       id,
		Time:     when,
		Type:     typ,
		Subject:  subject,
		ClientID: "client-1",
		IP:       "192.0.2.7",
		Risk:     10,
		Data:     []byte(`{"id":"` + id + `"}`),
	}
}
