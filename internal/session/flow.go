package session

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"time"
)

// Flow binding (SPEC AS-3; login CSRF, RFC 6749 §10.12 and RFC 9700 §4.7).
//
// The threat: an attacker starts an authorization flow in their own
// browser, signs in upstream as themselves, and instead of following the
// callback URL sends it to the victim. If the callback completed in the
// victim's browser, the victim's client would be logged in to the
// attacker's account (and might store the victim's data there). The defence:
// when a flow starts, the browser gets a random value in a cookie and the
// pending request stores only its hash (AuthRequest.BrowserBinding); the
// callback succeeds only if the browser presents a value with that hash.
// The attacker cannot make the victim's browser present the attacker's flow
// cookie: it is HttpOnly, __Host- (no other origin or subdomain can set it)
// and never leaves the attacker's browser.
//
// A user may run flows in parallel tabs (two MCP clients connecting at
// once), so the cookie keeps the newest maxFlows values, separated by dots
// (base64url never contains one).

// FlowTTL is the flow cookie's Max-Age: as long as a pending authorization
// lives (SPEC AS-3, ~10 min). Each BindFlow renews it for every value it
// keeps; the pending request's own expiry is what really ends a flow.
const FlowTTL = 10 * time.Minute

// maxFlows bounds the values one flow cookie holds. A fifth parallel flow
// drops the oldest, whose callback then fails; more than four concurrent
// logins in one browser is not a real user.
const maxFlows = 4

const flowSep = "."

// BindFlow puts a fresh random value into the flow cookie, keeping the
// newest of the values r shows the browser already holds (maxFlows in all),
// and returns the value's SHA-256 for AuthRequest.BrowserBinding. Only the
// hash is stored, so the pending request at rest does not carry the cookie.
func (m *Manager) BindFlow(w http.ResponseWriter, r *http.Request) (binding []byte) {
	value := newSecret()
	values := append(flowValues(r, m.flowName), value)
	values = values[max(len(values)-maxFlows, 0):]
	cookie := strings.Join(values, flowSep)
	http.SetCookie(w, newCookie(m.flowName, cookie, FlowTTL, m.o.Secure))
	return digest(value)
}

// CheckFlow reports whether the request's flow cookie holds a value whose
// SHA-256 is binding. Every held value is compared in constant time, and
// all of them are compared, so timing reveals neither how much of the hash
// matched nor which slot did. An empty or short binding never matches.
func (m *Manager) CheckFlow(r *http.Request, binding []byte) bool {
	if len(binding) != len(digest("")) {
		return false
	}
	match := 0
	for _, v := range flowValues(r, m.flowName) {
		match |= subtle.ConstantTimeCompare(digest(v), binding)
	}
	return match == 1
}

// flowValues returns the well-formed values of the flow cookie, oldest
// first, at most maxFlows of them (the newest). Malformed values (a
// truncated or hand-edited cookie) are dropped rather than carried forward.
func flowValues(r *http.Request, name string) []string {
	raw := requestCookie(r, name)
	if raw == "" {
		return nil
	}
	var out []string
	for v := range strings.SplitSeq(raw, flowSep) {
		if wellFormed(v) {
			out = append(out, v)
		}
	}
	return out[max(len(out)-maxFlows, 0):]
}
