package proxy

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/textproto"
	"strings"
	"sync"
	"time"
)

// TypeIdentityAssertion is the JWS typ of the identity assertions mcpgate
// sends upstream. It is not at+jwt, so mcpgate's own verifier, which
// requires at+jwt, never accepts an assertion as an access token (an
// upstream that received one cannot replay it at the gateway).
const TypeIdentityAssertion = "mcpgate-identity+jwt"

// AssertionTTL is the lifetime of an identity assertion: long enough to
// reach the upstream, short enough that a leaked one is soon worthless.
const AssertionTTL = 60 * time.Second

// AssertionSigner signs identity assertions with the gateway's active key
// (internal/keys implements it).
type AssertionSigner interface {
	Sign(payload []byte, typ string) (string, error)
}

// UserTokenSource supplies the user's own token at an identity provider
// (credentials type user_token, SPEC ID-5); internal/usertoken implements
// it. Errors wrap login.ErrNoToken (no token: the user must log in again),
// login.ErrUserGone (the provider refused the refresh) or anything else
// (the provider is unreachable).
type UserTokenSource interface {
	UserToken(ctx context.Context, subject, provider string) (string, error)
	// RefreshUserToken refreshes the token after the upstream refused
	// rejected, unless another request has replaced it already.
	RefreshUserToken(ctx context.Context, subject, provider, rejected string) (string, error)
}

// credentials computes what the gateway presents to one upstream (SPEC
// PX-8).
type credentials struct {
	kind, headerName, static, provider, issuer, audience string

	signer AssertionSigner
	users  UserTokenSource
	now    func() time.Time

	mu     sync.Mutex
	issued map[assertionKey]issuedAssertion
}

type assertionKey struct{ subject, client, family string }

type issuedAssertion struct {
	jwt string
	exp time.Time
}

func (p *Proxy) newCredentials(u Upstream) (*credentials, error) {
	c := u.Config.Credentials
	cr := &credentials{
		kind: c.Type, headerName: textproto.CanonicalMIMEHeaderKey(c.Header), static: c.Value, provider: c.Provider,
		issuer: p.opts.PublicURL, audience: u.Config.URL, signer: p.opts.Assertions, users: p.opts.UserTokens,
		now: p.opts.Now, issued: map[assertionKey]issuedAssertion{},
	}
	if cr.kind == "" {
		cr.kind = "none"
	}
	if cr.audience == "" {
		cr.audience = "urn:mcpgate:upstream:" + u.Config.Name
	}
	switch cr.kind {
	case "none", "static", "user_token":
	case "identity_assertion":
		if cr.signer == nil {
			return nil, errors.New("identity_assertion needs a signer")
		}
	default:
		return nil, fmt.Errorf("unknown credentials type %q", cr.kind)
	}
	return cr, nil
}

// header is the credential's header name, "" for type none.
func (c *credentials) header() string {
	if c.kind == "none" {
		return ""
	}
	return c.headerName
}

// value returns the credential header's value for pr.
func (c *credentials) value(ctx context.Context, pr Principal) (string, error) {
	switch c.kind {
	case "static":
		return c.static, nil
	case "user_token":
		if c.users == nil {
			return "", errors.New("user_token credentials are not available in this build")
		}
		tok, err := c.users.UserToken(ctx, pr.Subject, c.provider)
		if err != nil {
			return "", err
		}
		return c.scheme(tok), nil
	case "identity_assertion":
		jwt, err := c.assertion(pr)
		if err != nil {
			return "", err
		}
		return c.scheme(jwt), nil
	}
	return "", nil
}

// refresh returns a new credential for pr after the upstream refused
// rejected (a user_token header value).
func (c *credentials) refresh(ctx context.Context, pr Principal, rejected string) (string, error) {
	if c.users == nil {
		return "", errors.New("user_token credentials are not available in this build")
	}
	if c.headerName == "Authorization" {
		rejected = strings.TrimPrefix(rejected, "Bearer ")
	}
	tok, err := c.users.RefreshUserToken(ctx, pr.Subject, c.provider, rejected)
	if err != nil {
		return "", err
	}
	return c.scheme(tok), nil
}

// scheme prefixes "Bearer " when the credential goes in Authorization.
func (c *credentials) scheme(tok string) string {
	if c.headerName == "Authorization" {
		return "Bearer " + tok
	}
	return tok
}

type assertionClaims struct {
	Issuer   string   `json:"iss"`
	Subject  string   `json:"sub"`
	Audience string   `json:"aud"`
	ClientID string   `json:"client_id,omitempty"`
	IDP      string   `json:"idp,omitempty"`
	Email    string   `json:"email,omitempty"`
	Groups   []string `json:"groups,omitempty"`
	IssuedAt int64    `json:"iat"`
	Expiry   int64    `json:"exp"`
	JTI      string   `json:"jti"`
}

// assertion returns a signed identity assertion for pr, reusing one with
// more than a quarter of its lifetime left so steady traffic does not pay
// a signature per request.
func (c *credentials) assertion(pr Principal) (string, error) {
	key := assertionKey{pr.Subject, pr.ClientID, pr.Family}
	now := c.now()
	c.mu.Lock()
	a, ok := c.issued[key]
	c.mu.Unlock()
	if ok && now.Add(AssertionTTL/4).Before(a.exp) {
		return a.jwt, nil
	}
	claims := assertionClaims{
		Issuer: c.issuer, Subject: pr.Subject, Audience: c.audience, ClientID: pr.ClientID, IDP: pr.Provider,
		Groups: pr.Groups, IssuedAt: now.Unix(), Expiry: now.Add(AssertionTTL).Unix(), JTI: randomID(),
	}
	if pr.EmailVerified {
		claims.Email = pr.Email
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jwt, err := c.signer.Sign(payload, TypeIdentityAssertion)
	if err != nil {
		return "", fmt.Errorf("sign identity assertion: %w", err)
	}
	c.mu.Lock()
	if len(c.issued) >= maxCachedTokens {
		clear(c.issued)
	}
	c.issued[key] = issuedAssertion{jwt: jwt, exp: time.Unix(claims.Expiry, 0)}
	c.mu.Unlock()
	return jwt, nil
}

func randomID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
