package login

import (
	"context"
	"errors"
	"net/url"
	"time"
)

// Identity is a user as a provider vouches for them.
type Identity struct {
	// Subject is the provider's own stable identifier for the user (the
	// OIDC "sub", the GitHub user ID, the local username). The caller
	// namespaces it as "<provider>:<subject>" (SPEC AS-5), so two providers
	// can never claim the same mcpgate user.
	Subject string
	// Username is the human-readable login name (preferred_username, the
	// GitHub login, the local username). Not unique across providers.
	Username string
	// Email and EmailVerified: policy may only trust Email when
	// EmailVerified is true.
	Email         string
	EmailVerified bool
	// Name is a display name; may be empty.
	Name string
	// Groups are the user's groups (or "org/team" for GitHub) as of the
	// login or the last Refresh.
	Groups []string
	// ConnectorData is opaque state the connector needs to Refresh this
	// identity later, such as an upstream refresh token (SPEC ID-5). It can
	// hold a credential: the caller stores it only sealed
	// (seal.PurposeUpstreamToken) and hands it back unchanged to Refresh.
	ConnectorData []byte
}

// Connector is what every identity provider implements.
type Connector interface {
	// ID is the provider's configured ID (identity_providers[].id).
	ID() string
	// Type is "local", "oidc" or "github".
	Type() string
	// DisplayName labels the provider on the chooser page (SPEC ID-6).
	DisplayName() string
}

// PasswordConnector checks a username and password itself (the local
// provider). The caller renders the form and throttles attempts (Limiter)
// before calling Login.
type PasswordConnector interface {
	Connector
	// Login returns the user's identity, or ErrBadCredentials for any
	// wrong username or password, never saying which was wrong. Any other
	// error (a cancelled context) is not a verdict on the credentials.
	Login(ctx context.Context, username, password string) (Identity, error)
}

// RedirectConnector sends the browser to the provider and handles its
// callback (oidc, github). SPEC ID-1: the upstream leg always uses PKCE S256
// (RFC 7636), state (RFC 6749 §10.12) and, for OIDC, nonce (OpenID Connect
// Core 1.0 §3.1.2.1).
type RedirectConnector interface {
	Connector
	// LoginURL is where to send the browser. The caller generates state,
	// the PKCE verifier and the nonce, keeps them in its flow record bound
	// to the browser, and passes codeChallenge = BASE64URL(SHA256(verifier))
	// (RFC 7636 §4.2). callbackURL must be the URL registered at the
	// provider.
	LoginURL(callbackURL, state, codeChallenge, nonce string) (string, error)
	// HandleCallback completes the login from the callback's query q. The
	// caller has already found its flow by q's state and checked the
	// browser binding (no login CSRF); the connector handles the provider's
	// error response (RFC 6749 §4.1.2.1), redeems the code with
	// codeVerifier and, for OIDC, checks the ID token's nonce.
	HandleCallback(ctx context.Context, callbackURL string, q url.Values, codeVerifier, nonce string) (Identity, error)
}

// RefreshConnector re-checks a user the provider vouched for earlier. The
// caller calls it at least every 15 minutes while a refresh-token family
// lives (SPEC AS-6), so a user removed or disabled at the provider loses
// access within that time, and group changes reach policy.
type RefreshConnector interface {
	Connector
	// Refresh returns the user's current identity (groups may have
	// changed), or an error wrapping ErrUserGone when the provider no
	// longer vouches for the user; the caller then revokes the family.
	// Other errors (the provider is unreachable) are not a verdict.
	//
	// A TokenConnector's provider may rotate the refresh token and the
	// call still fail afterwards (userinfo down): it then returns an
	// Identity carrying only the new ConnectorData beside the error, and
	// the caller stores that data, or the user's only live refresh token
	// is lost.
	Refresh(ctx context.Context, id Identity) (Identity, error)
}

// TokenConnector keeps the user's tokens at the provider in ConnectorData
// (SPEC ID-5), so an upstream with user_token credentials can be sent the
// user's own access token (oidc, github).
//
// Its Refresh (RefreshConnector) renews them: it redeems the stored refresh
// token, which many providers rotate (the old one dies on use). Two
// refreshes of one user's data at once would therefore kill the user's
// grant at the provider, so every caller of Refresh on a TokenConnector
// goes through internal/usertoken, which runs one refresh at a time per
// user and provider across all instances and stores the result.
type TokenConnector interface {
	RefreshConnector
	// ConfigHash identifies the configuration that issues the tokens
	// (issuer or API URL, client ID). Data stored under another hash was
	// issued to another configuration and is never sent upstream.
	ConfigHash() []byte
	// AccessToken reads the access token in data and its expiry (zero when
	// the provider gave none). ErrNoToken when data holds none.
	AccessToken(data []byte) (token string, expiry time.Time, err error)
	// RevokeTokens revokes data's tokens at the provider (kill switch).
	// errors.ErrUnsupported when the provider has no revocation.
	RevokeTokens(ctx context.Context, data []byte) error
}

var (
	// ErrNoToken: the connector data holds no upstream access token.
	ErrNoToken = errors.New("login: no upstream token")
	// ErrBadCredentials: the username or password is wrong. One error for
	// both, so a response never reveals which usernames exist.
	ErrBadCredentials = errors.New("login: invalid username or password")
	// ErrUserGone: the provider no longer vouches for the user.
	ErrUserGone = errors.New("login: user no longer exists or is disabled")
	// ErrNotAllowed: the provider authenticated the user, but the
	// provider's configuration does not admit them (GitHub allowed_orgs /
	// allowed_teams). The login ends on a 403 page, never on a grant.
	ErrNotAllowed = errors.New("login: user is not allowed by this provider's configuration")
	// ErrProviderUnavailable: the provider could not be reached or answered
	// with a server error. Not a verdict on the user: a login shows a
	// "try again later" page, a re-check keeps the grant.
	ErrProviderUnavailable = errors.New("login: identity provider unavailable")
)
