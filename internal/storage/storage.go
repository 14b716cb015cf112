package storage

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Sentinel errors. Backends return these (possibly wrapped) so callers can
// branch with errors.Is without knowing which backend they talk to.
var (
	// ErrNotFound: no record has that key. Expired records remain (and are
	// returned) until GarbageCollect removes them.
	ErrNotFound = errors.New("storage: not found")
	// ErrAlreadyExists: a Create found a record with the same key.
	ErrAlreadyExists = errors.New("storage: already exists")
	// ErrConsumed: a consume-once record (authorization code, refresh token)
	// was used before. The record is returned alongside so the caller can
	// revoke what the first use issued (RFC 6749 §4.1.2, RFC 9700 §4.14).
	ErrConsumed = errors.New("storage: already consumed")
	// ErrRevoked: the refresh family a token belongs to is revoked.
	ErrRevoked = errors.New("storage: revoked")
	// ErrLeaseHeld: another holder owns an unexpired lease.
	ErrLeaseHeld = errors.New("storage: lease held by another holder")
	// ErrInvalidArgument: the call was refused before anything was written,
	// because acting on it would defeat a guarantee: a zero now where time
	// decides consume-once or revocation, an empty filter on a destructive
	// bulk operation, an empty authorization-code hash, or a refresh
	// successor outside the old token's family. It always means a caller
	// bug. The checks live in check.go (CheckNow, CheckFamilyFilter, ...),
	// once for every backend.
	ErrInvalidArgument = errors.New("storage: invalid argument")
)

// Store is everything mcpgate persists. Each concern has its own small
// interface so a consumer can depend on just the part it uses; Store is the
// union every backend implements and storagetest checks.
//
// Rules every backend follows:
//   - Times are stored in UTC; a zero time means "never" / "not set".
//     Times from 1678 through 2261 are kept exactly (to the microsecond at
//     least). sqlstore stores int64 Unix nanoseconds, which span 1677-09-21
//     to 2262-04-11, and clamps a time outside to the nearest end rather
//     than wrapping it, so a "far future" expiry stays in the future. It
//     stores the zero time as 0, so the Unix epoch itself reads back as the
//     zero time; no caller should use 1970-01-01T00:00:00Z as an instant.
//   - A zero now is refused with ErrInvalidArgument wherever time decides
//     consume-once or revocation (ConsumeAuthCode, RotateRefreshToken,
//     RevokeRefreshFamilies, AcquireLease): zero doubles as "unused" and
//     "not revoked", so a zero now would leave a code or token reusable or
//     revoke nothing. A backend that cannot store a now apart from zero
//     (sqlstore: the Unix epoch) refuses that now too.
//   - Updaters are compare-and-swap: fn sees the current record and the
//     returned record is written only if no other writer intervened (backends
//     serialise writers, so no write is ever lost). fn may be called more than
//     once; it must be free of side effects. An error from fn aborts the update
//     and is returned unchanged.
//   - fn cannot move a record to another key: the key fields it returns are
//     ignored or refused. Fields documented as fixed for a record's life are
//     kept by the store whatever fn returns, and fields documented as only
//     narrowing are narrowed (UpdateRefreshFamily, via KeepFixed): the
//     callers never do otherwise either, but a buggy or stale fn must not be
//     able to move a grant to another client, user or upstream, or widen it
//     (SPEC AS-4).
//   - Get methods do not hide expired records; GarbageCollect removes them and
//     callers compare ExpiresAt themselves (the clock belongs to the caller).
//     A record is expired iff its ExpiresAt is non-zero and before now; one
//     expiring exactly at now is still live.
//   - Destructive bulk operations (RevokeRefreshFamilies, DeleteConsents,
//     DeleteBrowserSessions, DeleteUpstreamTokens) refuse an empty filter
//     (every field "") with ErrInvalidArgument: a kill switch called with a
//     blank user must never revoke every grant in the deployment. A
//     non-empty subject matches exactly. List methods keep "empty matches
//     everything".
//   - Bearer secrets (codes, refresh tokens, client secrets, browser session
//     IDs) are never stored: callers pass a hash. The one exception is
//     RefreshToken.SuccessorSealed, an AEAD-sealed copy of the successor kept
//     only until GraceUntil (SPEC AS-6); with a zero GraceUntil it is not
//     kept past the next GarbageCollect.
type Store interface {
	ClientStore
	AuthRequestStore
	AuthCodeStore
	RefreshStore
	ConsentStore
	BrowserSessionStore
	UpstreamTokenStore
	SigningKeyStore
	RevocationStore
	MCPSessionStore
	LeaseStore
	AuditStore

	// GarbageCollect deletes every record whose expiry is before now and
	// wipes sealed refresh successors whose grace window has ended: a
	// GraceUntil before now, or a zero GraceUntil ("no grace window", never
	// "forever": a sealed live credential must not sit at rest
	// indefinitely). The token itself stays; reuse detection needs it.
	GarbageCollect(ctx context.Context, now time.Time) (GCResult, error)
	// Ping reports whether the backend can serve requests (readiness). It
	// fails once Close has been called, so readiness reflects shutdown.
	Ping(ctx context.Context) error
	// Close releases the backend's resources. Closing again does nothing
	// and returns nil.
	Close() error
}

