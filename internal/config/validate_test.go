package config

import (
	"errors"
	"strings"
	"testing"
	"time"
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
		"https://mcp.example.com":       "",
		"https://mcp.example.com:8443":  "",
		"http://127.0.0.1:8080":         "",
		"http://127.5.6.7":              "",
		"http://[::1]:8080":             "",
		"http://localhost:8080":         "",
		"http://mcp.example.com":        msgHTTPS,
		"http://10.0.0.1:8080":          msgHTTPS,
		"http://localhost.example.com":  msgHTTPS,
		"https://mcp.example.com/":      "must be an origin (scheme://host[:port]) with no path, query or fragment",
		"https://mcp.example.com?x":     "must be an origin (scheme://host[:port]) with no path, query or fragment",
		"https://mcp.example.com#f":     "must be an origin (scheme://host[:port]) with no path, query or fragment",
		"https://mcp.example.com:0":     "port must be a number from 1 to 65535",
		"https://mcp.example.com:443":   `must be written in canonical form "https://mcp.example.com"`,
		"https://mcp.example.com:0443":  `must be written in canonical form "https://mcp.example.com"`,
		"https://mcp.example.com:8443/": "must be an origin (scheme://host[:port]) with no path, query or fragment",
		"https://mcp.example.com:08443": `must be written in canonical form "https://mcp.example.com:8443"`,
		"http://127.0.0.1:080":          `must be written in canonical form "http://127.0.0.1"`,
		"http://127.0.0.1:80":           `must be written in canonical form "http://127.0.0.1"`,
		"https://mcp.example.com:80":    "",
		"https://:443":                  "has no host; write an origin such as https://mcp.example.com",
		"http://:8080":                  "has no host; write an origin such as https://mcp.example.com",
		"http://[::1%25lo]:8080":        "must not contain an IPv6 zone (%25...)",
		"https://[fe80::1%25eth0]":      "must not contain an IPv6 zone (%25...)",
		"https://[2001:DB8::1]":         `must be written in canonical form "https://[2001:db8::1]"`,
		"ftp://mcp.example.com":         "scheme must be https",
		"mcp.example.com":               "must be an origin such as https://mcp.example.com",
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

// TestListen: SPEC HD-3 refuses plain HTTP on a non-loopback listener
// without trusted_proxies, and an http public_url (loopback only) with a
// non-loopback listener unless a trusted proxy sits in front.
func TestListen(t *testing.T) {
	const https, http = "https://mcp.example.com", "http://127.0.0.1:8080"
	for _, tc := range []struct {
		public  string
		listen  string
		tls     bool
		proxies []string
		ok      bool
	}{
		{public: http, listen: "127.0.0.1:8080", ok: true},
		{public: http, listen: "[::1]:8080", ok: true},
		{public: http, listen: "localhost:0", ok: true},
		{public: https, listen: "127.0.0.1:8080", ok: true},
		{public: https, listen: ":8080"},
		{public: https, listen: "0.0.0.0:8080"},
		{public: https, listen: "[::]:8080"},
		{public: https, listen: "10.0.0.5:8080"},
		{public: https, listen: ":8443", tls: true, ok: true},
		{public: https, listen: ":8080", proxies: []string{"10.0.0.0/8"}, ok: true},
		{public: http, listen: ":8080"},
		{public: http, listen: "0.0.0.0:8443", tls: true},
		{public: http, listen: "[::]:8443", tls: true},
		{public: http, listen: ":8080", proxies: []string{"10.0.0.0/8"}, ok: true},
		{public: http, listen: ":8443", tls: true, proxies: []string{"10.1.2.3"}, ok: true},
		{public: http, listen: "127.0.0.1:8443", tls: true, ok: true},
		{public: https, listen: "8080"},
		{public: https, listen: "127.0.0.1:99999"},
	} {
		c := goConfig()
		c.PublicURL, c.Listen, c.TrustedProxies = tc.public, tc.listen, tc.proxies
		if tc.tls {
			c.TLS = TLS{CertFile: "c.pem", KeyFile: "k.pem"}
		}
		if err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("public_url %s listen %q tls=%v proxies=%v: Validate = %v", tc.public, tc.listen, tc.tls, tc.proxies, err)
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

// TestServerLimits: every timeout must be positive, and the shutdown drain
// is capped at five minutes; the other timeouts have no cap.
func TestServerLimits(t *testing.T) {
	const capped = "server.shutdown_timeout: must be at most 5m0s: a drain longer than that is a misconfiguration"
	for _, tc := range []struct {
		set  func(*Server)
		want string
	}{
		{func(s *Server) { s.ShutdownTimeout = Duration(5 * time.Minute) }, ""},
		{func(s *Server) { s.ShutdownTimeout = Duration(5*time.Minute + time.Second) }, capped},
		{func(s *Server) { s.ShutdownTimeout = Duration(time.Hour) }, capped},
		{func(s *Server) { s.ShutdownTimeout = -1 }, "server.shutdown_timeout: must be greater than 0"},
		{func(s *Server) { s.ReadTimeout = Duration(time.Hour) }, ""},
		{func(s *Server) { s.IdleTimeout = Duration(24 * time.Hour) }, ""},
		{func(s *Server) { s.ReadHeaderTimeout = Duration(time.Hour) }, ""},
	} {
		c := goConfig()
		tc.set(&c.Server)
		got := ""
		if err := c.Validate(); err != nil {
			got = err.Error()
		}
		if tc.want == "" && got != "" || !strings.HasPrefix(got, tc.want) {
			t.Errorf("server %+v: Validate = %q, want %q...", c.Server, got, tc.want)
		}
	}
}

// TestUpstreamURLCredentials: plain http to a remote upstream is allowed
// only when no credential goes with the request.
func TestUpstreamURLCredentials(t *testing.T) {
	for _, tc := range []struct {
		url, creds string
		ok         bool
	}{
		{"http://mcp.internal.example.com/mcp", "none", true},
		{"http://mcp.internal.example.com/mcp", "", true},
		{"http://mcp.internal.example.com/mcp", "static", false},
		{"http://mcp.internal.example.com/mcp", "user_token", false},
		{"http://10.0.0.7:9000/mcp", "identity_assertion", false},
		{"http://127.0.0.1:9000/mcp", "static", true},
		{"http://[::1]:9000/mcp", "user_token", true},
		{"http://localhost:9000/mcp", "identity_assertion", true},
		{"https://mcp.internal.example.com/mcp", "static", true},
		{"https://mcp.internal.example.com/mcp", "identity_assertion", true},
	} {
		c := goConfig()
		c.IdentityProviders = append(c.IdentityProviders, IdentityProvider{
			ID: "gh", Type: "github", ClientID: "x", ClientSecret: "s", APIURL: DefaultGitHubAPIURL,
		})
		u := &c.Upstreams[0]
		u.URL, u.Credentials.Type = tc.url, tc.creds
		switch tc.creds {
		case "static":
			u.Credentials.Value = "Bearer k"
		case "user_token":
			u.Credentials.Provider = "gh"
		}
		var ps Problems
		errors.As(c.Validate(), &ps)
		if got := !hasPath(ps, "upstreams[0].url"); got != tc.ok {
			t.Errorf("url %s, credentials %q: accepted = %v, want %v (%v)", tc.url, tc.creds, got, tc.ok, ps)
		}
	}
}
