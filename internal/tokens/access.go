package tokens

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/mcpgate/mcpgate/internal/scope"
)

// TypeAccessToken is the JWS "typ" header of every access token
// (RFC 9068 §2.1). The verifier also accepts its media-type form
// "application/at+jwt" (RFC 9068 §4).
const TypeAccessToken = "at+jwt"

// DefaultAccessTTL is the access-token lifetime when none is configured
// (SPEC AS-5: short-lived, default 10 minutes).
const DefaultAccessTTL = 10 * time.Minute

// KeySource signs with the active key and finds published public keys by
// kid. internal/keys implements it; tokens depends only on this interface.
type KeySource interface {
	// Sign returns a compact JWS over payload whose protected header carries
	// alg, kid and typ.
	Sign(payload []byte, typ string) (string, error)
	// PublicKey returns the published key with this kid, if any.
	PublicKey(kid string) (jose.JSONWebKey, bool)
}

// Claims are an access token's claims (RFC 9068 §2.2 plus sid, idp,
// groups and a verified email, SPEC AS-5). Times are NumericDate seconds;
// zero means absent.
type Claims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub"`
	Audience  Audience `json:"aud"`
	ClientID  string   `json:"client_id"`
	Scope     string   `json:"scope,omitempty"`
	IssuedAt  int64    `json:"iat"`
	NotBefore int64    `json:"nbf,omitempty"`
	Expiry    int64    `json:"exp"`
	JTI       string   `json:"jti"`
	AuthTime  int64    `json:"auth_time,omitempty"`
	SID       string   `json:"sid"`
	IDP       string   `json:"idp,omitempty"`
	Groups    []string `json:"groups,omitempty"`
	// Email is present only when the provider verified it, and then
	// EmailVerified is true (OpenID Connect Core §5.1 names): policy users
	// rules and identity headers trust an email only then (SPEC PX-7,
	// PX-8), so an unverified address never reaches a token.
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified,omitempty"`
}

// Scopes splits Scope into its space-separated tokens (RFC 6749 §3.3).
func (c Claims) Scopes() []string { return scope.Tokens(c.Scope) }

// Audience is the aud claim: a single string on the wire when it has one
// member (as Mint writes it), an array otherwise (RFC 7519 §4.1.3).
type Audience []string

// UnmarshalJSON accepts a string or an array of strings.
func (a *Audience) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = Audience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	*a = l
	return nil
}

// MarshalJSON writes one member as a string, otherwise an array.
func (a Audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

// Grant is what an access token is minted for.
type Grant struct {
	Subject    string // "<provider>:<upstream subject>" (SPEC AS-5)
	ClientID   string
	Resource   string // canonicalised into aud
	FamilyID   string // sid: the grant or refresh family (SPEC AS-5a)
	ProviderID string // idp
	Scopes     []string
	Groups     []string
	// Email is the user's email; Mint puts it in the token only when
	// EmailVerified is set, whatever path built the grant.
	Email         string
	EmailVerified bool
	AuthTime      time.Time
}

// Minter mints RFC 9068 access tokens.
type Minter struct {
	Issuer string // SPEC AS-1: byte-identical to the metadata issuer
	Keys   KeySource
	TTL    time.Duration // 0: DefaultAccessTTL
	Now    func() time.Time
}

// Mint signs an access token for g and returns it with its claims.
func (m *Minter) Mint(g Grant) (string, Claims, error) {
	c, err := m.claims(g)
	if err != nil {
		return "", Claims{}, err
	}
	// Audience marshals a single member as a plain string (RFC 9068 §2.2:
	// aud is the one resource).
	payload, err := json.Marshal(&c)
	if err != nil {
		return "", Claims{}, fmt.Errorf("tokens: encode claims: %w", err)
	}
	tok, err := m.Keys.Sign(payload, TypeAccessToken)
	if err != nil {
		return "", Claims{}, fmt.Errorf("tokens: sign access token: %w", err)
	}
	return tok, c, nil
}

// claims checks g and builds the token's claims.
func (m *Minter) claims(g Grant) (Claims, error) {
	if m.Issuer == "" || g.Subject == "" || g.ClientID == "" || g.FamilyID == "" {
		return Claims{}, errors.New("tokens: mint: issuer, subject, client_id and sid are required")
	}
	aud, err := CanonicalResource(g.Resource)
	if err != nil {
		return Claims{}, fmt.Errorf("tokens: mint: %w", err)
	}
	for _, s := range g.Scopes {
		// A scope holding a space would split into two at the resource:
		// widening the grant (RFC 6749 §3.3: scope-token is 1*NQCHAR).
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			return Claims{}, fmt.Errorf("tokens: mint: invalid scope %q", s)
		}
	}
	ttl := m.TTL
	if ttl <= 0 {
		ttl = DefaultAccessTTL
	}
	iat := now(m.Now).Unix()
	c := Claims{
		Issuer: m.Issuer, Subject: g.Subject, Audience: Audience{aud}, ClientID: g.ClientID,
		Scope: strings.Join(g.Scopes, " "), IssuedAt: iat, Expiry: iat + int64(ttl/time.Second),
		JTI: NewID(), SID: g.FamilyID, IDP: g.ProviderID, Groups: g.Groups,
	}
	if !g.AuthTime.IsZero() {
		c.AuthTime = g.AuthTime.Unix()
	}
	if g.EmailVerified && g.Email != "" {
		c.Email, c.EmailVerified = g.Email, true
	}
	return c, nil
}

// NewID returns 16 random bytes, base64url without padding: jti, refresh
// token and family IDs. 128 bits make guessing or colliding infeasible.
func NewID() string { return randomB64(16) }

func randomB64(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

func now(f func() time.Time) time.Time {
	if f == nil {
		return time.Now()
	}
	return f()
}
