// Package redistest gives a test a key prefix of its own on the Redis that
// MCPGATE_TEST_REDIS names, and skips the test when it names none.
// External servers are opt-in for a developer; CI always sets the variable
// (.ci/run).
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Env names the URL of a Redis server tests may write keys to.
const Env = "MCPGATE_TEST_REDIS"

// SkipMessage is what a test skipped for want of Env says; it starts like
// pgtest's so CI can grep both.
const SkipMessage = "MCPGATE_TEST_REDIS not set: Redis tests skipped"

// URL returns Env's URL, skipping t when it is unset.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(Env)
	if u == "" {
		t.Skip(SkipMessage)
	}
	return u
}

// Prefix returns a fresh key prefix, "mcpgate-test:<hex>:", whose keys
// are deleted when t ends, so tests sharing one database (CI uses DB 0
// for every package at once) never see each other's keys. It skips t
// when Env is unset.
func Prefix(t testing.TB) string {
	t.Helper()
	c := Client(t)
	b := make([]byte, 8)
	rand.Read(b)
	prefix := "mcpgate-test:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background() // t.Context is done by now
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("redistest: deleting %s*: %v", prefix, err)
		}
	})
	return prefix
}

// Client returns a new client of Env's server, closed when t ends; it
// skips t when Env is unset and fails it when the server does not answer.
func Client(t testing.TB) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(URL(t))
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	if err := c.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	return c
}
