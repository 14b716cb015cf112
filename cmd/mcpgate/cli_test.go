package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sealKey is a valid test sealing key (32 zero bytes, base64).
const sealKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

func TestConfigCheckListsEveryProblem(t *testing.T) {
	env, _, errOut := testEnv(map[string]string{"SEAL_KEY": sealKey})
	code := run(context.Background(), env, []string{"config", "check", "--config", "testdata/bad.yaml"})
	if code != 1 {
		t.Fatalf("exit code = %d, want 1", code)
	}
	for _, want := range []string{
		"colour",            // unknown key
		"public_url",        // http on a non-loopback host
		"storage.driver",    // unknown driver
		"MISSING_SEAL_KEY",  // secret whose env var is unset
		"upstreams[1].path", // duplicate path
	} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("output does not mention %q:\n%s", want, errOut)
		}
	}
}

func TestConfigCheckMissingPublicURL(t *testing.T) {
	env, _, errOut := testEnv(map[string]string{"SEAL_KEY": sealKey})
	if code := run(context.Background(), env, []string{"config", "check", "--config", "testdata/nopublicurl.yaml"}); code != 1 {
		t.Fatalf("exit code = %d, want 1", code)
	}
	if !strings.Contains(errOut.String(), "public_url") {
		t.Errorf("output does not name public_url:\n%s", errOut)
	}
}

func TestConfigCheckGoodFile(t *testing.T) {
	env, out, errOut := testEnv(map[string]string{"SEAL_KEY": sealKey})
	if code := run(context.Background(), env, []string{"config", "check", "--config", "testdata/good.yaml"}); code != 0 {
		t.Fatalf("exit code = %d, want 0; stderr:\n%s", code, errOut)
	}
	if !strings.Contains(out.String(), "configuration is valid") {
		t.Errorf("stdout = %q", out)
	}
}

// writeConfig writes a loopback config using the given storage section.
func writeConfig(t *testing.T, storage string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mcpgate.yaml")
	body := "public_url: http://127.0.0.1:8080\nlisten: 127.0.0.1:0\n" + storage +
		"secrets:\n  keys:\n    - id: k1\n      value: " + sealKey + "\n"
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestServeUnreachablePostgres: an unreachable database is a clear error
// naming the DSN with its password redacted, exit 1, no panic.
func TestServeUnreachablePostgres(t *testing.T) {
	const password = "hunter2-secret"
	cfg := writeConfig(t, "storage:\n  driver: postgres\n  dsn: postgres://mcpgate:"+password+"@127.0.0.1:1/mcpgate?connect_timeout=2\n")
	env, _, errOut := testEnv(nil)
	if code := run(context.Background(), env, []string{"serve", "--config", cfg}); code != 1 {
		t.Fatalf("exit code = %d, want 1; stderr:\n%s", code, errOut)
	}
	msg := errOut.String()
	if strings.Contains(msg, password) {
		t.Fatalf("error leaks the password:\n%s", msg)
	}
	if !strings.Contains(msg, "127.0.0.1:1/mcpgate") || !strings.Contains(msg, "mcpgate:") {
		t.Errorf("error does not name the DSN:\n%s", msg)
	}
}

// TestServeCorruptSQLite: a file that is not a SQLite database is a clear
// error naming the file, exit 1, no panic.
func TestServeCorruptSQLite(t *testing.T) {
	db := filepath.Join(t.TempDir(), "corrupt.db")
	garbage := []byte(strings.Repeat("this is not a sqlite database\n", 200))
	if err := os.WriteFile(db, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, "storage:\n  driver: sqlite\n  dsn: "+db+"\n")
	env, _, errOut := testEnv(nil)
	if code := run(context.Background(), env, []string{"serve", "--config", cfg}); code != 1 {
		t.Fatalf("exit code = %d, want 1; stderr:\n%s", code, errOut)
	}
	if !strings.Contains(errOut.String(), db) {
		t.Errorf("error does not name the database file:\n%s", errOut)
	}
}

func TestHelpAndUsage(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"demo", "--help"}, {"migrate", "--help"}, {"version", "--help"}, {"config", "check", "--help"}} {
		env, out, _ := testEnv(nil)
		if code := run(context.Background(), env, args); code != 0 {
			t.Errorf("%v: exit code %d, want 0", args, code)
		}
		if !strings.Contains(out.String(), "Usage") && !strings.Contains(out.String(), "usage") {
			t.Errorf("%v: no usage on stdout: %q", args, out)
		}
	}
	env, _, _ := testEnv(nil)
	if code := run(context.Background(), env, []string{"bogus"}); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
	env, _, _ = testEnv(nil)
	if code := run(context.Background(), env, []string{"serve"}); code != 2 {
		t.Errorf("serve without --config: exit %d, want 2", code)
	}
}

func TestVersion(t *testing.T) {
	env, out, _ := testEnv(nil)
	if code := run(context.Background(), env, []string{"version"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !strings.HasPrefix(out.String(), "mcpgate dev ") {
		t.Errorf("version output = %q", out)
	}
}

// migrate applies the schema once and then reports it up to date; serve's
// own migration step then has nothing left to do.
func TestMigrateSQLite(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	cfg := writeConfig(t, "storage:\n  driver: sqlite\n  dsn: "+db+"\n")
	env, out, errOut := testEnv(nil)
	if code := run(context.Background(), env, []string{"migrate", "--config", cfg}); code != 0 {
		t.Fatalf("first migrate: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out.String(), "applied migrations [1") {
		t.Errorf("first migrate output = %q, want the applied versions", out)
	}
	env, out, errOut = testEnv(nil)
	if code := run(context.Background(), env, []string{"migrate", "--config", cfg}); code != 0 {
		t.Fatalf("second migrate: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out.String(), "schema is up to date") {
		t.Errorf("second migrate output = %q", out)
	}
}

// A PostgreSQL URL left under the default sqlite driver is refused without
// printing its password (a review found the SQLite path error echoed it).
func TestServePostgresDSNUnderSQLiteDoesNotLeak(t *testing.T) {
	const password = "hunter2-secret"
	cfg := writeConfig(t, "storage:\n  dsn: postgres://mcpgate:"+password+"@db.internal:5432/mcpgate\n")
	for _, args := range [][]string{{"serve", "--config", cfg}, {"config", "check", "--config", cfg}, {"migrate", "--config", cfg}} {
		env, out, errOut := testEnv(nil)
		if code := run(context.Background(), env, args); code != 1 {
			t.Errorf("%v: exit %d, want 1", args, code)
		}
		if all := out.String() + errOut.String(); strings.Contains(all, password) || !strings.Contains(all, "storage.driver: postgres") {
			t.Errorf("%v: output leaks the password or lacks the hint:\n%s", args, all)
		}
	}
}