// ClientSource says how a client came to exist; the consent page shows it
// (SPEC AS-3) because a DCR client is less trustworthy than a configured one.
type ClientSource string

const (
	ClientSourceConfig ClientSource = "config" // pre-registered in the config file
	ClientSourceDCR    ClientSource = "dcr"    // RFC 7591 dynamic registration
	ClientSourceCIMD   ClientSource = "cimd"   // client ID metadata document (cached)
)

// Client is an OAuth client.
type Client struct {
	ID                      string
	SecretHash              []byte // empty for public clients
	Name                    string
	URI                     string // client_uri, shown on the consent page
	LogoURI                 string
	RedirectURIs            []string
	GrantTypes              []string
	ResponseTypes           []string
	TokenEndpointAuthMethod string // none | client_secret_basic | client_secret_post
	Scopes                  []string
	Source                  ClientSource
	CreatedAt               time.Time
	UpdatedAt               time.Time
	// ExpiresAt bounds a CIMD cache entry or a DCR client's lifetime; zero
	// means it never expires.
	ExpiresAt time.Time
}

// ClientStore persists OAuth clients.
type ClientStore interface {
	CreateClient(ctx context.Context, c Client) error
	GetClient(ctx context.Context, id string) (Client, error)
	UpdateClient(ctx context.Context, id string, fn func(Client) (Client, error)) error
	// PutClient creates or replaces a client (config sync, CIMD cache refresh).
	PutClient(ctx context.Context, c Client) error
	DeleteClient(ctx context.Context, id string) error
	ListClients(ctx context.Context) ([]Client, error)
}

// AuthRequest is a pending authorization: created at /authorize, carried
// through consent and upstream login, finished when a code is issued.
type AuthRequest struct {
	ID                  string
	ClientID            string
	RedirectURI         string
	State               string // the client's state, echoed back
	CodeChallenge       string
	CodeChallengeMethod string
	Resource            string // canonical RFC 8707 resource (the token audience)
	Scopes              []string
	Prompt              string
	// BrowserBinding is a hash of a value in a __Host- cookie: the callback
	// must come from the browser that started the flow (login CSRF defence).
	BrowserBinding []byte
	// ConsentGranted records the user's approval (SPEC AS-3: consent before
	// the upstream IdP is contacted).
	ConsentGranted bool
	// Upstream login: the provider chosen, a hash of the single-use upstream
	// state, and the sealed upstream PKCE verifier and OIDC nonce.
	ProviderID        string
	UpstreamStateHash []byte
	UpstreamSealed    []byte
	// Set once the user has authenticated.
	Subject   string
	AuthTime  time.Time
	CreatedAt time.Time
	ExpiresAt time.Time
}

