package login

import (
	"bytes"
	"testing"
)

// FuzzParsePHC feeds arbitrary strings to the argon2id PHC parser, which
// reads operator config. Beyond "no panic": a string that parses is within
// the limits, and re-encoding it parses to the same parameters, salt and
// tag. parsePasswordHash agrees with parsePHC on every argon2id string.
func FuzzParsePHC(f *testing.F) {
	for _, s := range []string{
		"$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo",
		"$argon2id$v=19$m=064,t=01,p=1$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo",
		"$argon2id$v=19$m=1048577,t=1,p=1$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo",
		"$argon2id$v=19$m=64,t=1,p=256$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo",
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNh\nbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo",
		"$argon2id$v=19$m=,t=,p=$$",
		"$argon2i$v=19$m=64,t=1,p=1$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo",
		"$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePHC(s)
		h, herr := parsePasswordHash(s)
		if len(s) >= 10 && s[:10] == "$argon2id$" && (err == nil) != (herr == nil) {
			t.Fatalf("parsePHC err %v but parsePasswordHash err %v", err, herr)
		}
		if herr == nil && h.argon == nil && h.bcrypt == nil {
			t.Fatal("parsePasswordHash accepted a hash of neither kind")
		}
		if err != nil {
			return
		}
		if err := p.check(); err != nil {
			t.Fatalf("parsed out of limits: %v", err)
		}
		q, err := parsePHC(p.String())
		if err != nil {
			t.Fatalf("re-encoding %q does not parse: %v", p.String(), err)
		}
		if p.memory != q.memory || p.time != q.time || p.threads != q.threads ||
			!bytes.Equal(p.salt, q.salt) || !bytes.Equal(p.key, q.key) {
			t.Fatalf("round trip changed %+v into %+v", p, q)
		}
	})
}
