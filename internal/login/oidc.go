package login

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/mcpgate/mcpgate/internal/config"
)

// OIDC logs users in at an OpenID Connect provider (SPEC ID-2): the
// authorization code flow with PKCE S256, state and nonce (ID-1), the ID
// token verified against the provider's JWKS (go-oidc's remote key set
// refetches the set when a token names an unknown key, so a key rotation
// at the provider needs no restart), and the claims completed from the
// userinfo endpoint.
//
// Discovery happens lazily, at the first use, and is retried: the gateway
// starts while the provider is down, and a login then fails with
// ErrProviderUnavailable instead of the whole gateway refusing to start.
type OIDC struct {
	id, issuer, clientID, secret string
	scopes                       []string
	groupsClaim                  string
	authParams                   map[string]string // extra authorization request parameters
	client                       *http.Client
	now                          func() time.Time

	mu       sync.Mutex
	disc     *discovered // nil until discovery succeeds
	lastFail time.Time   // when discovery last failed
	failErr  error
}

// discovered is what the provider's discovery document told us.
type discovered struct {
	provider   *oidc.Provider
	verifier   *oidc.IDTokenVerifier
	userinfo   string
	revocation string
	// authStyle is how the client authenticates at the token endpoint.
	authStyle oauth2.AuthStyle
}

// OIDCOption adjusts a connector (tests).
type OIDCOption func(*OIDC)

// WithHTTPClient makes every request to the provider (discovery, JWKS,
// token, userinfo, revocation) go through c, such as a client trusting a
// test CA.
func WithHTTPClient(c *http.Client) OIDCOption { return func(o *OIDC) { o.client = c } }

// WithClock sets the clock ID-token expiry and the discovery retry delay
// are measured with.
func WithClock(now func() time.Time) OIDCOption { return func(o *OIDC) { o.now = now } }

// discoveryRetry is how long a failed discovery is remembered before the
// next attempt: a burst of logins while the provider is down costs one
// request to it, not one each.
const discoveryRetry = 5 * time.Second

// providerTimeout bounds each call to the provider.
const providerTimeout = 15 * time.Second

// maxProviderBody caps what is read of any answer from the provider
// (discovery, JWKS, token, userinfo, revocation).
const maxProviderBody = 1 << 20

var (
	_ RedirectConnector = (*OIDC)(nil)
	_ TokenConnector    = (*OIDC)(nil)
)

// NewOIDC makes the connector of an oidc provider. It does not contact the
// provider.
func NewOIDC(p config.IdentityProvider, opts ...OIDCOption) (*OIDC, error) {
	if p.Type != "oidc" {
		return nil, fmt.Errorf("provider %q: type %q is not oidc", p.ID, p.Type)
	}
	if p.Issuer == "" || p.ClientID == "" {
		return nil, fmt.Errorf("provider %q: issuer and client_id are required", p.ID)
	}
	o := &OIDC{
		id: p.ID, issuer: p.Issuer, clientID: p.ClientID, secret: p.ClientSecret,
		scopes: p.Scopes, groupsClaim: p.GroupsClaim, authParams: map[string]string{},
		client: &http.Client{Timeout: providerTimeout},
		now:    time.Now,
	}
	if len(o.scopes) == 0 {
		o.scopes = []string{oidc.ScopeOpenID, "profile", "email"}
	}
	if o.groupsClaim == "" {
		o.groupsClaim = "groups"
	}
	for k, v := range p.AuthParams {
		// Config validation refuses these; dropped here too, so that no
		// configuration can replace the state, nonce or PKCE challenge
		// that bind the provider's answer to this login.
		if !slices.Contains(config.ReservedAuthParams, k) {
			o.authParams[k] = v
		}
	}
	for _, opt := range opts {
		opt(o)
	}
	o.client = capped(o.client, maxProviderBody)
	return o, nil
}