// AuthRequestStore persists pending authorizations.
type AuthRequestStore interface {
	CreateAuthRequest(ctx context.Context, r AuthRequest) error
	GetAuthRequest(ctx context.Context, id string) (AuthRequest, error)
	// GetAuthRequestByUpstreamState finds the request an IdP callback belongs to.
	GetAuthRequestByUpstreamState(ctx context.Context, stateHash []byte) (AuthRequest, error)
	UpdateAuthRequest(ctx context.Context, id string, fn func(AuthRequest) (AuthRequest, error)) error
	DeleteAuthRequest(ctx context.Context, id string) error
	// CountAuthRequests counts unexpired pending authorizations, for the cap
	// on pending authorizations.
	CountAuthRequests(ctx context.Context, now time.Time) (int, error)
}

// AuthCode is an issued authorization code, bound to everything the token
// endpoint must check (SPEC AS-4).
type AuthCode struct {
	Hash                []byte // SHA-256 of the code; the code is never stored
	ClientID            string
	RedirectURI         string
	CodeChallenge       string
	CodeChallengeMethod string
	Resource            string
	Scopes              []string
	Subject             string
	ProviderID          string
	Groups              []string
	// Email is the user's email as the provider vouched for it at login.
	// The authorization server stores it only when the provider marked it
	// verified (so EmailVerified is true whenever Email is set): policy and
	// identity headers upstream may trust only a verified address (SPEC
	// PX-7, PX-8), and an unverified one is not worth keeping at rest.
	Email         string
	EmailVerified bool
	AuthTime      time.Time
	// FamilyID is the refresh family (the token's sid) the exchange creates;
	// fixed at issue time so a replay can revoke what the first use issued.
	FamilyID   string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	ConsumedAt time.Time // zero until the code is exchanged
}

// AuthCodeStore persists authorization codes.
type AuthCodeStore interface {
	// CreateAuthCode stores c. An empty c.Hash is ErrInvalidArgument: the
	// code would be redeemable by any caller that lost its own.
	CreateAuthCode(ctx context.Context, c AuthCode) error
	// ConsumeAuthCode atomically marks the code used and returns it. Exactly
	// one of any number of concurrent calls succeeds; the others get
	// ErrConsumed together with the record.
	// A zero now is ErrInvalidArgument (ConsumedAt zero means unused), and
	// so is an empty hash.
	ConsumeAuthCode(ctx context.Context, hash []byte, now time.Time) (AuthCode, error)
}

// RefreshFamily is one grant: every refresh token rotated from one code
// exchange. Its ID is the access tokens' sid claim.
type RefreshFamily struct {
	ID         string
	ClientID   string
	Subject    string
	ProviderID string
	Resource   string // the audience the grant is bound to; never changes
	Scopes     []string
	Groups     []string
	// Email and EmailVerified are as on AuthCode (stored only when
	// verified); a user re-check replaces them with the provider's
	// current answer, as it does Groups.
	Email         string
	EmailVerified bool
	AuthTime      time.Time
	CreatedAt     time.Time
	LastUsedAt    time.Time // for the idle timeout
	ExpiresAt     time.Time // absolute lifetime
	// UserCheckedAt is when the user was last re-checked with the provider
	// (SPEC AS-6: at least every 15 minutes).
	UserCheckedAt time.Time
	RevokedAt     time.Time
	RevokeReason  string
}

// Revoked reports whether the family has been revoked.
func (f RefreshFamily) Revoked() bool { return !f.RevokedAt.IsZero() }

