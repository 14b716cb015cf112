package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/mcpgate/mcpgate/internal/storage"
	"github.com/mcpgate/mcpgate/internal/testenv/pgtest"
)

// On PostgreSQL (READ COMMITTED) a rotation must lock the family row before
// it checks revocation. Without the lock it reads the row as it stood
// before a revocation that has not committed yet, and rotates: the client
// gets a fresh token of a grant the kill switch (or reuse detection)
// revoked a moment earlier, and the successor outlives the revocation.
//
// The race is made to happen every time: transaction A revokes the family
// and holds the row without committing; the rotation starts and must block
// on A's lock, which the test observes in pg_stat_activity rather than
// assumes after a sleep; A commits; the rotation must then see the
// revocation.
func TestPostgresRotationWaitsForRevocation(t *testing.T) {
	if os.Getenv(pgtest.Env) == "" {
		t.Skip(pgtest.SkipMessage)
	}
	t.Parallel()
	ctx := t.Context()
	dsn := pgtest.DSN(t, schemaPrefix)
	s := openTest(t, "postgres", dsn)
	now := time.Unix(1_900_000_000, 0)
	first := storage.RefreshToken{ID: "t1", FamilyID: "f1", ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateRefreshFamily(ctx, storage.RefreshFamily{ID: "f1", Subject: "alice"}, first); err != nil {
		t.Fatal(err)
	}

	// A second pool: one connection for transaction A, another to watch.
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Rollback() // releases the lock if the test stops early; a no-op after Commit
	var pidA int
	if err := a.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pidA); err != nil {
		t.Fatal(err)
	}
	if _, err := a.ExecContext(ctx, `UPDATE refresh_families SET revoked_at = $1, revoke_reason = 'kill switch'
		WHERE id = 'f1'`, nanos(now)); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := s.RotateRefreshToken(ctx, storage.Rotation{
			OldID: "t1", Successor: storage.RefreshToken{ID: "t2", FamilyID: "f1"}, Now: now.Add(time.Second),
		})
		done <- err
	}()
	waitBlockedBy(ctx, t, db, pidA, done)
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}

	if err := <-done; !errors.Is(err, storage.ErrRevoked) {
		t.Fatalf("rotation that waited for a revocation: got %v, want ErrRevoked", err)
	}
	got, err := s.GetRefreshToken(ctx, "t1")
	if err != nil {
		t.Fatal(err)
	}
	if !got.UsedAt.IsZero() || got.SuccessorID != "" {
		t.Errorf("old token after a refused rotation: used %v, successor %q", got.UsedAt, got.SuccessorID)
	}
	if _, err := s.GetRefreshToken(ctx, "t2"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("successor of a refused rotation: got %v, want ErrNotFound", err)
	}
}

// waitBlockedBy returns once a backend is waiting for a lock held by the
// backend with PID blocker. It polls pg_stat_activity with a short, growing
// backoff: each poll observes the condition itself, so the backoff only
// paces the polling, and a deadline bounds it. It fails the test if the
// operation reporting on done finishes first (it did not wait at all).
func waitBlockedBy(ctx context.Context, t *testing.T, db *sql.DB, blocker int, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	backoff := time.Millisecond
	for {
		var n int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND $1 = ANY(pg_blocking_pids(pid))`, blocker).Scan(&n)
		if err != nil {
			t.Fatalf("pg_stat_activity: %v", err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no backend blocked on the revoking transaction's lock within 30s")
		}
		timer := time.NewTimer(backoff)
		select {
		case err := <-done:
			timer.Stop()
			t.Fatalf("the rotation finished without waiting for the revoking transaction: %v", err)
		case <-timer.C:
		}
		backoff = min(2*backoff, 50*time.Millisecond)
	}
}
