package ratelimit

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"

	"github.com/mcpgate/mcpgate/internal/clientip"
)

// KeyKind says what a limit counts by; it is the "key" of audit events.
type KeyKind string

// The kinds of key (SPEC RL-1).
const (
	KindIP       KeyKind = "ip"        // client address; IPv6 by /64
	KindClient   KeyKind = "client"    // OAuth client ID
	KindClientIP KeyKind = "client_ip" // public OAuth client ID and client address
	KindUser     KeyKind = "user"      // subject, "<provider>:<sub>"
	KindUserTool KeyKind = "user_tool" // subject and tool name
)

// Key is what one request is counted under. Build it with ByIP, ByClient,
// ByClientIP, ByUser or ByUserTool.
type Key struct {
	Kind KeyKind
	// Client, User and Tool are set for the kinds that count by them, for
	// the audit event (an IP key's address is the event's IP already).
	Client, User, Tool string
	value              string
}

// ByIP counts r under its client address as resolved through
// trusted_proxies (clientip), an IPv6 address under its /64: one host owns
// a whole /64 and could otherwise rotate through it for a fresh bucket per
// request.
func ByIP(r *http.Request) Key {
	return Key{Kind: KindIP, value: clientip.Key(clientip.From(r))}
}

// ByClient counts by OAuth client ID.
func ByClient(clientID string) Key {
	return Key{Kind: KindClient, Client: clientID, value: clientID}
}

// ByClientIP counts by OAuth client ID and client address together, for
// public clients: their ID is no secret (a CIMD client's ID is a public
// URL), so counting by the ID alone would let anyone spend the quota of
// every user of, say, a popular desktop client.
func ByClientIP(clientID string, r *http.Request) Key {
	return Key{Kind: KindClientIP, Client: clientID, value: pair(clientID, clientip.Key(clientip.From(r)))}
}

// ByUser counts by subject.
func ByUser(subject string) Key {
	return Key{Kind: KindUser, User: subject, value: subject}
}

// ByUserTool counts by subject and tool name together.
func ByUserTool(subject, tool string) Key {
	return Key{Kind: KindUserTool, User: subject, Tool: tool, value: pair(subject, tool)}
}

// pair encodes two values as one, injectively: the first is prefixed with
// its length. A separator byte would not do: subjects of an external
// authorization server and tool names are attacker-chosen and may hold
// any byte, NUL included, so ("a\x00b", "c") and ("a", "b\x00c") would
// share one bucket and one user could spend another's quota.
func pair(a, b string) string {
	return strconv.Itoa(len(a)) + ":" + a + b
}

// String is the key a Limiter stores: the kind and the value, the value
// replaced by its SHA-256 when longer than 64 bytes. Client IDs (CIMD
// URLs) and tool names come from requests; hashing bounds what one key
// costs in memory and in Redis. The '#' suffix keeps a hash from equalling
// a short value.
func (k Key) String() string {
	v := k.value
	if len(v) > 64 {
		sum := sha256.Sum256([]byte(v))
		v = hex.EncodeToString(sum[:]) + "#"
	}
	return string(k.Kind) + ":" + v
}
