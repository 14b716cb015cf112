package login

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Limits on argon2id parameters read from config. The config is trusted,
// but a typo (m=6553600 for 64 MiB) or a pasted hash from a tool with huge
// settings would otherwise make every login attempt, by anyone, allocate
// gigabytes or burn seconds of CPU: a denial of service of the whole
// gateway through its login form.
const (
	MaxArgon2MemoryKiB = 1 << 20 // 1 GiB
	MaxArgon2Time      = 16
	MaxArgon2Threads   = 64
	minSaltBytes       = 8  // the argon2 specification's minimum (RFC 9106 §3.1)
	maxSaltBytes       = 64 // generous; tools use 16
	minKeyBytes        = 16 // shorter tags make a chance match feasible online
	maxKeyBytes        = 64
)

// MaxPasswordBytes caps a submitted password before it is hashed. Argon2
// reads the whole input once, so a huge password costs little, but there
// is no reason to accept a megabyte; bcrypt ignores everything past 72
// bytes anyway.
const MaxPasswordBytes = 1024

// Defaults for HashArgon2id: RFC 9106 §4, second recommended option
// (64 MiB, 3 passes, 4 lanes), 16-byte salt, 32-byte tag.
const (
	DefaultArgon2MemoryKiB = 64 << 10
	DefaultArgon2Time      = 3
	DefaultArgon2Threads   = 4
	saltBytes              = 16
	keyBytes               = 32
)

// phc is a parsed argon2id hash in the PHC string format:
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<tag>, salt and tag in
// unpadded standard base64. Only version 19 (0x13) exists in x/crypto.
type phc struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

var errNotPHC = errors.New("malformed argon2id hash (want $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>)")

// parsePHC parses and bounds-checks an argon2id PHC string. Errors never
// quote the input: it is a password hash.
func parsePHC(s string) (phc, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return phc{}, errNotPHC
	}
	if parts[2] != "v=19" {
		return phc{}, errors.New("unsupported argon2id version (only v=19)")
	}
	var p phc
	var err error
	if p.memory, p.time, p.threads, err = parseArgon2Params(parts[3]); err != nil {
		return phc{}, err
	}
	if p.salt, err = decodeB64(parts[4]); err != nil {
		return phc{}, fmt.Errorf("argon2id salt: %w", err)
	}
	if p.key, err = decodeB64(parts[5]); err != nil {
		return phc{}, fmt.Errorf("argon2id hash: %w", err)
	}
	return p, p.check()
}

// parseArgon2Params parses "m=<KiB>,t=<passes>,p=<lanes>" in that order.
func parseArgon2Params(s string) (memory, time uint32, threads uint8, err error) {
	fields := strings.Split(s, ",")
	if len(fields) != 3 {
		return 0, 0, 0, errNotPHC
	}
	var v [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		digits, ok := strings.CutPrefix(fields[i], name)
		// ParseUint accepts only digits here (no sign, no spaces, no '_').
		if !ok || digits == "" {
			return 0, 0, 0, errNotPHC
		}
		if v[i], err = strconv.ParseUint(digits, 10, 32); err != nil {
			return 0, 0, 0, fmt.Errorf("argon2id parameter %s out of range", name[:1])
		}
	}
	if v[2] > MaxArgon2Threads {
		return 0, 0, 0, fmt.Errorf("argon2id parallelism %d exceeds the limit of %d", v[2], MaxArgon2Threads)
	}
	return uint32(v[0]), uint32(v[1]), uint8(v[2]), nil
}

// check enforces the bounds; see the constants above for why.
func (p phc) check() error {
	return checkArgon2Params(p.memory, p.time, p.threads, len(p.salt), len(p.key))
}

func checkArgon2Params(memory, time uint32, threads uint8, salt, key int) error {
	switch {
	case threads < 1 || threads > MaxArgon2Threads:
		return fmt.Errorf("argon2id parallelism %d outside 1..%d", threads, MaxArgon2Threads)
	case time < 1 || time > MaxArgon2Time:
		return fmt.Errorf("argon2id time cost %d outside 1..%d", time, MaxArgon2Time)
	case memory > MaxArgon2MemoryKiB:
		return fmt.Errorf("argon2id memory %d KiB exceeds the limit of %d KiB (1 GiB)", memory, MaxArgon2MemoryKiB)
	case memory < 8*uint32(threads):
		// RFC 9106 §3.1: m is at least 8*p KiB.
		return fmt.Errorf("argon2id memory %d KiB is below 8 KiB per lane", memory)
	case salt < minSaltBytes || salt > maxSaltBytes:
		return fmt.Errorf("argon2id salt of %d bytes outside %d..%d", salt, minSaltBytes, maxSaltBytes)
	case key < minKeyBytes || key > maxKeyBytes:
		return fmt.Errorf("argon2id hash of %d bytes outside %d..%d", key, minKeyBytes, maxKeyBytes)
	}
	return nil
}

// decodeB64 decodes unpadded standard base64. The alphabet is checked
// first because the decoder silently skips '\r' and '\n'.
func decodeB64(s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return nil, errors.New("not unpadded base64")
		}
	}
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("not unpadded base64")
	}
	return b, nil
}

// String encodes p in the PHC string format.
func (p phc) String() string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		base64.RawStdEncoding.EncodeToString(p.salt), base64.RawStdEncoding.EncodeToString(p.key))
}

// HashArgon2id hashes password for a local user's password_hash with the
// defaults (RFC 9106 §4: 64 MiB, 3 passes, 4 lanes).
func HashArgon2id(password string) (string, error) {
	return HashArgon2idParams(password, DefaultArgon2MemoryKiB, DefaultArgon2Time, DefaultArgon2Threads)
}

// HashArgon2idParams hashes password with the given memory (KiB), passes
// and lanes, within the limits the local connector accepts. Small values
// are for tests and the demo only: they make offline cracking of a leaked
// config cheap.
func HashArgon2idParams(password string, memoryKiB, time uint32, threads uint8) (string, error) {
	if password == "" || len(password) > MaxPasswordBytes {
		return "", fmt.Errorf("login: password must be 1 to %d bytes", MaxPasswordBytes)
	}
	if err := checkArgon2Params(memoryKiB, time, threads, saltBytes, keyBytes); err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	p := phc{memory: memoryKiB, time: time, threads: threads, salt: make([]byte, saltBytes)}
	_, _ = rand.Read(p.salt) // crypto/rand.Read never fails (Go 1.24)
	p.key = argon2.IDKey([]byte(password), p.salt, time, memoryKiB, threads, keyBytes)
	return p.String(), nil
}