// ID, Type and DisplayName implement Connector.
func (o *OIDC) ID() string   { return o.id }
func (o *OIDC) Type() string { return "oidc" }
func (o *OIDC) DisplayName() string {
	if o.id == "" {
		return "Single sign-on"
	}
	return strings.ToUpper(o.id[:1]) + o.id[1:]
}

// ctx carries the connector's HTTP client to go-oidc and x/oauth2.
func (o *OIDC) ctx(ctx context.Context) context.Context {
	ctx = oidc.ClientContext(ctx, o.client)
	return context.WithValue(ctx, oauth2.HTTPClient, o.client)
}

// discover returns the provider's metadata, fetching it when it has not
// been fetched yet. Any failure is ErrProviderUnavailable. The lock is
// held during the fetch, so logins arriving meanwhile wait for its result
// instead of each fetching again.
func (o *OIDC) discover(ctx context.Context) (*discovered, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.disc != nil {
		return o.disc, nil
	}
	if !o.lastFail.IsZero() && o.now().Sub(o.lastFail) < discoveryRetry {
		return nil, fmt.Errorf("%w: discovery failed recently: %v", ErrProviderUnavailable, o.failErr)
	}
	// The key set keeps this context for its later fetches: it must not
	// be a request's (cancelled when the request ends).
	base := o.ctx(context.WithoutCancel(ctx))
	dctx, cancel := context.WithTimeout(base, providerTimeout)
	defer cancel()
	prov, err := oidc.NewProvider(dctx, o.issuer)
	if err != nil {
		o.lastFail, o.failErr = o.now(), err
		return nil, fmt.Errorf("%w: discovery: %v", ErrProviderUnavailable, err)
	}
	var extra struct {
		Userinfo   string   `json:"userinfo_endpoint"`
		Revocation string   `json:"revocation_endpoint"`
		Auth       []string `json:"token_endpoint_auth_methods_supported"`
	}
	_ = prov.Claims(&extra)
	o.disc = &discovered{
		provider: prov,
		// go-oidc checks signature (against the discovered JWKS), iss,
		// aud (our client_id) and exp; we check the nonce.
		verifier:   prov.VerifierContext(base, &oidc.Config{ClientID: o.clientID, Now: o.now}),
		userinfo:   extra.Userinfo,
		revocation: extra.Revocation,
		authStyle:  tokenAuthStyle(extra.Auth),
	}
	return o.disc, nil
}

// tokenAuthStyle picks the client authentication the provider's metadata
// offers: client_secret_basic (also the default when the metadata names
// none, OpenID Connect Discovery 1.0 §3), else client_secret_post. It is
// never left to x/oauth2's auto-detection, which answers any failed
// token request by sending it again with the secret in the other place:
// every refused or failed refresh would reach the provider twice, the
// second time redeeming a refresh token the first may already have
// rotated (so a timeout would turn into invalid_grant and end the grant).
func tokenAuthStyle(methods []string) oauth2.AuthStyle {
	if slices.Contains(methods, "client_secret_post") && !slices.Contains(methods, "client_secret_basic") {
		return oauth2.AuthStyleInParams
	}
	return oauth2.AuthStyleInHeader
}

func (o *OIDC) oauth2Config(d *discovered, callbackURL string) *oauth2.Config {
	// Never an RFC 8707 resource parameter upstream: Entra ID refuses the
	// request when one is sent along with OpenID scopes.
	ep := d.provider.Endpoint()
	ep.AuthStyle = d.authStyle
	return &oauth2.Config{
		ClientID: o.clientID, ClientSecret: o.secret,
		Endpoint: ep, RedirectURL: callbackURL, Scopes: o.scopes,
	}
}

