package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// storageProblems validates goConfig with the given storage section and
// returns the problems at storage.*, failing the test if any of them
// repeats the secret (a DSN usually holds a password, and problems end up
// in terminals and logs).
func storageProblems(t *testing.T, s Storage, secret string) []string {
	t.Helper()
	c := goConfig()
	c.Storage = s
	var out []string
	if ps, _ := c.Validate().(Problems); ps != nil {
		for _, p := range ps {
			if strings.Contains(p.String(), secret) {
				t.Errorf("problem leaks the DSN's password: %s", p)
			}
			if strings.HasPrefix(p.Path, "storage") {
				out = append(out, p.String())
			}
		}
	}
	return out
}

// TestSQLiteDSNLooksLikePostgres: a PostgreSQL DSN left under the default
// sqlite driver (the driver line forgotten) is refused at load, before the
// SQLite open error could repeat it with its password.
func TestSQLiteDSNLooksLikePostgres(t *testing.T) {
	const refused = "storage.dsn: looks like a PostgreSQL DSN, not a SQLite file path; set storage.driver: postgres"
	for dsn, wantRefused := range map[string]bool{
		"postgres://mcpgate:hunter2@db.internal:5432/mcpgate": true,
		"postgresql://mcpgate:hunter2@db/mcpgate":             true,
		"postgres:/mcpgate:hunter2@db/mcpgate":                true,
		"Postgres//mcpgate:hunter2@db/mcpgate":                true,
		"mysql://root:hunter2@db/mcpgate":                     true,
		"host=db user=mcpgate password=hunter2 dbname=x":      true,
		"  dbname=mcpgate password=hunter2":                   true,
		"PASSWORD = hunter2 host=db":                          true,
		"sslmode=require password=hunter2":                    true,
		"mcpgate.db":                                          false,
		"/var/lib/mcpgate/mcpgate.db":                         false,
		"data/my hunter2 files/mcpgate.db":                    false,
		"./postgres-hunter2.db":                               false,
		"/srv/host=hunter2/mcpgate.db":                        false,
	} {
		got := storageProblems(t, Storage{Driver: "sqlite", DSN: dsn}, "hunter2")
		switch {
		case wantRefused && (len(got) != 1 || got[0] != refused):
			t.Errorf("sqlite dsn %q: problems %q, want %q", dsn, got, refused)
		case !wantRefused && len(got) != 0:
			t.Errorf("sqlite dsn %q: unexpected problems %q", dsn, got)
		}
	}
}

// TestPostgresURLAmbiguousUserinfo: a URL DSN whose password holds a raw
// '@', '/', '?' or '#' parses as something else (pgx then reports pieces
// of the password as a host or database name), so it is refused with a
// request to percent-encode, without quoting the DSN.
func TestPostgresURLAmbiguousUserinfo(t *testing.T) {
	for dsn, wantRefused := range map[string]bool{
		"postgres://mcpgate:hunter2@ss@db.internal:5432/mcpgate":             true,
		"postgres://mcpgate@x:hunter2@db/mcpgate":                            true,
		"postgres://mcpgate:hun#ter2@db/mcpgate":                             true,
		"postgres://mcpgate:12/hunter2@db/mcpgate":                           true,
		"postgres://mcpgate:hunter2@db/mcpgate#frag":                         true,
		"postgres://db/mcpgate?application_name=hunter2@x":                   true,
		"postgres://mcpgate:hunter2%40ss@db:5432/mcpgate":                    false,
		"postgres://mcpgate:hun%23ter2%2F%3F@db/mcpgate?sslmode=verify-full": false,
		"postgres://db/mcpgate":                                              false,
		"postgresql:///mcpgate?host=/var/run/postgresql":                     false,
		"host=db password='hunter2@x#y' dbname=mcpgate":                      false,
	} {
		got := storageProblems(t, Storage{Driver: "postgres", DSN: dsn}, "hunter2")
		refused := len(got) == 1 && strings.HasPrefix(got[0], "storage.dsn: the URL's user and password part is ambiguous") &&
			strings.Contains(got[0], "percent-encode")
		switch {
		case wantRefused && !refused:
			t.Errorf("postgres dsn %q: problems %q, want the ambiguous-userinfo problem", dsn, got)
		case !wantRefused && len(got) != 0:
			t.Errorf("postgres dsn %q: unexpected problems %q", dsn, got)
		}
	}
}

// TestSQLiteDSNRelativeToConfig: a relative sqlite dsn, the default
// included, resolves against the config file's directory as the *_file
// twins do, not against the working directory (which is "/" under
// systemd). Default(), which the demo uses, is left alone.
func TestSQLiteDSNRelativeToConfig(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "dsn"), []byte("from-file.db\n"))
	base := "public_url: http://127.0.0.1:8080\nsecrets: {keys: [{id: k1, value: \"${SEAL_K1}\"}]}\n"
	for storage, want := range map[string]string{
		"":                                  filepath.Join(dir, "mcpgate.db"),
		"storage: {dsn: data/x.db}\n":       filepath.Join(dir, "data", "x.db"),
		"storage: {dsn: ../up.db}\n":        filepath.Join(filepath.Dir(dir), "up.db"),
		"storage: {dsn: /var/lib/m/x.db}\n": "/var/lib/m/x.db",
		"storage: {dsn_file: dsn}\n":        filepath.Join(dir, "from-file.db"),
		"storage: {driver: memory}\n":       "",
		"storage: {dsn: \"file:x.db\"}\n":   "file:x.db",
		"storage: {dsn: \":memory:\"}\n":    ":memory:",
	} {
		cfg, err := Parse([]byte(base+storage), dir, lookupTestEnv)
		if err != nil {
			t.Errorf("%q: %v", storage, err)
			continue
		}
		if cfg.Storage.DSN != want {
			t.Errorf("%q: dsn = %q, want %q", storage, cfg.Storage.DSN, want)
		}
	}
	if got := Default().Storage.DSN; got != DefaultSQLiteDSN {
		t.Errorf("Default().Storage.DSN = %q, want %q", got, DefaultSQLiteDSN)
	}
}

// TestSQLiteDSNAbsoluteFromRelativeBase: Load gets a relative directory
// when --config is relative; the stored DSN is absolute all the same, so
// it names one file whatever the working directory is later.
func TestSQLiteDSNAbsoluteFromRelativeBase(t *testing.T) {
	cfg, err := Load("testdata/good/minimal.yaml", lookupTestEnv)
	if err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(wd, "testdata", "good", "mcpgate.db"); cfg.Storage.DSN != want {
		t.Errorf("dsn = %q, want %q", cfg.Storage.DSN, want)
	}
}
