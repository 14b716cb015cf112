package proxy

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/seal"
)

// HeaderSessionID is the MCP Streamable HTTP session header.
const HeaderSessionID = "Mcp-Session-Id"

// maxCachedSessions bounds each session cache (see sessions).
const maxCachedSessions = 1 << 16

// binding is what a client-visible session ID carries: the upstream's
// session ID and the principal that created it (SPEC PX-9). It is sealed
// with the upstream's name as associated data, so the ID holds across
// instances with no shared store, and an ID from one upstream cannot be
// replayed at another.
type binding struct {
	Session string `json:"s"`
	Subject string `json:"u"`
	Client  string `json:"c"`
}

// sessions seals and opens session bindings for one route, caching both
// directions: opening costs a key derivation and an AES-GCM open, which
// steady traffic should not pay per request.
type sessions struct {
	ring *seal.Keyring
	aad  []byte

	mu     sync.RWMutex
	opened map[string]binding // client-visible ID -> binding
	sealed map[binding]string // binding -> client-visible ID
}

func newSessions(ring *seal.Keyring, upstream string) *sessions {
	return &sessions{ring: ring, aad: []byte("mcp-session:" + upstream),
		opened: map[string]binding{}, sealed: map[binding]string{}}
}

func (s *sessions) open(id string) (binding, bool) {
	s.mu.RLock()
	b, ok := s.opened[id]
	s.mu.RUnlock()
	if ok {
		return b, true
	}
	// Strict: lenient base64 ignores the unused low bits of the last
	// character, so one sealed ID would have several spellings, each a
	// distinct cache entry and a distinct key anywhere the ID is used.
	raw, err := base64.RawURLEncoding.Strict().DecodeString(id)
	if err != nil {
		return binding{}, false
	}
	plain, err := s.ring.Open(seal.PurposeMCPSession, raw, s.aad)
	if err != nil || json.Unmarshal(plain, &b) != nil || b.Session == "" {
		return binding{}, false
	}
	s.remember(id, b)
	return b, true
}

func (s *sessions) seal(b binding) (string, error) {
	s.mu.RLock()
	id, ok := s.sealed[b]
	s.mu.RUnlock()
	if ok {
		return id, nil
	}
	plain, _ := json.Marshal(b)
	raw, err := s.ring.Seal(seal.PurposeMCPSession, plain, s.aad)
	if err != nil {
		return "", err
	}
	id = base64.RawURLEncoding.EncodeToString(raw)
	s.remember(id, b)
	return id, nil
}

func (s *sessions) remember(id string, b binding) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.opened) >= maxCachedSessions {
		clear(s.opened)
		clear(s.sealed)
	}
	s.opened[id] = b
	s.sealed[b] = id
}

// unbindSession checks the client's Mcp-Session-Id against the caller and
// puts the upstream's own ID into st. Another principal presenting the ID,
// or an ID that does not open, gets 404 as an unknown session would (MCP
// Streamable HTTP: the client then starts a new session), so a stolen or
// guessed ID reveals nothing.
func (rt *route) unbindSession(w http.ResponseWriter, r *http.Request, st *forwardState, id []byte) bool {
	vals := r.Header.Values(HeaderSessionID)
	switch len(vals) {
	case 0:
		return true
	case 1:
	default:
		writeRPCError(w, r, http.StatusBadRequest, id, codeNotFound, "more than one session ID")
		return false
	}
	b, ok := rt.sessions.open(vals[0])
	if ok && b.Subject == st.principal.Subject && b.Client == st.principal.ClientID {
		st.upstreamSession, st.clientSession = b.Session, vals[0]
		return true
	}
	if ok {
		rt.auditForeignSession(r, st.principal, b)
	}
	writeRPCError(w, r, http.StatusNotFound, id, codeNotFound, "session not found")
	return false
}

// auditForeignSession records a session ID presented by someone other than
// its owner. Another subject is a stolen or leaked ID (risk 60). The same
// subject under another client is usually benign: a client that registers
// afresh on every authorization (go-sdk DCR step-up) carries its old
// session over; it still gets 404, but only a low-risk event.
func (rt *route) auditForeignSession(r *http.Request, pr Principal, b binding) {
	reason, risk := "mcp_session_of_another_principal", 60
	if b.Subject == pr.Subject {
		reason, risk = "mcp_session_of_another_client", 20
	}
	rt.p.record(r, audit.Event{
		Type: audit.SuspiciousActivity, User: pr.Subject, Session: pr.Family, Client: pr.ClientID,
		Provider: pr.Provider, Risk: risk, Details: map[string]any{"reason": reason, "upstream": rt.up.Name},
	})
}
