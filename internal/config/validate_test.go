package config

import (
	"errors"
	"strings"
	"testing"
)

// goConfig is a Config built in Go the way the demo builds one.
func goConfig() *Config {
	c := &Config{
		PublicURL: "http://127.0.0.1:8080",
		Storage:   Storage{Driver: "memory"},
		Secrets:   Secrets{Keys: []SealKey{{ID: "demo", Value: testEnv["SEAL_K1"]}}},
		IdentityProviders: []IdentityProvider{{ID: "local", Type: "local", Users: []LocalUser{
			{Username: "demo", PasswordHash: bcryptHash},
		}}},
		Upstreams: []Upstream{{Name: "demo", Path: "/mcp", URL: "http://127.0.0.1:9000/mcp"}},
	}
	c.ApplyDefaults()
	return c
}

func TestValidateGoConfig(t *testing.T) {
	if err := goConfig().Validate(); err != nil {
		t.Fatalf("Validate = %v", err)
	}
}

// TestValidateZeroConfig: Validate without defaults lists what is missing
// and does not panic.
func TestValidateZeroConfig(t *testing.T) {
	err := (&Config{}).Validate()
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Validate = %v; want Problems", err)
	}
	for _, path := range []string{"public_url", "listen", "server.read_timeout", "storage.driver", "secrets.keys", "logging.format"} {
		if !hasPath(ps, path) {
			t.Errorf("no problem at %s in:\n%v", path, ps)
		}
	}
}

// TestValidateFileTwinUnresolved: in a Config built in Go, a *_file field
// counts as giving its secret; only Parse reads it.
func TestValidateFileTwinUnresolved(t *testing.T) {
	c := goConfig()
	c.Secrets.Keys[0] = SealKey{ID: "demo", ValueFile: "/run/secrets/k"}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate = %v", err)
	}
	c.Secrets.Keys[0].Value = testEnv["SEAL_K1"]
	if err := c.Validate(); err == nil || err.Error() != "secrets.keys[0]: value and value_file are mutually exclusive" {
		t.Fatalf("Validate = %v", err)
	}
}

func hasPath(ps Problems, path string) bool {
	for _, p := range ps {
		if p.Path == path {
			return true
		}
	}
	return false
}

func TestPublicURL(t *testing.T) {
	for url, want := range map[string]string{
		"https://mcp.example.com":      "",
		"https://mcp.example.com:8443": "",
		"http://127.0.0.1:8080":        "",
		"http://127.5.6.7":             "",
		"http://[::1]:8080":            "",
		"http://localhost:8080":        "",
		"http://mcp.example.com":       msgHTTPS,
		"http://10.0.0.1:8080":         msgHTTPS,
		"http://localhost.example.com": msgHTTPS,
		"https://mcp.example.com/":     "must be an origin (scheme://host[:port]) with no path, query or fragment",
		"https://mcp.example.com?x":    "must be an origin (scheme://host[:port]) with no path, query or fragment",
		"https://mcp.example.com#f":    "must be an origin (scheme://host[:port]) with no path, query or fragment",
		"https://mcp.example.com:0":    "port must be a number from 1 to 65535",
		"https://mcp.example.com:443":  `must be written in canonical form "https://mcp.example.com"`,
		"ftp://mcp.example.com":        "scheme must be https",
		"mcp.example.com":              "must be an origin such as https://mcp.example.com",
	} {
		c := goConfig()
		c.PublicURL = url
		got := ""
		var ps Problems
		if errors.As(c.Validate(), &ps) {
			got = strings.TrimPrefix(ps.Error(), "public_url: ")
		}
		if got != want {
			t.Errorf("public_url %q: got %q, want %q", url, got, want)
		}
	}
}

