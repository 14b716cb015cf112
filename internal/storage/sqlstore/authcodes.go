package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var authCodes = record[storage.AuthCode]{
	what: "auth code", table: "auth_codes", key: []string{"hash"},
	cols: []string{"hash", "client_id", "redirect_uri", "code_challenge", "code_challenge_method", "resource",
		"scopes", "subject", "provider_id", "group_names", "email", "email_verified", "auth_time", "family_id",
		"created_at", "expires_at", "consumed_at"},
	args: func(c storage.AuthCode) []any {
		return []any{c.Hash, c.ClientID, c.RedirectURI, c.CodeChallenge, c.CodeChallengeMethod, c.Resource,
			jsonText(c.Scopes), c.Subject, c.ProviderID, jsonText(c.Groups), c.Email, c.EmailVerified,
			nanos(c.AuthTime), c.FamilyID,
			nanos(c.CreatedAt), nanos(c.ExpiresAt), nanos(c.ConsumedAt)}
	},
	scan: func(sc scanner) (c storage.AuthCode, err error) {
		err = sc.Scan(blobCol{&c.Hash}, &c.ClientID, &c.RedirectURI, &c.CodeChallenge, &c.CodeChallengeMethod,
			&c.Resource, jsonCol{&c.Scopes}, &c.Subject, &c.ProviderID, jsonCol{&c.Groups}, &c.Email,
			boolCol{&c.EmailVerified}, timeCol{&c.AuthTime}, &c.FamilyID, timeCol{&c.CreatedAt},
			timeCol{&c.ExpiresAt}, timeCol{&c.ConsumedAt})
		return c, err
	},
}

// CreateAuthCode stores c; ErrAlreadyExists if its hash is taken, and
// ErrInvalidArgument if it is empty (storage.CheckCodeHash).
func (s *Store) CreateAuthCode(ctx context.Context, c storage.AuthCode) error {
	if err := storage.CheckCodeHash("create auth code", c.Hash); err != nil {
		return err
	}
	return authCodes.create(ctx, s, s.w, c)
}

// ConsumeAuthCode marks the code used at now and returns it. RFC 6749
// §4.1.2: a code is single-use. The claim is one conditional UPDATE, so of
// any number of concurrent exchanges exactly one sees consumed_at = 0 and
// wins; the database, not this process, arbitrates, which is what makes it
// hold across instances. A loser reads the record back and gets
// ErrConsumed with it, so the caller can revoke what the winner issued.
//
// consumed_at = 0 means "unused": a now stored as 0 (zero, or the epoch)
// would leave the code open to replay, and is refused, as is an empty hash.
func (s *Store) ConsumeAuthCode(ctx context.Context, hash []byte, now time.Time) (storage.AuthCode, error) {
	const op = "consume auth code"
	if err := storage.CheckNow(op, asStored(now)); err != nil {
		return storage.AuthCode{}, err
	}
	if err := storage.CheckCodeHash(op, hash); err != nil {
		return storage.AuthCode{}, err
	}
	c, err := authCodes.scan(s.queryRow(ctx, s.w,
		`UPDATE auth_codes SET consumed_at = ? WHERE hash = ? AND consumed_at = 0 RETURNING `+authCodes.list(),
		nanos(now), hash))
	if !errors.Is(err, sql.ErrNoRows) {
		return c, s.wrap("consume auth code", err)
	}
	c, err = authCodes.get(ctx, s, hash)
	if err != nil {
		return storage.AuthCode{}, err
	}
	return c, fmt.Errorf("sqlstore: consume auth code: %w", storage.ErrConsumed)
}
