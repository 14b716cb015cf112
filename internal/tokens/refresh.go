package tokens

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcpgate/mcpgate/internal/seal"
	"github.com/mcpgate/mcpgate/internal/storage"
)

// Refresh defaults. The grace window only has to cover a client retrying a
// response it lost, so it is short: the sealed successor sits at rest only
// that long.
const (
	DefaultRefreshTTL  = 30 * 24 * time.Hour // absolute family lifetime
	DefaultIdleTimeout = 7 * 24 * time.Hour  // as config.DefaultRefreshIdleTimeout
	DefaultGrace       = 10 * time.Second
)

// Reasons a Refresher records when it revokes a family.
const (
	ReasonReuse = "refresh_token_reuse"
	ReasonIdle  = "idle"
	// ReasonRevokedInLog: the revocation log revoked the family, or its
	// user's login, before the family record knew.
	ReasonRevokedInLog = "revoked_in_log"
)

// Refresh errors. ErrReuse also matches ErrInvalidGrant: the client is told
// invalid_grant either way (RFC 6749 §5.2), but the caller audits a reuse
// as high risk (SPEC AS-6).
var (
	ErrInvalidGrant = errors.New("tokens: invalid refresh token")
	ErrReuse        = fmt.Errorf("%w: reused outside the grace window", ErrInvalidGrant)
)

// Refresher issues and rotates refresh handles, grouped in families
// (SPEC AS-6, RFC 9700 §4.14.2).
type Refresher struct {
	Store       storage.RefreshStore
	Revocations storage.RevocationStore
	Seal        *seal.Keyring
	TTL         time.Duration // absolute family lifetime; 0: DefaultRefreshTTL
	IdleTimeout time.Duration // 0: DefaultIdleTimeout
	Grace       time.Duration // 0: DefaultGrace; negative: no grace window
	// AccessTTL and Skew must equal the Minter's TTL and the Verifier's
	// Skew: they decide how long a revocation log entry must outlive the
	// tokens it kills. 0: DefaultAccessTTL, DefaultSkew.
	AccessTTL time.Duration
	Skew      time.Duration
	// Cache, when set, learns this instance's revocations at once.
	Cache *RevocationCache
	Now   func() time.Time
}

// RotateResult is what Rotate hands back: the family to mint the access
// token from (as the rotation left it) and the successor handle. Replayed
// marks the grace path: the successor is the one a previous call already
// returned. After ErrReuse, Family is the revoked family, for the audit (if
// revoking failed, the error also carries that failure and Family is the
// family as it was).
type RotateResult struct {
	Family   storage.RefreshFamily
	Handle   string
	Replayed bool
}

// Start creates family f with its first token and returns the family as
// stored and the handle. An empty f.ID gets a new random ID; CreatedAt and
// LastUsedAt become now, and ExpiresAt is at most now+TTL.
func (r *Refresher) Start(ctx context.Context, f storage.RefreshFamily) (storage.RefreshFamily, string, error) {
	if f.ClientID == "" || f.Subject == "" || f.Resource == "" {
		return storage.RefreshFamily{}, "", errors.New("tokens: refresh family needs client, subject and resource")
	}
	t := now(r.Now)
	if f.ID == "" {
		f.ID = NewID()
	}
	f.CreatedAt, f.LastUsedAt = t, t
	f.RevokedAt, f.RevokeReason = time.Time{}, ""
	if exp := t.Add(orDefault(r.TTL, DefaultRefreshTTL)); f.ExpiresAt.IsZero() || exp.Before(f.ExpiresAt) {
		f.ExpiresAt = exp
	}
	id, hash, handle := newHandle()
	first := storage.RefreshToken{
		ID: id, FamilyID: f.ID, ClientID: f.ClientID, SecretHash: hash, CreatedAt: t, ExpiresAt: f.ExpiresAt,
	}
	if err := r.Store.CreateRefreshFamily(ctx, f, first); err != nil {
		return storage.RefreshFamily{}, "", fmt.Errorf("tokens: create refresh family: %w", err)
	}
	return f, handle, nil
}

