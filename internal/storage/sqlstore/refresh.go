package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/mcpgate/mcpgate/internal/storage"
)

var tokens = record[storage.RefreshToken]{
	what: "refresh token", table: "refresh_tokens", key: []string{"id"},
	cols: []string{"id", "family_id", "client_id", "secret_hash", "created_at", "expires_at", "used_at",
		"successor_id", "successor_sealed", "grace_until"},
	args: func(t storage.RefreshToken) []any {
		return []any{t.ID, t.FamilyID, t.ClientID, t.SecretHash, nanos(t.CreatedAt), nanos(t.ExpiresAt),
			nanos(t.UsedAt), t.SuccessorID, t.SuccessorSealed, nanos(t.GraceUntil)}
	},
	scan: func(sc scanner) (t storage.RefreshToken, err error) {
		err = sc.Scan(&t.ID, &t.FamilyID, &t.ClientID, blobCol{&t.SecretHash}, timeCol{&t.CreatedAt},
			timeCol{&t.ExpiresAt}, timeCol{&t.UsedAt}, &t.SuccessorID, blobCol{&t.SuccessorSealed},
			timeCol{&t.GraceUntil})
		return t, err
	},
}

// GetRefreshToken returns the token with the given ID.
func (s *Store) GetRefreshToken(ctx context.Context, id string) (storage.RefreshToken, error) {
	return tokens.get(ctx, s, id)
}

// RotateRefreshToken retires r.OldID in favour of r.Successor in one
// transaction and returns the old token as the rotation left it.
//
// RFC 9700 §4.14.2: a refresh token is single-use, and a second use must be
// detectable. The steps, in this order:
//  1. lock the family row (FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE
//     transaction already holds the write lock) and fail with ErrRevoked if
//     it is revoked. Every writer of a family's tokens takes this lock
//     first, so rotations and revocations of one family are serialised and
//     cannot deadlock;
//  2. mark the old token used with an UPDATE conditional on used_at = 0:
//     the loser of a race (or a replay) changes no row, and gets
//     ErrConsumed with the old token as it stands, whose SuccessorID and
//     SuccessorSealed let the caller apply the grace window or detect reuse;
//  3. insert the successor and bump the family's last_used_at.
//
// Any failure rolls the whole rotation back.
func (s *Store) RotateRefreshToken(ctx context.Context, r storage.Rotation) (storage.RefreshToken, error) {
	// used_at = 0 means "unused": a now stored as 0 would leave the old
	// token open to a second rotation.
	if err := storage.CheckNow("rotate refresh token", asStored(r.Now)); err != nil {
		return storage.RefreshToken{}, err
	}
	var old storage.RefreshToken
	err := s.inTx(ctx, func(tx *txn) error {
		var err error
		old, err = s.rotate(ctx, tx, r)
		return err
	})
	return old, err
}

// rotate runs the steps of RotateRefreshToken in tx. It returns the old
// token as it stands after the attempt (also with ErrConsumed).
func (s *Store) rotate(ctx context.Context, tx *txn, r storage.Rotation) (storage.RefreshToken, error) {
	const op = "rotate refresh token"
	var familyID string
	err := s.queryRow(ctx, tx, `SELECT family_id FROM refresh_tokens WHERE id = ?`, r.OldID).Scan(&familyID)
	if err != nil {
		return storage.RefreshToken{}, s.wrap(op, err)
	}
	if err := storage.CheckSuccessor(familyID, r); err != nil {
		return storage.RefreshToken{}, err
	}
	var revokedAt int64
	err = s.queryRow(ctx, tx, `SELECT revoked_at FROM refresh_families WHERE id = ?`+s.d.forUpdate,
		familyID).Scan(&revokedAt)
	if err != nil {
		return storage.RefreshToken{}, s.wrap(op+": family", err)
	}
	if revokedAt != 0 {
		return storage.RefreshToken{}, fmt.Errorf("sqlstore: %s: %w", op, storage.ErrRevoked)
	}

	old, err := tokens.scan(s.queryRow(ctx, tx, `UPDATE refresh_tokens
		SET used_at = ?, successor_id = ?, successor_sealed = ?, grace_until = ?
		WHERE id = ? AND used_at = 0 RETURNING `+tokens.list(),
		nanos(r.Now), r.Successor.ID, r.SuccessorSealed, nanos(r.GraceUntil), r.OldID))
	if errors.Is(err, sql.ErrNoRows) {
		// Used before. Read it under the family lock, which the winner
		// held until it committed, so this sees the winner's successor.
		old, err = tokens.scan(s.queryRow(ctx, tx, tokens.selectSQL("id = ?"), r.OldID))
		if err != nil {
			return old, s.wrap(op, err)
		}
		return old, fmt.Errorf("sqlstore: %s: %w", op, storage.ErrConsumed)
	}
	if err != nil {
		return storage.RefreshToken{}, s.wrap(op, err)
	}

	// From here a failure rolls the rotation back, so old is not returned.
	if err := tokens.create(ctx, s, tx, r.Successor); err != nil {
		return storage.RefreshToken{}, err
	}
	_, err = s.exec(ctx, tx, `UPDATE refresh_families SET last_used_at = ? WHERE id = ?`, nanos(r.Now), familyID)
	if err != nil {
		return storage.RefreshToken{}, s.wrap(op+": family", err)
	}
	return old, nil
}
