package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/keys"
	"github.com/mcpgate/mcpgate/internal/login"
	"github.com/mcpgate/mcpgate/internal/metrics"
	"github.com/mcpgate/mcpgate/internal/seal"
	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/tokens"
	"github.com/mcpgate/mcpgate/internal/usertoken"
)

// Admin is an operator's handle on a deployment's store, for the CLI
// commands that act on a running deployment from outside it (`keys`,
// `sessions revoke`). Running instances pick the changes up from the store:
// keys within keys' poll interval, revocations within the revocation
// cache's (SPEC OP-4, AS-5a).
type Admin struct {
	cfg   *config.Config
	store storage.Store
	seal  *seal.Keyring
	audit audit.Recorder
	now   func() time.Time
	// extra are Options.ExtraConnectors (tests: a fake upstream IdP).
	extra []login.Connector
}

// OpenAdmin opens the configured store (applying migrations) and the
// audit sinks. A SQLite file that does not exist is refused rather than
// created: an admin command pointed at a mistyped path would otherwise
// act on a new, empty database and report success.
func OpenAdmin(ctx context.Context, cfg *config.Config, opts Options) (*Admin, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	if cfg.Storage.Driver == "sqlite" {
		if _, err := os.Stat(cfg.Storage.DSN); errors.Is(err, fs.ErrNotExist) {
			return nil, errors.New("storage.dsn names no existing SQLite database: start the gateway or run `mcpgate migrate` first")
		}
	}
	opts = opts.withDefaults()
	ring, err := seal.FromConfig(cfg.Secrets)
	if err != nil {
		return nil, err
	}
	store, err := openStore(ctx, cfg.Storage)
	if err != nil {
		return nil, err
	}
	rec, err := newAuditRecorder(cfg.Audit, opts.AuditStdout, metrics.New(opts.Version))
	if err != nil {
		store.Close()
		return nil, err
	}
	return &Admin{cfg: cfg, store: store, seal: ring, audit: rec, now: opts.Now, extra: opts.ExtraConnectors}, nil
}

// Close releases the store and the audit sinks.
func (a *Admin) Close() error { return errors.Join(a.audit.Close(), a.store.Close()) }

func (a *Admin) keys(ctx context.Context) (*keys.Manager, error) {
	return keys.New(ctx, keyOptions(a.cfg, a.store, a.seal, a.now,
		func(ctx context.Context, e audit.Event) { a.audit.Record(ctx, e) }))
}

// ListKeys describes every stored signing key. It only reads: it must not
// create a first key in an empty store, as a keys.Manager would, and a key
// whose private part does not open is listed with its problem.
func (a *Admin) ListKeys(ctx context.Context) ([]keys.KeyInfo, error) {
	return keys.ListStored(ctx, a.store, a.seal, a.now())
}

// RotateKey publishes a new signing key now; it starts signing once every
// instance has had time to publish it. On a store with no key yet, the
// first key is the rotation: it is created and signs at once, and no
// second key follows it.
func (a *Admin) RotateKey(ctx context.Context) (storage.SigningKey, error) {
	stored, err := a.store.ListSigningKeys(ctx)
	if err != nil {
		return storage.SigningKey{}, err
	}
	m, err := a.keys(ctx)
	if err != nil {
		return storage.SigningKey{}, err
	}
	if len(stored) == 0 {
		created, err := a.store.ListSigningKeys(ctx)
		if err != nil || len(created) == 0 {
			return storage.SigningKey{}, errors.Join(errors.New("no first signing key was created"), err)
		}
		k := created[len(created)-1]
		a.recordAdmin(ctx, "keys_rotate", "", map[string]any{"kid": k.ID, "first": true})
		return k, nil
	}
	k, err := m.Rotate(ctx)
	if err == nil {
		a.recordAdmin(ctx, "keys_rotate", "", map[string]any{"kid": k.ID})
	}
	return k, err
}

// KillResult counts what the kill switch removed.
type KillResult struct {
	Families        int
	Consents        int
	BrowserSessions int
	// UpstreamTokens counts the upstream-token records deleted;
	// UpstreamRevoked the providers that revoked the user's tokens there
	// (a provider without revocation is not counted).
	UpstreamTokens  int
	UpstreamRevoked int
	// UpstreamRevokeErr is why revoking at some provider failed, for the
	// operator; the local kill switch has completed regardless.
	UpstreamRevokeErr error
}