// KeepFixed returns next, an updater's result for the stored family f, with
// what no update may change or widen taken from f (SPEC AS-4: a refresh can
// never move a grant to another upstream or widen it):
//   - the identity and binding of the grant: ID, ClientID, Subject,
//     ProviderID and Resource are f's;
//   - Scopes can only narrow: they are next's scopes that f also has, in
//     next's order; a scope f lacks is dropped;
//   - the absolute lifetime can only shorten: ExpiresAt is the earlier of
//     f's and next's, where zero means "no absolute lifetime" (so a zero in
//     next keeps f's, and a family without one may be given one);
//   - revocation is one-way: once f is revoked, RevokedAt and RevokeReason
//     are f's. A fn built from a stale copy would otherwise un-revoke a
//     grant the kill switch just revoked.
//
// Everything else (Groups, Email, LastUsedAt, UserCheckedAt, ...) is next's.
// Every backend's UpdateRefreshFamily applies it, so the rule lives here
// once.
func (f RefreshFamily) KeepFixed(next RefreshFamily) RefreshFamily {
	next.ID, next.ClientID, next.Subject, next.Resource = f.ID, f.ClientID, f.Subject, f.Resource
	next.ProviderID = f.ProviderID
	next.Scopes = slices.DeleteFunc(slices.Clone(next.Scopes), func(s string) bool {
		return !slices.Contains(f.Scopes, s)
	})
	if next.ExpiresAt.IsZero() || (!f.ExpiresAt.IsZero() && f.ExpiresAt.Before(next.ExpiresAt)) {
		next.ExpiresAt = f.ExpiresAt
	}
	if f.Revoked() {
		next.RevokedAt, next.RevokeReason = f.RevokedAt, f.RevokeReason
	}
	return next
}

// RefreshToken is one member of a family. The handle the client holds is
// "<ID>.<secret>"; only a hash of the secret is stored.
type RefreshToken struct {
	ID         string
	FamilyID   string
	ClientID   string
	SecretHash []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsedAt     time.Time // zero until rotated
	// Set by RotateRefreshToken: the successor, and until GraceUntil a sealed
	// copy of its handle so a client retrying a lost response gets the same
	// successor (SPEC AS-6). GarbageCollect wipes SuccessorSealed after
	// GraceUntil; a zero GraceUntil means "no grace window", so the next
	// GarbageCollect wipes it.
	SuccessorID     string
	SuccessorSealed []byte
	GraceUntil      time.Time
}

// Rotation asks RotateRefreshToken to retire OldID in favour of Successor.
type Rotation struct {
	OldID           string
	Successor       RefreshToken
	SuccessorSealed []byte
	GraceUntil      time.Time
	Now             time.Time
}

// FamilyFilter selects families; empty fields match everything, except that
// RevokeRefreshFamilies refuses a filter whose Subject and ClientID are both
// empty. Used by the kill switch and the admin console.
type FamilyFilter struct {
	Subject        string
	ClientID       string
	IncludeRevoked bool
}

// RefreshStore persists refresh families and tokens.
type RefreshStore interface {
	// CreateRefreshFamily stores a new family and its first token atomically.
	CreateRefreshFamily(ctx context.Context, f RefreshFamily, first RefreshToken) error
	GetRefreshFamily(ctx context.Context, id string) (RefreshFamily, error)
	// UpdateRefreshFamily is a compare-and-swap updater whose result passes
	// through KeepFixed: ID, ClientID, Subject, ProviderID and Resource stay
	// as stored, Scopes can only narrow and ExpiresAt only come earlier
	// (SPEC AS-4: a refresh can never move a grant to another upstream or
	// widen it), and revocation is one-way: once RevokedAt is set,
	// RevokedAt and RevokeReason stay as stored. The store keeps these
	// silently rather than refusing, so the rest of fn's update still lands;
	// fn may revoke an unrevoked family.
	UpdateRefreshFamily(ctx context.Context, id string, fn func(RefreshFamily) (RefreshFamily, error)) error
	ListRefreshFamilies(ctx context.Context, f FamilyFilter) ([]RefreshFamily, error)
	// RevokeRefreshFamilies revokes every unrevoked family matching f and
	// returns their IDs. f.IncludeRevoked is ignored: a revoked family keeps
	// its first RevokedAt and RevokeReason. Subject and ClientID both empty,
	// or a zero now, is ErrInvalidArgument and revokes nothing.
	RevokeRefreshFamilies(ctx context.Context, f FamilyFilter, reason string, now time.Time) ([]string, error)

	GetRefreshToken(ctx context.Context, id string) (RefreshToken, error)
	// RotateRefreshToken atomically marks OldID used, records its successor
	// and stores the successor, and bumps the family's LastUsedAt; it returns
	// the old token as the rotation left it. Exactly one of any number of
	// concurrent rotations of the same token succeeds; the others get
	// ErrConsumed with the old token (whose SuccessorID and SuccessorSealed
	// let the caller apply the grace window or detect reuse).
	// A revoked family gives ErrRevoked, even for an already-used token: with
	// ErrConsumed the caller would take the grace path and hand out the
	// sealed successor of a revoked grant. A successor ID that is taken gives
	// ErrAlreadyExists; a successor in another family is ErrInvalidArgument
	// (revoking the family would miss it). A zero r.Now is
	// ErrInvalidArgument (UsedAt zero means unused). A failed rotation
	// changes nothing.
	RotateRefreshToken(ctx context.Context, r Rotation) (RefreshToken, error)
}

