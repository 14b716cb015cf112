package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// twin is a secret field and its *_file twin, which names a file holding
// the value (a mounted Kubernetes or Docker secret, a systemd credential)
// so the secret never sits in the config file (SPEC section 3).
type twin struct {
	parent      string // path of the struct holding both fields
	valueKey    string // "dsn"
	fileKey     string // "dsn_file"
	value, file *string
}

func (t twin) valuePath() string { return field(t.parent, t.valueKey) }
func (t twin) filePath() string  { return field(t.parent, t.fileKey) }

// twins lists every value/file pair in c.
func (c *Config) twins() []twin {
	ts := []twin{
		{"storage", "dsn", "dsn_file", &c.Storage.DSN, &c.Storage.DSNFile},
		{"redis", "url", "url_file", &c.Redis.URL, &c.Redis.URLFile},
	}
	for i := range c.Secrets.Keys {
		k := &c.Secrets.Keys[i]
		ts = append(ts, twin{index("secrets.keys", i), "value", "value_file", &k.Value, &k.ValueFile})
	}
	for i := range c.IdentityProviders {
		p := &c.IdentityProviders[i]
		ts = append(ts, twin{index("identity_providers", i), "client_secret", "client_secret_file",
			&p.ClientSecret, &p.ClientSecretFile})
	}
	for i := range c.Clients {
		cl := &c.Clients[i]
		ts = append(ts, twin{index("clients", i), "client_secret", "client_secret_file",
			&cl.ClientSecret, &cl.ClientSecretFile})
	}
	for i := range c.Upstreams {
		cr := &c.Upstreams[i].Credentials
		ts = append(ts, twin{field(index("upstreams", i), "credentials"), "value", "value_file",
			&cr.Value, &cr.ValueFile})
		if ea := c.Upstreams[i].ExternalAuth; ea != nil && ea.Introspection != nil {
			in := ea.Introspection
			ts = append(ts, twin{field(field(index("upstreams", i), "external_auth"), "introspection"), "client_secret",
				"client_secret_file", &in.ClientSecret, &in.ClientSecretFile})
		}
	}
	return ts
}

// checkTwins refuses a secret given twice: which one wins would be a guess.
func (c *Config) checkTwins(ps *Problems) {
	for _, t := range c.twins() {
		if *t.value != "" && *t.file != "" {
			ps.add(t.parent, fmt.Sprintf("%s and %s are mutually exclusive", t.valueKey, t.fileKey))
		}
	}
}

// maxSecretFile bounds what a *_file twin may hold. Secrets are short; the
// bound turns a mistake such as value_file: /dev/urandom into a problem
// instead of an endless read.
const maxSecretFile = 64 << 10

// readSecretFile returns the contents of name (relative to baseDir unless
// absolute) without its trailing newlines, or a problem message. Messages
// name the file but never quote what it holds.
func readSecretFile(baseDir, name string) (string, string) {
	if !filepath.IsAbs(name) {
		name = filepath.Join(baseDir, name)
	}
	f, err := os.Open(name)
	if err != nil {
		return "", fmt.Sprintf("cannot read %q: %s", name, reason(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	switch {
	case err != nil:
		return "", fmt.Sprintf("cannot read %q: %s", name, reason(err))
	case len(data) > maxSecretFile:
		return "", fmt.Sprintf("%q is larger than 64 KiB; is it the right file?", name)
	}
	v := strings.TrimRight(string(data), "\r\n")
	if v == "" {
		return "", fmt.Sprintf("%q is empty", name)
	}
	return v, ""
}

// reason strips the operation and path from a file error; the message
// names the path itself.
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