// UpstreamRevoker revokes a user's upstream tokens at their providers
// (*usertoken.Manager).
type UpstreamRevoker interface {
	Revoke(ctx context.Context, subject string) (int, error)
}

// RevokeUser is the kill switch (SPEC AS-5a, OP-3).
func (a *Admin) RevokeUser(ctx context.Context, subject string) (KillResult, error) {
	accessTTL := time.Duration(a.cfg.Signing.AccessTokenTTL)
	r := &tokens.Refresher{Store: a.store, Revocations: a.store, Seal: a.seal, AccessTTL: accessTTL,
		TTL: time.Duration(a.cfg.Signing.RefreshTokenTTL), Now: a.now}
	up, upErr := a.upstreamRevoker()
	res, err := KillSwitch(ctx, a.store, r, up, subject)
	if upErr != nil {
		res.UpstreamRevokeErr = errors.Join(upErr, res.UpstreamRevokeErr)
	}
	if err == nil {
		details := map[string]any{
			"families": res.Families, "consents": res.Consents,
			"browser_sessions": res.BrowserSessions, "upstream_tokens": res.UpstreamTokens,
			"upstream_revoked": res.UpstreamRevoked,
		}
		if res.UpstreamRevokeErr != nil {
			details["upstream_revoke_failed"] = true
		}
		a.recordAdmin(ctx, "sessions_revoke", subject, details)
	}
	return res, err
}

// upstreamRevoker builds the configured connectors for the kill switch's
// revocation at the providers. A connector that cannot be built (its
// provider unreachable at start) must not stop the kill switch: the
// error is reported and the stored tokens are still deleted.
func (a *Admin) upstreamRevoker() (UpstreamRevoker, error) {
	conns, err := buildConnectors(a.cfg.IdentityProviders)
	if err != nil {
		return nil, fmt.Errorf("identity providers: %w", err)
	}
	m, err := usertoken.New(usertoken.Options{Store: a.store, Seal: a.seal, Connectors: append(conns, a.extra...), Now: a.now})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// KillSwitch ends everything a user holds: it deletes the browser
// sessions first (so no new grant can start from one), sets the user's
// revocation epoch (every access token issued, and every login made,
// before now is rejected on every instance within the revocation poll;
// codes and families from such a login are refused) and revokes the
// refresh families, then deletes consents, revokes the user's upstream
// tokens at their providers (up, when not nil: SPEC ID-5; a failure there
// is reported in the result, not returned, as the rest has been done) and
// deletes them, so the user must log in and approve again. An empty
// subject is refused: a kill switch must never match everyone.
func KillSwitch(ctx context.Context, store storage.Store, r *tokens.Refresher, up UpstreamRevoker, subject string) (KillResult, error) {
	if subject == "" {
		return KillResult{}, errors.New("kill switch: empty subject")
	}
	var res KillResult
	var err error
	if res.BrowserSessions, err = store.DeleteBrowserSessions(ctx, subject); err != nil {
		return res, fmt.Errorf("delete browser sessions: %w", err)
	}
	families, err := r.RevokeUser(ctx, subject, "kill_switch")
	if err != nil {
		return res, fmt.Errorf("revoke grants: %w", err)
	}
	res.Families = len(families)
	if res.Consents, err = store.DeleteConsents(ctx, storage.ConsentFilter{Subject: subject}); err != nil {
		return res, fmt.Errorf("delete consents: %w", err)
	}
	if up != nil {
		res.UpstreamRevoked, res.UpstreamRevokeErr = up.Revoke(ctx, subject)
	}
	if res.UpstreamTokens, err = store.DeleteUpstreamTokens(ctx, subject); err != nil {
		return res, fmt.Errorf("delete upstream tokens: %w", err)
	}
	return res, nil
}

func (a *Admin) recordAdmin(ctx context.Context, action, subject string, details map[string]any) {
	details["action"] = action
	details["via"] = "cli"
	a.audit.Record(ctx, audit.Event{Type: audit.AdminAction, User: subject, Details: details, Risk: 30})
}