// Consent is a user's standing approval of a client (SPEC AS-3). The key is
// (Subject, ClientID, RedirectURI, Resource); Scopes is what was approved.
type Consent struct {
	Subject     string
	ClientID    string
	RedirectURI string
	Resource    string
	Scopes      []string
	GrantedAt   time.Time
	ExpiresAt   time.Time // zero: until revoked
}

// ConsentFilter selects consents; empty fields match everything, except that
// DeleteConsents refuses a filter whose fields are all empty.
type ConsentFilter struct {
	Subject  string
	ClientID string
}

// ConsentStore persists consents.
type ConsentStore interface {
	// PutConsent creates or replaces the consent with the same key.
	PutConsent(ctx context.Context, c Consent) error
	GetConsent(ctx context.Context, subject, clientID, redirectURI, resource string) (Consent, error)
	ListConsents(ctx context.Context, f ConsentFilter) ([]Consent, error)
	// DeleteConsents deletes every consent matching f and returns how many;
	// an empty f is ErrInvalidArgument and deletes nothing.
	DeleteConsents(ctx context.Context, f ConsentFilter) (int, error)
}

// BrowserSession is a logged-in browser (SPEC SE-1). ID is a hash of the
// cookie value.
type BrowserSession struct {
	ID            string
	Subject       string
	ProviderID    string
	Email         string
	EmailVerified bool
	Name          string
	Groups        []string
	UserAgentHash []byte // optional binding
	IPPrefix      string // optional binding
	AuthTime      time.Time
	CreatedAt     time.Time
	LastSeenAt    time.Time
	IdleExpiresAt time.Time
	ExpiresAt     time.Time // absolute
}

// BrowserSessionStore persists browser sessions.
type BrowserSessionStore interface {
	CreateBrowserSession(ctx context.Context, s BrowserSession) error
	GetBrowserSession(ctx context.Context, id string) (BrowserSession, error)
	UpdateBrowserSession(ctx context.Context, id string, fn func(BrowserSession) (BrowserSession, error)) error
	DeleteBrowserSession(ctx context.Context, id string) error
	// ListBrowserSessions lists a user's sessions, oldest first (the
	// concurrent-session limit evicts from the front); "" lists all.
	ListBrowserSessions(ctx context.Context, subject string) ([]BrowserSession, error)
	// DeleteBrowserSessions deletes all of a user's sessions (kill switch);
	// "" is ErrInvalidArgument and deletes nothing.
	DeleteBrowserSessions(ctx context.Context, subject string) (int, error)
}

// UpstreamToken is a user's token at an upstream IdP (SPEC ID-5), sealed.
// The key is (Subject, ProviderID).
type UpstreamToken struct {
	Subject    string
	ProviderID string
	// ConfigHash binds the token to the connector configuration that issued
	// it; a changed client ID or issuer makes the token unusable.
	ConfigHash []byte
	Sealed     []byte // sealed access token, refresh token and metadata
	ExpiresAt  time.Time
	UpdatedAt  time.Time
}