// LoginURL implements RedirectConnector.
func (o *OIDC) LoginURL(callbackURL, state, codeChallenge, nonce string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), providerTimeout)
	defer cancel()
	d, err := o.discover(ctx)
	if err != nil {
		return "", err
	}
	// auth_params hold no reserved name (NewOIDC dropped them); they are
	// applied before the PKCE challenge and the nonce all the same.
	opts := make([]oauth2.AuthCodeOption, 0, len(o.authParams)+3)
	for k, v := range o.authParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	opts = append(opts,
		oauth2.SetAuthURLParam("code_challenge", codeChallenge),
		oauth2.SetAuthURLParam("code_challenge_method", "S256"),
		oidc.Nonce(nonce))
	return o.oauth2Config(d, callbackURL).AuthCodeURL(state, opts...), nil
}

// HandleCallback implements RedirectConnector.
func (o *OIDC) HandleCallback(ctx context.Context, callbackURL string, q url.Values, codeVerifier, nonce string) (Identity, error) {
	if err := CallbackErrorFrom(q); err != nil {
		return Identity{}, err
	}
	// RFC 9207: a provider that names itself in the response must be this
	// one (a mix-up attack sends another IdP's response here). Each
	// provider also has its own callback URL, which is the main defence.
	if q.Has("iss") && q.Get("iss") != o.issuer {
		return Identity{}, errors.New("oidc: callback iss names another issuer")
	}
	code := q.Get("code")
	if code == "" {
		return Identity{}, errors.New("oidc: callback without a code")
	}
	d, err := o.discover(ctx)
	if err != nil {
		return Identity{}, err
	}
	tok, err := o.oauth2Config(d, callbackURL).Exchange(o.ctx(ctx), code, oauth2.VerifierOption(codeVerifier))
	if err != nil {
		return Identity{}, tokenError("code exchange", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return Identity{}, errors.New("oidc: token response without an id_token")
	}
	idt, claims, err := o.verifyIDToken(ctx, d, rawID, tok.AccessToken)
	if err != nil {
		return Identity{}, err
	}
	// OpenID Connect Core 1.0 §3.1.3.7: the nonce binds the ID token to
	// this login; a token injected from another login carries another.
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 || nonce == "" {
		return Identity{}, errors.New("oidc: id token nonce does not match")
	}
	if err := o.addUserinfo(ctx, d, tok.AccessToken, idt.Subject, claims); err != nil {
		return Identity{}, err
	}
	id := o.identity(idt.Subject, claims)
	id.ConnectorData, err = encodeTokens(tok, rawID)
	return id, err
}

// verifyIDToken checks raw's signature, issuer, audience and expiry, and
// the at_hash against accessToken when the token carries one.
func (o *OIDC) verifyIDToken(ctx context.Context, d *discovered, raw, accessToken string) (*oidc.IDToken, map[string]any, error) {
	idt, err := d.verifier.Verify(o.ctx(ctx), raw)
	if err != nil {
		return nil, nil, fmt.Errorf("oidc: id token rejected: %w", err)
	}
	if idt.AccessTokenHash != "" && accessToken != "" {
		if err := idt.VerifyAccessToken(accessToken); err != nil {
			return nil, nil, fmt.Errorf("oidc: id token at_hash: %w", err)
		}
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return nil, nil, fmt.Errorf("oidc: id token claims: %w", err)
	}
	return idt, claims, nil
}

// addUserinfo completes claims from the userinfo endpoint (OpenID Connect
// Core 1.0 §5.3) when the provider has one. The ID token's claims win; the
// userinfo only fills what it lacks (many providers put groups or email
// only there). A userinfo answer about another subject is refused
// (§5.3.4). A provider that refuses the access token at its userinfo
// endpoint (Entra, when the token is for another API) leaves the ID
// token's claims as they are; an unreachable one fails the login.
func (o *OIDC) addUserinfo(ctx context.Context, d *discovered, accessToken, subject string, claims map[string]any) error {
	if d.userinfo == "" || accessToken == "" {
		return nil
	}
	status, info, err := o.fetchUserinfo(ctx, d, accessToken, subject)
	if err != nil || status != http.StatusOK {
		return err
	}
	for k, v := range info {
		if _, ok := claims[k]; !ok {
			claims[k] = v
		}
	}
	return nil
}

// fetchUserinfo asks the userinfo endpoint about the holder of
// accessToken. It returns the answer's status and, for a 200 JSON answer,
// its claims (none for a signed, application/jwt answer: the ID token's
// claims stand). An unreachable provider, an unreadable answer and a 5xx
// are ErrProviderUnavailable; a JSON answer about another subject than
// subject is refused (§5.3.4).
func (o *OIDC) fetchUserinfo(ctx context.Context, d *discovered, accessToken, subject string) (int, map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.userinfo, nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := o.client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: userinfo: %v", ErrProviderUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxProviderBody))
	switch {
	case err != nil:
		return 0, nil, fmt.Errorf("%w: userinfo: %v", ErrProviderUnavailable, err)
	case resp.StatusCode >= 500:
		return resp.StatusCode, nil, fmt.Errorf("%w: userinfo answered %d", ErrProviderUnavailable, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return resp.StatusCode, nil, nil
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/jwt" {
		return resp.StatusCode, nil, nil
	}
	var info map[string]any
	if err := json.Unmarshal(body, &info); err != nil {
		return 0, nil, fmt.Errorf("oidc: userinfo is not JSON: %w", err)
	}
	if sub, _ := info["sub"].(string); sub != subject {
		return 0, nil, errors.New("oidc: userinfo is about another subject")
	}
	return resp.StatusCode, info, nil
}

// identity maps claims to an Identity.
func (o *OIDC) identity(subject string, claims map[string]any) Identity {
	str := func(k string) string { s, _ := claims[k].(string); return s }
	id := Identity{
		Subject:       subject,
		Username:      str("preferred_username"),
		Email:         str("email"),
		EmailVerified: claimBool(claims["email_verified"]),
		Name:          str("name"),
		Groups:        claimStrings(claims[o.groupsClaim]),
	}
	if id.Username == "" {
		id.Username = id.Email
	}
	if id.Username == "" {
		id.Username = subject
	}
	return id
}

// claimBool reads a boolean claim; some providers send "true" as a string.
func claimBool(v any) bool {
	switch b := v.(type) {
	case bool:
		return b
	case string:
		return b == "true"
	}
	return false
}

// claimStrings reads a groups claim: an array of strings, or one string
// (a single group). Anything else, and non-string members, are ignored.
func claimStrings(v any) []string {
	switch g := v.(type) {
	case string:
		if g == "" {
			return nil
		}
		return []string{g}
	case []any:
		var out []string
		for _, e := range g {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// oidcTokens is the connector data: the user's tokens at the provider.
type oidcTokens struct {
	AccessToken  string    `json:"access_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	IDToken      string    `json:"id_token,omitempty"`
}

func encodeTokens(tok *oauth2.Token, idToken string) ([]byte, error) {
	return json.Marshal(oidcTokens{
		AccessToken: tok.AccessToken, TokenType: tok.TokenType, RefreshToken: tok.RefreshToken,
		Expiry: tok.Expiry, IDToken: idToken,
	})
}

func decodeTokens(data []byte) (oidcTokens, error) {
	var t oidcTokens
	if len(data) == 0 {
		return t, nil
	}
	if err := json.Unmarshal(data, &t); err != nil {
		return t, fmt.Errorf("oidc: connector data: %w", err)
	}
	return t, nil
}

// tokenError maps a failed token request: the provider refusing the grant
// (invalid_grant: the refresh token was revoked, the user disabled) is
// ErrUserGone; an unreachable provider or a 5xx is ErrProviderUnavailable.
func tokenError(what string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		switch {
		case re.Response != nil && re.Response.StatusCode >= 500:
			return fmt.Errorf("%w: %s answered %d", ErrProviderUnavailable, what, re.Response.StatusCode)
		case re.ErrorCode == "invalid_grant":
			return fmt.Errorf("%w: %s: invalid_grant", ErrUserGone, what)
		}
		code := re.ErrorCode
		if code == "" && re.Response != nil {
			code = re.Response.Status
		}
		return fmt.Errorf("oidc: %s refused: %s", what, code)
	}
	return fmt.Errorf("%w: %s: %v", ErrProviderUnavailable, what, err)
}

// Refresh implements RefreshConnector (SPEC AS-6: the re-check of a
// user). With a refresh token in the connector data it redeems it (the
// provider may rotate it: the new data replaces the old), re-reads the
// claims and returns the current identity; invalid_grant means the
// provider no longer vouches for the user (ErrUserGone).
//
// Without a refresh token (a provider that issues none without
// offline_access, Google without access_type=offline) the stored access
// token is the only proof left: while it is unexpired, the userinfo
// endpoint is asked with it, and refusing it (401 or 403: the token was
// revoked, the user disabled) is ErrUserGone, while a 200 updates groups
// and email as a refresh does. Once it has expired, or when the provider
// has no userinfo endpoint, the provider can no longer vouch for the user
// and the answer is ErrUserGone too: returning the identity unchanged
// would let a user disabled at the provider keep a grant for the whole
// family lifetime. The family is revoked and the client sends the user
// through a login, which checks the user for real. So without a refresh
// token a grant lasts until the provider's access token expires, plus at
// most the caller's re-check interval.
func (o *OIDC) Refresh(ctx context.Context, id Identity) (Identity, error) {
	old, err := decodeTokens(id.ConnectorData)
	if err != nil {
		return id, err
	}
	if old.RefreshToken == "" {
		return o.recheckByUserinfo(ctx, id, old)
	}
	d, err := o.discover(ctx)
	if err != nil {
		return id, err
	}
	// The expired token makes the source redeem the refresh token.
	src := o.oauth2Config(d, "").TokenSource(o.ctx(ctx), &oauth2.Token{RefreshToken: old.RefreshToken, Expiry: time.Unix(1, 0)})
	tok, err := src.Token()
	if err != nil {
		return id, tokenError("refresh", err)
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = old.RefreshToken // not rotated: the old one lives on
	}
	claims := map[string]any{}
	rawID, _ := tok.Extra("id_token").(string)
	keptID := rawID
	if keptID == "" {
		keptID = old.IDToken
	}
	data, err := encodeTokens(tok, keptID)
	if err != nil {
		return id, err
	}
	// From here on the provider may have rotated the refresh token: every
	// failure returns the new data with its error, for the caller to
	// store (as RefreshConnector's contract allows), or the user's only
	// valid refresh token would be lost.
	spent := Identity{ConnectorData: data}
	if rawID != "" {
		idt, c, err := o.verifyIDToken(ctx, d, rawID, tok.AccessToken)
		if err != nil {
			return spent, err
		}
		// OpenID Connect Core 1.0 §12.2: a refreshed ID token is about
		// the same user.
		if idt.Subject != id.Subject {
			return spent, errors.New("oidc: refreshed id token is about another subject")
		}
		claims = c
	}
	if err := o.addUserinfo(ctx, d, tok.AccessToken, id.Subject, claims); err != nil {
		return spent, err
	}
	return o.updated(id, claims, data), nil
}

// recheckByUserinfo is Refresh without a refresh token (see there). The
// connector data is returned unchanged.
func (o *OIDC) recheckByUserinfo(ctx context.Context, id Identity, old oidcTokens) (Identity, error) {
	if old.AccessToken == "" || (!old.Expiry.IsZero() && !o.now().Before(old.Expiry)) {
		return id, fmt.Errorf("%w: oidc: cannot re-check: no refresh token and the access token expired; request offline access", ErrUserGone)
	}
	d, err := o.discover(ctx)
	if err != nil {
		return id, err
	}
	if d.userinfo == "" {
		return id, fmt.Errorf("%w: oidc: cannot re-check: no refresh token and no userinfo endpoint; request offline access", ErrUserGone)
	}
	status, info, err := o.fetchUserinfo(ctx, d, old.AccessToken, id.Subject)
	switch {
	case err != nil:
		return id, err
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		// The provider no longer honours the token it issued: revoked,
		// or the user disabled or deleted.
		return id, fmt.Errorf("%w: oidc: userinfo refused the access token (%d)", ErrUserGone, status)
	case status != http.StatusOK:
		return id, fmt.Errorf("oidc: userinfo answered %d", status)
	}
	if info == nil {
		info = map[string]any{}
	}
	return o.updated(id, info, id.ConnectorData), nil
}

// updated is id after a re-check that read claims: groups and email are
// replaced when the claims carry them and kept otherwise (not re-read, so
// not dropped); data becomes the connector data.
func (o *OIDC) updated(id Identity, claims map[string]any, data []byte) Identity {
	if len(claims) == 0 {
		// Neither a new ID token nor a userinfo answer: what we knew stands.
		id.ConnectorData = data
		return id
	}
	next := o.identity(id.Subject, claims)
	if _, ok := claims[o.groupsClaim]; !ok {
		next.Groups = id.Groups
	}
	if _, ok := claims["email"]; !ok {
		next.Email, next.EmailVerified = id.Email, id.EmailVerified
	}
	next.ConnectorData = data
	return next
}

// ConfigHash implements TokenConnector: tokens are bound to the issuer and
// the client they were issued to.
func (o *OIDC) ConfigHash() []byte {
	sum := sha256.Sum256([]byte("oidc\x00" + o.issuer + "\x00" + o.clientID))
	return sum[:]
}

// AccessToken implements TokenConnector.
func (o *OIDC) AccessToken(data []byte) (string, time.Time, error) {
	t, err := decodeTokens(data)
	if err != nil {
		return "", time.Time{}, err
	}
	if t.AccessToken == "" {
		return "", time.Time{}, ErrNoToken
	}
	return t.AccessToken, t.Expiry, nil
}

// RevokeTokens implements TokenConnector through the provider's RFC 7009
// revocation endpoint: the refresh token first (revoking it usually ends
// the whole grant), then the access token.
func (o *OIDC) RevokeTokens(ctx context.Context, data []byte) error {
	t, err := decodeTokens(data)
	if err != nil {
		return err
	}
	d, err := o.discover(ctx)
	if err != nil {
		return err
	}
	if d.revocation == "" {
		return fmt.Errorf("oidc: provider %q has no revocation_endpoint: %w", o.id, errors.ErrUnsupported)
	}
	var errs []error
	for _, tk := range []struct{ value, hint string }{
		{t.RefreshToken, "refresh_token"}, {t.AccessToken, "access_token"},
	} {
		if tk.value != "" {
			errs = append(errs, o.revoke(ctx, d, tk.value, tk.hint))
		}
	}
	return errors.Join(errs...)
}

func (o *OIDC) revoke(ctx context.Context, d *discovered, token, hint string) error {
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	if d.authStyle == oauth2.AuthStyleInParams {
		form.Set("client_id", o.clientID)
		form.Set("client_secret", o.secret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.revocation, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// RFC 7009 §2.1: the client authenticates as at the token endpoint
	// (client_secret_basic, with RFC 6749 §2.3.1's form-encoding, unless
	// the provider offers only client_secret_post).
	if d.authStyle != oauth2.AuthStyleInParams {
		req.SetBasicAuth(url.QueryEscape(o.clientID), url.QueryEscape(o.secret))
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: revocation: %v", ErrProviderUnavailable, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxProviderBody))
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode >= 500:
		return fmt.Errorf("%w: revocation answered %d", ErrProviderUnavailable, resp.StatusCode)
	}
	return fmt.Errorf("oidc: revocation of the %s refused with %d", hint, resp.StatusCode)
}
