package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"time"
)

// Cookie names. The __Host- prefix (RFC 6265bis §4.1.3.2) makes the browser
// refuse the cookie unless it is Secure, has Path=/ and no Domain, so a
// sibling subdomain or a network attacker injecting Set-Cookie over plain
// http cannot plant or overwrite it (cookie tossing, session fixation).
//
// On a plain-http public_url the prefix cannot be used: __Host- requires
// Secure, and whether a user agent sets or sends a Secure cookie over
// http://127.0.0.1 or http://localhost is left to it (RFC 6265bis §5.6, §5.7)
// and they disagree (httpwg/http-extensions#2605; HTTPie dropped them,
// httpie/cli#1308; Go's cookiejar did until golang/go#60997). SPEC HD-3
// allows an http public_url only on a loopback host, where the cookie never
// crosses a network, so the plain name without Secure gives nothing up there.
const (
	SessionCookieSecure = "__Host-mcpgate_session"
	SessionCookiePlain  = "mcpgate_session"
	FlowCookieSecure    = "__Host-mcpgate_flow"
	FlowCookiePlain     = "mcpgate_flow"
)

// secretBytes is the entropy of every cookie value: 256 bits, so guessing a
// live value is hopeless however many sessions exist.
const secretBytes = 32

// secretLen is the length of a cookie value: base64url of secretBytes, no
// padding.
var secretLen = base64.RawURLEncoding.EncodedLen(secretBytes)

// newSecret returns a fresh cookie value. crypto/rand.Read never fails (it
// crashes the program rather than return weak bytes).
func newSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// wellFormed reports whether v could be a value this package minted. A
// malformed value is refused before it reaches the store, so junk cookies
// cost no database round trip.
func wellFormed(v string) bool {
	if len(v) != secretLen {
		return false
	}
	// Strict: a lenient decoder ignores the unused low bits of the last
	// character, and such a value is no value this package minted.
	b, err := base64.RawURLEncoding.Strict().DecodeString(v)
	return err == nil && len(b) == secretBytes
}

// digest is SHA-256 of a cookie value exactly as it travels.
func digest(v string) []byte {
	sum := sha256.Sum256([]byte(v))
	return sum[:]
}

// sessionID is the record ID of a session cookie value: hex SHA-256. Only
// the hash is stored (storage.BrowserSession), so a leaked database or
// backup yields no cookie a browser could present. Plain SHA-256 suffices:
// the value has 256 bits of entropy, so there is nothing to brute-force.
func sessionID(v string) string { return hex.EncodeToString(digest(v)) }

// cookieNames picks the session and flow cookie names for the deployment.
func cookieNames(secure bool) (sessionName, flowName string) {
	if secure {
		return SessionCookieSecure, FlowCookieSecure
	}
	return SessionCookiePlain, FlowCookiePlain
}

// newCookie builds a cookie with the attributes every cookie of this package
// carries: HttpOnly (no script can read it, so an XSS cannot exfiltrate
// it), SameSite=Lax (not sent on cross-site subresource requests or POSTs,
// a first defence against CSRF; still sent on the top-level GET that brings
// the browser back from the IdP), Path=/ and no Domain (host-only, as
// __Host- demands). maxAge < 0 deletes the cookie.
func newCookie(name, value string, maxAge time.Duration, secure bool) *http.Cookie {
	c := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		Secure:   secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
	if maxAge < 0 {
		c.MaxAge = -1
	} else {
		c.MaxAge = int(maxAge / time.Second)
	}
	return c
}

// requestCookie returns the value of the named cookie, or "" when the
// request carries none.
func requestCookie(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}