func TestListen(t *testing.T) {
	for _, tc := range []struct {
		listen  string
		tls     bool
		proxies []string
		ok      bool
	}{
		{listen: "127.0.0.1:8080", ok: true},
		{listen: "[::1]:8080", ok: true},
		{listen: "localhost:0", ok: true},
		{listen: ":8080"},
		{listen: "0.0.0.0:8080"},
		{listen: "[::]:8080"},
		{listen: "10.0.0.5:8080"},
		{listen: ":8443", tls: true, ok: true},
		{listen: ":8080", proxies: []string{"10.0.0.0/8"}, ok: true},
		{listen: "8080"},
		{listen: "127.0.0.1:99999"},
	} {
		c := goConfig()
		c.Listen, c.TrustedProxies = tc.listen, tc.proxies
		if tc.tls {
			c.TLS = TLS{CertFile: "c.pem", KeyFile: "k.pem"}
		}
		if err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("listen %q tls=%v proxies=%v: Validate = %v", tc.listen, tc.tls, tc.proxies, err)
		}
	}
}

func TestPasswordHash(t *testing.T) {
	for h, ok := range map[string]bool{
		argon2idHash:                                  true,
		bcryptHash:                                    true,
		"$2a$10$" + strings.Repeat("a", 53):           true,
		"$2y$10$" + strings.Repeat("a", 53):           true,
		"$2x$10$" + strings.Repeat("a", 53):           false,
		"$2b$10$" + strings.Repeat("a", 52):           false,
		"$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$":      false,
		"$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$!!!":   false,
		"$argon2id$m=65536,t=3,p=4$c2FsdA$aGFzaA":     false,
		"$argon2i$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA": false,
		"hunter2":                            false,
		"{SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=": false,
		"$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA":        true,
		"$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA$extra":  false,
		"$argon2id$v=19$m=65536,t=3,p=4,x=1$c2FsdA$aGFzaA":    false,
		"$argon2id$v=19$m=65536,t=3,p=4$c2FsdA==$aGFzaA":      false,
		"$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA\nadmin": false,
	} {
		if got := passwordHashProblem(h) == ""; got != ok {
			t.Errorf("passwordHashProblem(%q) accepted = %v, want %v", h, got, ok)
		}
	}
}

func TestPostgresDSN(t *testing.T) {
	for dsn, ok := range map[string]bool{
		"postgres://u:p@db:5432/mcpgate?sslmode=verify-full":         true,
		"postgresql:///mcpgate?host=/var/run/postgresql":             true,
		"host=db dbname=mcpgate":                                     true,
		"host = db  dbname=mcpgate password='it''s' sslmode=require": false,
		`host=db password='a \' b' dbname=x`:                         true,
		`password=a\ b host=db`:                                      true,
		"postgres://u:p@db:port/x":                                   false,
		"mysql://u@db/x":                                             false,
		"host=db password='unterminated":                             false,
		"just words":                                                 false,
		"":                                                           false,
		"Host=db":                                                    false,
	} {
		if got := validPostgresDSN(dsn); got != ok {
			t.Errorf("validPostgresDSN(%q) = %v, want %v", dsn, got, ok)
		}
	}
}

func TestSealKeyEncodings(t *testing.T) {
	for _, v := range []string{
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", // standard, padded
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",  // standard, raw
		"ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4CBgoM=", // URL, padded
		"ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4CBgoM",  // URL, raw
	} {
		if b, err := (SealKey{Value: v}).Key(); err != nil || len(b) != SealKeySize {
			t.Errorf("Key(%q) = %d bytes, %v", v, len(b), err)
		}
	}
}

// TestProblemsOneLine: a key or value holding a newline cannot forge an
// extra line in the output.
func TestProblemsOneLine(t *testing.T) {
	_, err := Parse([]byte("public_url: http://127.0.0.1:8080\n\"x\\nsecrets.keys: forged\": 1\nserver: {max_header_bytes: \"a\\nb\"}\n"), "", nil)
	want := `"x\nsecrets.keys: forged": unknown key (line 2)` + "\n" + `line 3: cannot unmarshal !!str ` + "`a\\nb`" + ` into int`
	if err == nil || err.Error() != want {
		t.Fatalf("Parse = %q; want %q", err, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yaml", nil)
	want := `cannot read "testdata/does-not-exist.yaml": no such file or directory`
	if err == nil || err.Error() != want {
		t.Fatalf("Load = %v; want %q", err, want)
	}
}
