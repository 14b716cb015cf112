package config

import (
	"reflect"
	"strings"
	"testing"
)

const (
	argon2idHash = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0c2FsdA$yMnKy8zNzs/Q0dLT1NXW19jZ2tvc3d7f4OHi4+Tl5uc"
	bcryptHash   = "$2b$12$pgEn936Uyk8bV1.3GBlMbab/Uz0bA29BQBA4JaZkvJnO0wKI9Wc7D"
)

func TestExpand(t *testing.T) {
	env := map[string]string{"A": "alpha", "B_2": "beta", "EMPTY": "", "REF": "${A}", "DOLLAR": "$"}
	lookup := func(n string) (string, bool) { v, ok := env[n]; return v, ok }
	for _, tc := range []struct {
		in, want string
		problems []string
	}{
		{in: "", want: ""},
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha"},
		{in: "x${A}y${B_2}z", want: "xalphaybetaz"},
		{in: "${EMPTY}", want: ""},
		{in: "${REF}", want: "${A}"}, // values are not expanded again
		{in: argon2idHash, want: argon2idHash},
		{in: bcryptHash, want: bcryptHash},
		{in: "$A $ $$ $5 ${A}$", want: "$A $ $$ $5 alpha$"},
		{in: "$${A}", want: "${A}"},
		{in: "$$${A}", want: "$${A}"},
		{in: "${DOLLAR}${A}", want: "$alpha"},
		{in: "a}${A}}", want: "a}alpha}"},
		{in: "${UNSET}", want: "${UNSET}", problems: []string{"environment variable UNSET is not set"}},
		{in: "${A", want: "${A", problems: []string{`unterminated "${" at byte 0 (write "$${" for a literal "${")`}},
		{in: "ab${", want: "ab${", problems: []string{`unterminated "${" at byte 2 (write "$${" for a literal "${")`}},
		{in: "${1X}", want: "${1X}", problems: []string{`invalid variable name in "${...}" at byte 0 (want [A-Za-z_][A-Za-z0-9_]*; write "$${" for a literal "${")`}},
		{in: "${}", want: "${}", problems: []string{`invalid variable name in "${...}" at byte 0 (want [A-Za-z_][A-Za-z0-9_]*; write "$${" for a literal "${")`}},
		{in: "${A-B}", want: "${A-B}", problems: []string{`invalid variable name in "${...}" at byte 0 (want [A-Za-z_][A-Za-z0-9_]*; write "$${" for a literal "${")`}},
		{in: "${X}${Y}", want: "${X}${Y}", problems: []string{
			"environment variable X is not set", "environment variable Y is not set"}},
	} {
		got, problems := expand(tc.in, lookup)
		if got != tc.want || !reflect.DeepEqual(problems, tc.problems) {
			t.Errorf("expand(%q) = %q, %q; want %q, %q", tc.in, got, problems, tc.want, tc.problems)
		}
	}
}

// TestHashesSurviveParse proves that a whole-file expansion is not what
// Parse does: password hashes full of '$' reach the Config untouched.
func TestHashesSurviveParse(t *testing.T) {
	cfg, err := Parse([]byte(`
public_url: http://127.0.0.1:8080
secrets: {keys: [{id: k1, value: "${SEAL_K1}"}]}
identity_providers:
  - id: local
    type: local
    users:
      - {username: alice, password_hash: "`+argon2idHash+`"}
      - {username: bob, password_hash: '`+bcryptHash+`'}
`), "", lookupTestEnv)
	if err != nil {
		t.Fatal(err)
	}
	users := cfg.IdentityProviders[0].Users
	if users[0].PasswordHash != argon2idHash || users[1].PasswordHash != bcryptHash {
		t.Errorf("hashes changed: %q, %q", users[0].PasswordHash, users[1].PasswordHash)
	}
}

// TestNilEnv: a nil lookup means an empty environment, never the process's.
func TestNilEnv(t *testing.T) {
	t.Setenv("SEAL_K1", testEnv["SEAL_K1"])
	_, err := Parse([]byte("public_url: http://127.0.0.1:8080\nsecrets: {keys: [{id: k1, value: \"${SEAL_K1}\"}]}\n"), "", nil)
	want := "secrets.keys[0].value: environment variable SEAL_K1 is not set"
	if err == nil || err.Error() != want {
		t.Errorf("Parse with nil env = %v; want %q", err, want)
	}
}

// escape is the inverse of expand on text with no references: it writes
// every literal "${" as "$${".
func escape(s string) string { return strings.ReplaceAll(s, "${", "$${") }

// FuzzExpand checks expand against three oracles:
//   - text without "${" comes back unchanged and without problems (so no
//     '$' in a hash or password is ever touched);
//   - escaping is exact: expand(escape(s)) == s for every s, with no
//     lookups and no problems;
//   - a reference is replaced by its value verbatim, whatever the value
//     holds, between escaped literal text (which must not end in '$': a
//     literal '$' right before a reference is documented as not
//     expressible).
func FuzzExpand(f *testing.F) {
	for _, s := range []string{"", "plain", argon2idHash, bcryptHash, "${A}", "$${", "$$${", "${", "}${$", "a$"} {
		f.Add(s, "value")
	}
	f.Fuzz(func(t *testing.T, s, v string) {
		noEnv := func(name string) (string, bool) {
			t.Fatalf("lookup(%q) while expanding escaped text", name)
			return "", false
		}
		if !strings.Contains(s, "${") {
			if got, problems := expand(s, noEnv); got != s || problems != nil {
				t.Fatalf("expand(%q) = %q, %q; want it unchanged", s, got, problems)
			}
		}
		if got, problems := expand(escape(s), noEnv); got != s || problems != nil {
			t.Fatalf("expand(escape(%q)) = %q, %q", s, got, problems)
		}
		if strings.HasSuffix(s, "$") {
			return
		}
		env := func(name string) (string, bool) { return v, name == "X" }
		in := escape(s) + "${X}" + escape(s)
		if got, problems := expand(in, env); got != s+v+s || problems != nil {
			t.Fatalf("expand(%q) with X=%q = %q, %q; want %q", in, v, got, problems, s+v+s)
		}
	})
}
