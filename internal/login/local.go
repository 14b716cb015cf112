package login

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"slices"

	"github.com/mcpgate/mcpgate/internal/config"
)

// maxUsernameBytes bounds a submitted username; no configured user is
// longer, so a longer one is simply wrong.
const maxUsernameBytes = 256

// hashMemoryBudgetKiB bounds the memory that concurrent argon2id
// verifications may hold at once (256 MiB): with the default 64 MiB per
// hash, a burst of a hundred login attempts would otherwise ask for 6 GiB.
// One verification always runs, however large its memory parameter.
const hashMemoryBudgetKiB = 256 << 10

// Local is the local provider (SPEC ID-4): users from config with argon2id
// or bcrypt hashes, for small installs and the demo.
//
// Usernames match exactly, byte for byte: "Alice" and "alice" are
// different users. Config validation compares usernames the same way when
// it refuses duplicates, and the throttle counts failures per exact
// username, so the three can never disagree about who someone is.
type Local struct {
	id      string
	users   map[string]localUser
	dummy   passwordHash  // for unknown usernames; see Login
	slots   chan struct{} // bounds concurrent verifications
	hashers hashers
}

type localUser struct {
	cfg   config.LocalUser
	hash  passwordHash
	stamp []byte // identifies the password_hash in ConnectorData
}

var (
	_ PasswordConnector = (*Local)(nil)
	_ RefreshConnector  = (*Local)(nil)
)

// NewLocal builds the local connector from a provider of type local. Every
// user's hash is parsed now, so a malformed hash or absurd parameters stop
// startup with an error naming the user instead of failing at login.
func NewLocal(cfg config.IdentityProvider) (*Local, error) {
	if cfg.Type != "local" {
		return nil, fmt.Errorf("provider %q: type %q is not local", cfg.ID, cfg.Type)
	}
	if len(cfg.Users) == 0 {
		return nil, fmt.Errorf("provider %q: no users", cfg.ID)
	}
	l := &Local{id: cfg.ID, users: make(map[string]localUser, len(cfg.Users)), hashers: realHashers}
	var errs []error
	for _, u := range cfg.Users {
		if err := l.add(u); err != nil {
			errs = append(errs, fmt.Errorf("provider %q: %w", cfg.ID, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return l, l.prepare(cfg.Users[0].Username)
}

func (l *Local) add(u config.LocalUser) error {
	switch {
	case u.Username == "":
		return errors.New("a user has no username")
	case len(u.Username) > maxUsernameBytes:
		return fmt.Errorf("username %.32q... longer than %d bytes", u.Username, maxUsernameBytes)
	}
	if _, dup := l.users[u.Username]; dup {
		return fmt.Errorf("user %q: duplicate username", u.Username)
	}
	h, err := parsePasswordHash(u.PasswordHash)
	if err != nil {
		return fmt.Errorf("user %q: password_hash: %w", u.Username, err)
	}
	u.Groups = slices.Clone(u.Groups)
	l.users[u.Username] = localUser{cfg: u, hash: h, stamp: hashStamp(u.PasswordHash)}
	return nil
}

// prepare makes the dummy hash and sizes the verification slots.
//
// Threat: user enumeration by timing. If an unknown username were refused
// at once while a known one costs a full hash, an attacker could tell
// which usernames exist and aim guessing at them. So an unknown username
// is checked against a dummy hash with the first user's algorithm and
// parameters. Users with different parameters still take different times;
// operators should hash every user with the same settings.
func (l *Local) prepare(first string) error {
	d, err := dummyLike(l.users[first].hash)
	if err != nil {
		return fmt.Errorf("provider %q: dummy hash: %w", l.id, err)
	}
	l.dummy = d
	largest := uint32(1)
	for _, u := range l.users {
		largest = max(largest, u.hash.memoryKiB())
	}
	n := min(max(hashMemoryBudgetKiB/largest, 1), uint32(runtime.GOMAXPROCS(0)))
	l.slots = make(chan struct{}, n)
	return nil
}

// ID, Type and DisplayName implement Connector.
func (l *Local) ID() string          { return l.id }
func (l *Local) Type() string        { return "local" }
func (l *Local) DisplayName() string { return "Username and password" }

// Login checks username and password. Every wrong answer, unknown user
// included, is ErrBadCredentials after the same amount of hashing (see
// prepare). The only other error is ctx's, when it ends while waiting for
// a verification slot. The caller throttles (Limiter) before calling.
func (l *Local) Login(ctx context.Context, username, password string) (Identity, error) {
	// Rejecting these early reveals nothing about which users exist. An
	// empty password is refused even if some hash was made from "".
	if username == "" || password == "" || len(username) > maxUsernameBytes || len(password) > MaxPasswordBytes {
		return Identity{}, ErrBadCredentials
	}
	u, known := l.users[username]
	h := l.dummy
	if known {
		h = u.hash
	}
	ok, err := l.verify(ctx, h, []byte(password))
	if err != nil {
		return Identity{}, err
	}
	if !known || !ok {
		return Identity{}, ErrBadCredentials
	}
	return u.identity(), nil
}

// verify runs one verification once a slot is free.
func (l *Local) verify(ctx context.Context, h passwordHash, password []byte) (bool, error) {
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-l.slots }()
	return h.matches(l.hashers, password), nil
}

// Refresh looks the user up again in this connector's users (SPEC AS-6),
// so the caller must hold the connector built from the current config. A
// removed user, or one whose password_hash changed since id was issued
// (an operator resetting a compromised password), is ErrUserGone; changed
// groups or email are returned.
func (l *Local) Refresh(_ context.Context, id Identity) (Identity, error) {
	u, ok := l.users[id.Subject]
	if !ok {
		return Identity{}, fmt.Errorf("%w: local user %q removed", ErrUserGone, id.Subject)
	}
	// An identity without ConnectorData (a caller that did not keep it)
	// can only be checked for existence.
	if len(id.ConnectorData) > 0 && !bytes.Equal(id.ConnectorData, u.stamp) {
		return Identity{}, fmt.Errorf("%w: local user %q password changed", ErrUserGone, id.Subject)
	}
	return u.identity(), nil
}

func (u localUser) identity() Identity {
	return Identity{
		Subject:  u.cfg.Username,
		Username: u.cfg.Username,
		Name:     u.cfg.Username,
		Email:    u.cfg.Email,
		// The operator wrote the address into the config: it is as
		// verified as anything the operator asserts.
		EmailVerified: u.cfg.Email != "",
		Groups:        slices.Clone(u.cfg.Groups),
		ConnectorData: slices.Clone(u.stamp),
	}
}

// hashStamp identifies a password_hash without revealing it: SHA-256 of a
// value that already contains a random salt, under a label so the digest
// is useful for nothing else.
func hashStamp(hash string) []byte {
	s := sha256.Sum256([]byte("mcpgate login local password-stamp v1\x00" + hash))
	return s[:]
}
