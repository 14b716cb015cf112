package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
)

// SealKeySize is the length of a sealing key: AES-256 (SPEC SE-2).
const SealKeySize = 32

// genKeyHint tells the operator how to make a key.
const genKeyHint = "generate one with: head -c 32 /dev/urandom | base64"

// Key decodes the key's value: SealKeySize bytes in base64, standard or
// URL alphabet, padded or not. Errors never include the value.
func (k SealKey) Key() ([]byte, error) {
	for _, enc := range []*base64.Encoding{
		base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
	} {
		b, err := enc.DecodeString(k.Value)
		if err != nil {
			continue
		}
		if len(b) != SealKeySize {
			return nil, fmt.Errorf("must be %d random bytes in base64, not %d; %s", SealKeySize, len(b), genKeyHint)
		}
		return b, nil
	}
	return nil, errors.New("not base64; " + genKeyHint)
}

// sealKeyIDRE keeps key IDs short and free of separators, since they are
// written next to every sealed value to say which key opens it.
var sealKeyIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// check: SPEC HD-3 refuses to run without seal keys, and the active key
// must be unambiguous, or new data would be sealed under a guess.
func (s Secrets) check(ps *Problems) {
	if len(s.Keys) == 0 {
		ps.add("secrets.keys", "missing seal keys; "+genKeyHint)
		return
	}
	seen := map[string]int{}
	for i, k := range s.Keys {
		path := index("secrets.keys", i)
		k.check(ps, path)
		if j, dup := seen[k.ID]; dup && k.ID != "" {
			ps.add(field(path, "id"), "duplicate of "+index("secrets.keys", j))
		} else {
			seen[k.ID] = i
		}
	}
	switch _, found := seen[s.Active]; {
	case s.Active == "" && len(s.Keys) > 1:
		ps.add("secrets.active", "required when there are several keys (the id of the key that encrypts)")
	case s.Active != "" && !found:
		ps.add("secrets.active", fmt.Sprintf("no key with id %q", s.Active))
	}
}

func (k SealKey) check(ps *Problems, path string) {
	switch {
	case k.ID == "":
		ps.add(field(path, "id"), "required")
	case !sealKeyIDRE.MatchString(k.ID):
		ps.add(field(path, "id"), "must be 1 to 32 letters, digits, '-' or '_'")
	}
	switch {
	case k.Value == "" && k.ValueFile == "":
		ps.add(field(path, "value"), "required (or value_file); "+genKeyHint)
	case k.Value != "":
		if _, err := k.Key(); err != nil {
			ps.add(field(path, "value"), err.Error())
		}
	}
}
