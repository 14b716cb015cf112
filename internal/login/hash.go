package login

import (
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// MaxBcryptCost caps bcrypt's cost from config: each step doubles the work,
// and cost 16 already takes seconds per attempt, which would let anyone
// tie up the CPU through the login form (the argon2id limits' reasoning).
const MaxBcryptCost = 15

// bcryptRE is the modular crypt form config accepts: version, two-digit
// cost, then 22 salt and 31 hash characters of bcrypt's alphabet.
var bcryptRE = regexp.MustCompile(`^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$`)

// passwordHash is a parsed password_hash: argon2id or bcrypt.
type passwordHash struct {
	argon  *phc   // argon2id, or nil
	bcrypt []byte // bcrypt, or nil
}

// hashers are the hash functions the local connector calls; tests swap
// them to count calls (the dummy-hash test) without timing anything.
type hashers struct {
	argon2id func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte
	bcrypt   func(hash, password []byte) error
}

var realHashers = hashers{argon2id: argon2.IDKey, bcrypt: bcrypt.CompareHashAndPassword}

// parsePasswordHash parses a config password hash, refusing parameters
// that would make verification a denial of service. Errors never quote
// the hash.
func parsePasswordHash(s string) (passwordHash, error) {
	switch {
	case strings.HasPrefix(s, "$argon2id$"):
		p, err := parsePHC(s)
		if err != nil {
			return passwordHash{}, err
		}
		return passwordHash{argon: &p}, nil
	case strings.HasPrefix(s, "$2"):
		if !bcryptRE.MatchString(s) {
			return passwordHash{}, errors.New("malformed bcrypt hash (want 60 characters: $2b$<cost>$<salt and hash>)")
		}
		cost, err := bcrypt.Cost([]byte(s))
		if err != nil {
			return passwordHash{}, fmt.Errorf("malformed bcrypt hash: %w", err)
		}
		if cost > MaxBcryptCost {
			return passwordHash{}, fmt.Errorf("bcrypt cost %d exceeds the limit of %d", cost, MaxBcryptCost)
		}
		return passwordHash{bcrypt: []byte(s)}, nil
	case s == "":
		return passwordHash{}, errors.New("password_hash is required")
	default:
		return passwordHash{}, errors.New("not an argon2id or bcrypt hash (plaintext passwords are refused)")
	}
}

// matches reports whether password hashes to h, comparing in constant time
// so the comparison itself leaks nothing about the stored tag.
func (h passwordHash) matches(f hashers, password []byte) bool {
	if h.argon != nil {
		a := h.argon
		got := f.argon2id(password, a.salt, a.time, a.memory, a.threads, uint32(len(a.key)))
		return subtle.ConstantTimeCompare(got, a.key) == 1
	}
	// bcrypt compares in constant time itself. It reads only the first 72
	// bytes of a password, so longer passwords match on that prefix: one
	// more reason to prefer argon2id.
	return f.bcrypt(h.bcrypt, password) == nil
}

// memoryKiB is roughly what one verification allocates.
func (h passwordHash) memoryKiB() uint32 {
	if h.argon != nil {
		return h.argon.memory
	}
	return 4 // bcrypt's state is about 4 KiB
}

// dummyLike returns a hash with h's algorithm and cost that no password
// matches in practice (random salt and tag, or the bcrypt hash of 32
// random bytes). Unknown usernames are checked against it so that they
// cost as much time as known ones.
func dummyLike(h passwordHash) (passwordHash, error) {
	if h.argon != nil {
		d := *h.argon
		d.salt = randomBytes(len(d.salt))
		d.key = randomBytes(len(d.key))
		return passwordHash{argon: &d}, nil
	}
	cost, err := bcrypt.Cost(h.bcrypt)
	if err != nil {
		return passwordHash{}, err
	}
	b, err := bcrypt.GenerateFromPassword(randomBytes(32), cost)
	if err != nil {
		return passwordHash{}, err
	}
	return passwordHash{bcrypt: b}, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24)
	return b
}
