package login

import (
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/mcpgate/mcpgate/internal/config"
	"github.com/mcpgate/mcpgate/internal/testenv/clock"
)

// fastArgon2 hashes with tiny parameters so tests stay quick.
func fastArgon2(t testing.TB, password string) string {
	t.Helper()
	h, err := HashArgon2idParams(password, 64, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func fastBcrypt(t testing.TB, password string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func localProvider(users ...config.LocalUser) config.IdentityProvider {
	return config.IdentityProvider{ID: "local", Type: "local", Users: users}
}

func newLocal(t testing.TB, users ...config.LocalUser) *Local {
	t.Helper()
	l, err := NewLocal(localProvider(users...))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// hashCall records one call through the counting hashers.
type hashCall struct {
	algo              string // "argon2id" or "bcrypt"
	time, memory, key uint32
	threads           uint8
	bcryptCost        int
	salt, bcryptHash  []byte
}

// countHashers makes l record every hash it runs while still computing it.
func countHashers(l *Local) *[]hashCall {
	var calls []hashCall
	l.hashers = hashers{
		argon2id: func(pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
			calls = append(calls, hashCall{algo: "argon2id", time: time, memory: memory, threads: threads, key: keyLen, salt: salt})
			return realHashers.argon2id(pw, salt, time, memory, threads, keyLen)
		},
		bcrypt: func(hash, pw []byte) error {
			cost, _ := bcrypt.Cost(hash)
			calls = append(calls, hashCall{algo: "bcrypt", bcryptCost: cost, bcryptHash: hash})
			return realHashers.bcrypt(hash, pw)
		},
	}
	return &calls
}

// newFakeClock returns a test clock at a fixed instant.
func newFakeClock() *clock.Clock {
	return clock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
}
