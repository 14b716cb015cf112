package sqlstore

import (
	"slices"
	"testing"
	"time"
)

// Codes and families written before migration 2 read back after it with
// no email and email_verified false: an upgrade never invents an email,
// so their tokens carry none until a user re-check fills it in.
func TestMigrateEmailColumns(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, driver, dsn string) {
		ctx := t.Context()
		s, err := OpenNoMigrate(ctx, driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.inTx(ctx, func(tx *txn) error { return s.prepareMigrations(ctx, tx) }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.migrate(ctx, migrations[0]); err != nil {
			t.Fatalf("migration 1: %v", err)
		}
		at := nanos(time.Now())
		hour := int64(time.Hour)
		for _, row := range []struct {
			stmt string
			args []any
		}{
			{`INSERT INTO auth_codes (hash, client_id, redirect_uri, code_challenge, code_challenge_method, resource,
				scopes, subject, provider_id, group_names, auth_time, family_id, created_at, expires_at, consumed_at)
				VALUES (?, 'c', 'https://c/cb', 'x', 'S256', 'https://r', '[]', 'local:alice', 'local', '[]', ?, 'f1', ?, ?, 0)`,
				[]any{[]byte("code-hash"), at, at, at + hour}},
			{`INSERT INTO refresh_families (id, client_id, subject, provider_id, resource, scopes, group_names,
				auth_time, created_at, last_used_at, expires_at, user_checked_at, revoked_at, revoke_reason)
				VALUES ('f1', 'c', 'local:alice', 'local', 'https://r', '[]', '[]', ?, ?, ?, ?, ?, 0, '')`,
				[]any{at, at, at, at + hour, at}},
		} {
			if _, err := s.w.ExecContext(ctx, s.q(row.stmt), row.args...); err != nil {
				t.Fatalf("insert a version-1 row: %v", err)
			}
		}
		applied, err := s.Migrate(ctx)
		if err != nil || !slices.Equal(applied, allVersions()[1:]) {
			t.Fatalf("Migrate = %v, %v; want %v", applied, err, allVersions()[1:])
		}
		c, err := s.ConsumeAuthCode(ctx, []byte("code-hash"), time.Now())
		if err != nil || c.Email != "" || c.EmailVerified || c.Subject != "local:alice" {
			t.Errorf("version-1 code after migration: %+v, %v; want it with no email", c, err)
		}
		f, err := s.GetRefreshFamily(ctx, "f1")
		if err != nil || f.Email != "" || f.EmailVerified || f.Subject != "local:alice" {
			t.Errorf("version-1 family after migration: %+v, %v; want it with no email", f, err)
		}
	})
}