// UpstreamTokenStore persists sealed upstream tokens. Refresh is serialised
// across instances with a lease (LeaseStore). GarbageCollect leaves them
// alone (ExpiresAt is the upstream access token's, and its refresh token may
// outlive it); the kill switch deletes them, and retention for users who
// never return is left to the Identity providers issue.
type UpstreamTokenStore interface {
	PutUpstreamToken(ctx context.Context, t UpstreamToken) error
	GetUpstreamToken(ctx context.Context, subject, providerID string) (UpstreamToken, error)
	UpdateUpstreamToken(ctx context.Context, subject, providerID string, fn func(UpstreamToken) (UpstreamToken, error)) error
	// DeleteUpstreamTokens deletes all of a user's upstream tokens (kill
	// switch) and returns how many; "" is ErrInvalidArgument and deletes
	// nothing.
	DeleteUpstreamTokens(ctx context.Context, subject string) (int, error)
}

// SigningKey is a token-signing key (SPEC OP-4). A key is published in JWKS
// from CreatedAt, signs from ActiveAt until RetiredAt, and stays published
// until ExpiresAt (after every token it signed has expired).
type SigningKey struct {
	ID            string // kid
	Algorithm     string // ES256 | EdDSA | RS256
	PublicJWK     []byte
	PrivateSealed []byte
	CreatedAt     time.Time
	ActiveAt      time.Time
	RetiredAt     time.Time // zero while still signing
	ExpiresAt     time.Time // zero until retired
}

// SigningKeyStore persists signing keys.
type SigningKeyStore interface {
	CreateSigningKey(ctx context.Context, k SigningKey) error
	UpdateSigningKey(ctx context.Context, id string, fn func(SigningKey) (SigningKey, error)) error
	// ListSigningKeys lists every stored key, oldest first; GarbageCollect
	// removes keys past ExpiresAt.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
}

// RevocationKind says what a Revocation's Key names.
type RevocationKind string

const (
	RevokeFamily RevocationKind = "family" // Key is a family ID (sid)
	RevokeToken  RevocationKind = "token"  // Key is an access token jti
	RevokeUser   RevocationKind = "user"   // Key is a subject; NotBefore is its epoch
)

// Revocation is one entry of the revocation log every instance polls so that
// revocation reaches access tokens everywhere within seconds (SPEC AS-5a).
type Revocation struct {
	Kind      RevocationKind
	Key       string
	Reason    string
	NotBefore time.Time // RevokeUser: tokens issued before this are invalid
	CreatedAt time.Time
	// ExpiresAt is when no token it could affect is still valid.
	ExpiresAt time.Time
}

// Supersede returns what the log holds after next lands on r, an entry with
// the same Kind and Key. Revocation only ever tightens, because two writers
// (the kill switch run twice, on two instances) can land out of order:
//   - NotBefore is the later of the two (zero: not set), so an older epoch
//     landing last cannot move a user's epoch back and re-validate the
//     tokens issued between the two (SPEC AS-5a);
//   - ExpiresAt is the later of the two, zero meaning "never", so a shorter
//     one cannot let GarbageCollect drop the entry while a token it
//     revokes is still valid;
//   - Reason and CreatedAt are next's: the entry changed, and pollers
//     listing since their last poll must see it again.
//
// Every backend's AddRevocation stores this, so the rule lives here once.
func (r Revocation) Supersede(next Revocation) Revocation {
	if next.NotBefore.Before(r.NotBefore) {
		next.NotBefore = r.NotBefore
	}
	if r.ExpiresAt.IsZero() || (!next.ExpiresAt.IsZero() && next.ExpiresAt.Before(r.ExpiresAt)) {
		next.ExpiresAt = r.ExpiresAt
	}
	return next
}

// RevocationStore persists the revocation log.
type RevocationStore interface {
	// AddRevocation records r. A second entry with the same (Kind, Key)
	// replaces the first as Revocation.Supersede says: it can move NotBefore
	// and ExpiresAt later, never earlier (a newer user epoch supersedes an
	// older one, and an older one arriving late changes neither).
	AddRevocation(ctx context.Context, r Revocation) error
	// ListRevocations lists entries created at or after since, oldest first.
	// Pollers pass an overlapping since (their last poll minus a margin)
	// because writers' clocks and commit order differ slightly.
	ListRevocations(ctx context.Context, since time.Time) ([]Revocation, error)
}

