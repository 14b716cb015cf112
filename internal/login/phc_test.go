package login

import (
	"strings"
	"testing"
)

func TestParsePHC(t *testing.T) {
	// Made by the reference C library, libargon2's argon2id_hash_encoded
	// (password "password", salt "somesalt").
	const s = "$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo"
	p, err := parsePHC(s)
	if err != nil {
		t.Fatal(err)
	}
	if p.memory != 65536 || p.time != 2 || p.threads != 4 || string(p.salt) != "somesalt" || len(p.key) != 32 {
		t.Errorf("parsed %+v", p)
	}
	if p.String() != s {
		t.Errorf("re-encoded as %s", p.String())
	}
	if _, err := parsePHC("$argon2id$v=19$m=65536,t=2,p=4$c29tZXNhbHQ"); err == nil {
		t.Error("a hash without a tag parsed")
	}
}

// Hashes made by the reference C library (libargon2's
// argon2id_hash_encoded) verify, so the parameters reach IDKey in the
// right order (time before memory) and the encoding matches other tools.
func TestArgon2idReferenceVectors(t *testing.T) {
	for pw, s := range map[string]string{
		"password": "$argon2id$v=19$m=64,t=2,p=2$c29tZXNhbHRzb21lc2FsdA$wmMxfQAvhLU0L6ZvoWnkvOajVqE/GRkzRjIu81IuBwI",
		"":         "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$yDCbRXt8YBhEtYWu23Ut1dbynmb19XUzbcBonDMLqwE",
	} {
		h, err := parsePasswordHash(s)
		if err != nil {
			t.Fatal(err)
		}
		if !h.matches(realHashers, []byte(pw)) {
			t.Errorf("the reference hash of %q does not verify", pw)
		}
		if h.matches(realHashers, []byte(pw+"x")) {
			t.Errorf("a wrong password verifies against the hash of %q", pw)
		}
	}
}

func TestHashArgon2id(t *testing.T) {
	s, err := HashArgon2id("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	p, err := parsePHC(s)
	if err != nil {
		t.Fatal(err)
	}
	if p.memory != DefaultArgon2MemoryKiB || p.time != DefaultArgon2Time || p.threads != DefaultArgon2Threads ||
		len(p.salt) != 16 || len(p.key) != 32 {
		t.Errorf("defaults not used: %s", s)
	}
	if !(passwordHash{argon: &p}).matches(realHashers, []byte("correct horse")) {
		t.Error("the hash does not verify its password")
	}
	again, _ := HashArgon2idParams("correct horse", 64, 1, 1)
	if strings.Split(again, "$")[4] == strings.Split(s, "$")[4] {
		t.Error("two hashes share a salt")
	}
}

func TestHashArgon2idParamsRefuses(t *testing.T) {
	for name, c := range map[string]struct {
		pw   string
		m, t uint32
		p    uint8
	}{
		"empty password": {"", 64, 1, 1},
		"long password":  {strings.Repeat("x", MaxPasswordBytes+1), 64, 1, 1},
		"memory":         {"pw", MaxArgon2MemoryKiB + 1, 1, 1},
		"time":           {"pw", 64, 0, 1},
		"threads":        {"pw", 64, 1, 0},
	} {
		if _, err := HashArgon2idParams(c.pw, c.m, c.t, c.p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
