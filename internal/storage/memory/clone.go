package memory

import (
	"bytes"
	"slices"

	"github.com/mcpgate/mcpgate/internal/storage"
)

// The clone functions deep-copy a record and normalise its times to UTC.
// Every record crosses the store boundary through one of them, in and out,
// so that no slice is ever shared with a caller.

func cloneClient(c storage.Client) storage.Client {
	c.SecretHash = bytes.Clone(c.SecretHash)
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	c.GrantTypes = slices.Clone(c.GrantTypes)
	c.ResponseTypes = slices.Clone(c.ResponseTypes)
	c.Scopes = slices.Clone(c.Scopes)
	c.CreatedAt, c.UpdatedAt, c.ExpiresAt = utc(c.CreatedAt), utc(c.UpdatedAt), utc(c.ExpiresAt)
	return c
}

func cloneAuthRequest(r storage.AuthRequest) storage.AuthRequest {
	r.Scopes = slices.Clone(r.Scopes)
	r.BrowserBinding = bytes.Clone(r.BrowserBinding)
	r.UpstreamStateHash = bytes.Clone(r.UpstreamStateHash)
	r.UpstreamSealed = bytes.Clone(r.UpstreamSealed)
	r.AuthTime, r.CreatedAt, r.ExpiresAt = utc(r.AuthTime), utc(r.CreatedAt), utc(r.ExpiresAt)
	return r
}

func cloneAuthCode(c storage.AuthCode) storage.AuthCode {
	c.Hash = bytes.Clone(c.Hash)
	c.Scopes = slices.Clone(c.Scopes)
	c.Groups = slices.Clone(c.Groups)
	c.AuthTime, c.CreatedAt = utc(c.AuthTime), utc(c.CreatedAt)
	c.ExpiresAt, c.ConsumedAt = utc(c.ExpiresAt), utc(c.ConsumedAt)
	return c
}

func cloneFamily(f storage.RefreshFamily) storage.RefreshFamily {
	f.Scopes = slices.Clone(f.Scopes)
	f.Groups = slices.Clone(f.Groups)
	f.AuthTime, f.CreatedAt, f.LastUsedAt = utc(f.AuthTime), utc(f.CreatedAt), utc(f.LastUsedAt)
	f.ExpiresAt, f.UserCheckedAt, f.RevokedAt = utc(f.ExpiresAt), utc(f.UserCheckedAt), utc(f.RevokedAt)
	return f
}

func cloneToken(t storage.RefreshToken) storage.RefreshToken {
	t.SecretHash = bytes.Clone(t.SecretHash)
	t.SuccessorSealed = bytes.Clone(t.SuccessorSealed)
	t.CreatedAt, t.ExpiresAt = utc(t.CreatedAt), utc(t.ExpiresAt)
	t.UsedAt, t.GraceUntil = utc(t.UsedAt), utc(t.GraceUntil)
	return t
}

func cloneConsent(c storage.Consent) storage.Consent {
	c.Scopes = slices.Clone(c.Scopes)
	c.GrantedAt, c.ExpiresAt = utc(c.GrantedAt), utc(c.ExpiresAt)
	return c
}

func cloneBrowserSession(b storage.BrowserSession) storage.BrowserSession {
	b.Groups = slices.Clone(b.Groups)
	b.UserAgentHash = bytes.Clone(b.UserAgentHash)
	b.AuthTime, b.CreatedAt, b.LastSeenAt = utc(b.AuthTime), utc(b.CreatedAt), utc(b.LastSeenAt)
	b.IdleExpiresAt, b.ExpiresAt = utc(b.IdleExpiresAt), utc(b.ExpiresAt)
	return b
}

func cloneUpstreamToken(u storage.UpstreamToken) storage.UpstreamToken {
	u.ConfigHash = bytes.Clone(u.ConfigHash)
	u.Sealed = bytes.Clone(u.Sealed)
	u.ExpiresAt, u.UpdatedAt = utc(u.ExpiresAt), utc(u.UpdatedAt)
	return u
}

func cloneSigningKey(k storage.SigningKey) storage.SigningKey {
	k.PublicJWK = bytes.Clone(k.PublicJWK)
	k.PrivateSealed = bytes.Clone(k.PrivateSealed)
	k.CreatedAt, k.ActiveAt = utc(k.CreatedAt), utc(k.ActiveAt)
	k.RetiredAt, k.ExpiresAt = utc(k.RetiredAt), utc(k.ExpiresAt)
	return k
}

func cloneRevocation(r storage.Revocation) storage.Revocation {
	r.NotBefore, r.CreatedAt, r.ExpiresAt = utc(r.NotBefore), utc(r.CreatedAt), utc(r.ExpiresAt)
	return r
}

func cloneMCPSession(m storage.MCPSession) storage.MCPSession {
	m.CreatedAt, m.LastSeenAt, m.ExpiresAt = utc(m.CreatedAt), utc(m.LastSeenAt), utc(m.ExpiresAt)
	return m
}

func cloneAuditRecord(r storage.AuditRecord) storage.AuditRecord {
	r.Data = bytes.Clone(r.Data)
	r.PrevHash = bytes.Clone(r.PrevHash)
	r.Hash = bytes.Clone(r.Hash)
	r.Time = utc(r.Time)
	return r
}