// Rotate exchanges handle, presented by clientID, for its successor. Every
// use rotates (RFC 9700 §4.14.2). A retry of an already rotated handle
// inside the grace window gets the same successor back (Replayed); any
// other reuse revokes the family, access tokens included, and returns
// ErrReuse. Everything else a client could get wrong is ErrInvalidGrant;
// other errors are internal.
func (r *Refresher) Rotate(ctx context.Context, handle, clientID string) (RotateResult, error) {
	return r.RotateIf(ctx, handle, clientID, nil)
}

// RotateIf is Rotate with a caller's check of the request against the
// family (the token endpoint: the requested resource and scope, SPEC
// AS-4). check runs after the handle, its client and its family are found
// good and before anything changes, so a refused request consumes
// nothing; its error is returned as is. A reused handle is still detected
// first: reuse revokes the family whatever the request asked for.
func (r *Refresher) RotateIf(ctx context.Context, handle, clientID string, check func(storage.RefreshFamily) error) (RotateResult, error) {
	tok, fam, err := r.lookup(ctx, handle, clientID)
	if err != nil {
		return RotateResult{}, err
	}
	t := now(r.Now)
	if err := r.checkFamily(ctx, fam, tok, t); err != nil {
		return RotateResult{}, err
	}
	if !tok.UsedAt.IsZero() {
		res, err := r.replay(ctx, tok, fam, t)
		if err == nil && check != nil {
			if cerr := check(res.Family); cerr != nil {
				return RotateResult{}, cerr
			}
		}
		return res, err
	}
	if check != nil {
		if err := check(fam); err != nil {
			return RotateResult{}, err
		}
	}
	return r.rotate(ctx, tok, fam, t)
}

// lookup finds the token by ID, checks its secret and its client, and
// loads its family.
func (r *Refresher) lookup(ctx context.Context, handle, clientID string) (storage.RefreshToken, storage.RefreshFamily, error) {
	id, secret, ok := ParseHandle(handle)
	if !ok {
		return storage.RefreshToken{}, storage.RefreshFamily{}, ErrInvalidGrant
	}
	tok, err := r.Store.GetRefreshToken(ctx, id)
	if err != nil {
		return storage.RefreshToken{}, storage.RefreshFamily{}, storeErr("load refresh token", err)
	}
	if !secretMatches(tok.SecretHash, secret) {
		return storage.RefreshToken{}, storage.RefreshFamily{}, ErrInvalidGrant
	}
	// RFC 6749 §6: a refresh token is bound to the client it was issued
	// to. Another client is refused before anything is consumed, so it can
	// neither rotate the handle nor use up the owner's grace window.
	if tok.ClientID != clientID {
		return storage.RefreshToken{}, storage.RefreshFamily{}, ErrInvalidGrant
	}
	fam, err := r.Store.GetRefreshFamily(ctx, tok.FamilyID)
	if err != nil {
		return storage.RefreshToken{}, storage.RefreshFamily{}, storeErr("load refresh family", err)
	}
	return tok, fam, nil
}

// checkFamily refuses a revoked or expired family, and revokes an idle one.
func (r *Refresher) checkFamily(ctx context.Context, fam storage.RefreshFamily, tok storage.RefreshToken, t time.Time) error {
	if fam.Revoked() || expired(fam.ExpiresAt, t) || expired(tok.ExpiresAt, t) {
		return ErrInvalidGrant
	}
	// The log can know better than the record: a replayed code revoked
	// this family before its first exchange had created it, or the kill
	// switch ran while the code was in flight. Record it and refuse.
	if r.Cache != nil && (r.Cache.FamilyRevoked(fam.ID) || r.Cache.AuthRevoked(fam.Subject, fam.AuthTime)) {
		if _, err := r.revokeFamily(ctx, fam.ID, ReasonRevokedInLog, t); err != nil {
			return err
		}
		return ErrInvalidGrant
	}
	last := fam.LastUsedAt
	if last.IsZero() {
		last = fam.CreatedAt
	}
	if t.After(last.Add(orDefault(r.IdleTimeout, DefaultIdleTimeout))) {
		if _, err := r.revokeFamily(ctx, fam.ID, ReasonIdle, t); err != nil {
			return err
		}
		return ErrInvalidGrant
	}
	return nil
}