// MCPSession binds an upstream Mcp-Session-Id to the principal that created
// it (SPEC PX-9), across instances.
type MCPSession struct {
	ID         string // the session ID the client sees (or its hash)
	Upstream   string
	Subject    string
	ClientID   string
	UpstreamID string // the upstream's own session ID
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// MCPSessionStore persists MCP session bindings.
type MCPSessionStore interface {
	CreateMCPSession(ctx context.Context, s MCPSession) error
	GetMCPSession(ctx context.Context, id string) (MCPSession, error)
	UpdateMCPSession(ctx context.Context, id string, fn func(MCPSession) (MCPSession, error)) error
	DeleteMCPSession(ctx context.Context, id string) error
}

// Lease is a named, expiring lock held by one instance: one upstream-token
// refresh per user and provider, one key rotation at a time.
type Lease struct {
	Name      string
	Holder    string
	ExpiresAt time.Time
}

// LeaseStore grants leases.
type LeaseStore interface {
	// AcquireLease takes the lease for holder until expires, or extends it if
	// holder already has it. It fails with ErrLeaseHeld if another holder has
	// an unexpired lease (judged by now). A zero now or a zero expires is
	// ErrInvalidArgument: a lease that never expires would outlive a crashed
	// holder, and backends disagree on what a zero expiry would mean.
	AcquireLease(ctx context.Context, name, holder string, now, expires time.Time) error
	// ReleaseLease drops the lease if holder has it; otherwise it does nothing.
	ReleaseLease(ctx context.Context, name, holder string) error
}

// AuditRecord is one entry of the hash-chained audit log (SPEC AU-1, AU-2).
// Data holds the event's canonical JSON; the indexed fields are copied out
// of it for queries. Hash covers PrevHash and Data.
type AuditRecord struct {
	Seq int64 // 1-based position in the chain, assigned by the store
	// ID names the event for log correlation. The audit package makes it a
	// UUIDv7; the store does not require it to be unique (Seq is the key).
	ID       string
	Time     time.Time
	Type     string
	Subject  string
	ClientID string
	IP       string
	Risk     int
	Data     []byte
	PrevHash []byte
	Hash     []byte
}

// AuditQuery selects audit records; empty fields match everything.
type AuditQuery struct {
	AfterSeq int64
	Type     string
	Subject  string
	Limit    int // 0 means a backend default (1000)
}

// AuditStore persists the audit chain.
type AuditStore interface {
	// AppendAudit appends one record. build receives the current last record
	// (ok is false for an empty chain) and returns the new one; the store sets
	// Seq. Appends are serialised across instances, so the chain never forks.
	AppendAudit(ctx context.Context, build func(prev AuditRecord, ok bool) (AuditRecord, error)) (AuditRecord, error)
	ListAudit(ctx context.Context, q AuditQuery) ([]AuditRecord, error)
	// PruneAudit deletes the leading run of records older than before
	// (retention) and returns how many. A record older than the cutoff that
	// follows a newer one is kept: instances' clocks differ, and a gap in the
	// middle would look like tampering. The chain stays verifiable from the
	// first kept record, and after everything is pruned the next append still
	// receives the last record (Seq and Hash are never reused).
	PruneAudit(ctx context.Context, before time.Time) (int, error)
}

// GCResult counts what GarbageCollect removed.
type GCResult struct {
	AuthRequests    int
	AuthCodes       int
	RefreshTokens   int
	RefreshFamilies int
	Consents        int
	BrowserSessions int
	Clients         int
	SigningKeys     int
	Revocations     int
	MCPSessions     int
	Leases          int
	SuccessorsWiped int
}

// Total is the number of rows GarbageCollect deleted or wiped.
func (r GCResult) Total() int {
	return r.AuthRequests + r.AuthCodes + r.RefreshTokens + r.RefreshFamilies +
		r.Consents + r.BrowserSessions + r.Clients + r.SigningKeys +
		r.Revocations + r.MCPSessions + r.Leases + r.SuccessorsWiped
}