// rotate retires tok in favour of a new successor, kept sealed for the
// grace window (AAD: the old token's ID, so a sealed successor cannot be
// moved to another token's record).
func (r *Refresher) rotate(ctx context.Context, tok storage.RefreshToken, fam storage.RefreshFamily, t time.Time) (RotateResult, error) {
	id, hash, handle := newHandle()
	rot := storage.Rotation{
		OldID: tok.ID,
		Successor: storage.RefreshToken{
			ID: id, FamilyID: fam.ID, ClientID: tok.ClientID, SecretHash: hash, CreatedAt: t, ExpiresAt: fam.ExpiresAt,
		},
		Now: t,
	}
	if g := orDefault(r.Grace, DefaultGrace); g > 0 {
		if r.Seal == nil {
			return RotateResult{}, errors.New("tokens: refresh grace window needs a seal keyring")
		}
		sealed, err := r.Seal.Seal(seal.PurposeRefreshSuccessor, []byte(handle), []byte(tok.ID))
		if err != nil {
			return RotateResult{}, fmt.Errorf("tokens: seal successor: %w", err)
		}
		rot.SuccessorSealed, rot.GraceUntil = sealed, t.Add(g)
	}
	old, err := r.Store.RotateRefreshToken(ctx, rot)
	switch {
	case err == nil:
		fam.LastUsedAt = t
		return RotateResult{Family: fam, Handle: handle}, nil
	case errors.Is(err, storage.ErrConsumed):
		// A concurrent call won; old carries its successor.
		return r.replay(ctx, old, fam, t)
	default:
		return RotateResult{}, storeErr("rotate refresh token", err)
	}
}

// replay handles a handle that was already rotated: inside the grace
// window, while the successor is unused, the same successor is returned
// (SPEC AS-6: a client retrying a lost response). The client was already
// checked against the token, and the successor has the same client. Any
// other reuse means two parties hold the handle, so the whole family is
// revoked, access tokens included (RFC 9700 §4.14.2).
func (r *Refresher) replay(ctx context.Context, old storage.RefreshToken, fam storage.RefreshFamily, t time.Time) (RotateResult, error) {
	handle, ok, err := r.graceSuccessor(ctx, old, t)
	if err != nil {
		return RotateResult{}, err
	}
	if ok {
		return RotateResult{Family: fam, Handle: handle, Replayed: true}, nil
	}
	revoked, err := r.revokeFamily(ctx, fam.ID, ReasonReuse, t)
	if err != nil {
		// Still report the reuse, so it is audited and refused; the
		// joined error says the revocation must be retried.
		return RotateResult{Family: fam}, errors.Join(ErrReuse, err)
	}
	return RotateResult{Family: revoked}, ErrReuse
}

// graceSuccessor opens old's sealed successor if the grace window allows.
func (r *Refresher) graceSuccessor(ctx context.Context, old storage.RefreshToken, t time.Time) (string, bool, error) {
	if old.SuccessorID == "" || len(old.SuccessorSealed) == 0 || t.After(old.GraceUntil) || r.Seal == nil {
		return "", false, nil
	}
	succ, err := r.Store.GetRefreshToken(ctx, old.SuccessorID)
	if err != nil {
		return "", false, fmt.Errorf("tokens: load successor: %w", err)
	}
	if !succ.UsedAt.IsZero() {
		return "", false, nil // the successor is in use: this is a replay
	}
	h, err := r.Seal.Open(seal.PurposeRefreshSuccessor, old.SuccessorSealed, []byte(old.ID))
	if err != nil {
		return "", false, fmt.Errorf("tokens: open sealed successor: %w", err)
	}
	if id, _, ok := ParseHandle(string(h)); !ok || id != old.SuccessorID {
		return "", false, errors.New("tokens: sealed successor does not match its record")
	}
	return string(h), true, nil
}

// storeErr maps what a client caused (unknown token, revoked family) to
// ErrInvalidGrant and keeps anything else as an internal error.
func storeErr(op string, err error) error {
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, storage.ErrRevoked) {
		return ErrInvalidGrant
	}
	return fmt.Errorf("tokens: %s: %w", op, err)
}

func expired(exp, t time.Time) bool { return !exp.IsZero() && exp.Before(t) }

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
