package clientmeta

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/mcpgate/mcpgate/internal/ascii"
)

// MaxURILength bounds every URI in client metadata. Redirect URIs are shown
// on the consent page and stored per client; 2000 is what browsers reliably
// carry in a Location header.
const MaxURILength = 2000

// Policy holds the configurable part of the redirect-URI rules.
type Policy struct {
	// PrivateUseSchemes lists the private-use URI schemes (RFC 8252 §7.1)
	// a public client may register, compared case-insensitively. Nil
	// admits none; DefaultPolicy admits "cursor".
	PrivateUseSchemes []string
	// AllowReverseDomainSchemes admits any private-use scheme with a dot
	// in it ("com.example.app"), the reverse-domain form RFC 8252 §7.1
	// tells native apps to use.
	AllowReverseDomainSchemes bool
}

// DefaultPolicy is the policy of SPEC AS-2: the cursor scheme and
// reverse-domain schemes are admitted for public clients.
func DefaultPolicy() Policy {
	return Policy{PrivateUseSchemes: []string{"cursor"}, AllowReverseDomainSchemes: true}
}

// loopbackHosts are the hosts of a loopback redirect, exactly as written in
// the URI. RFC 8252 §7.3 names the two IP literals; localhost is admitted
// too (SPEC AS-2, and MCP clients register it) although §8.3 calls it NOT
// RECOMMENDED. Other 127/8 addresses are not: no client uses them, and
// every extra form is one more way for two strings to mean one listener.
var loopbackHosts = map[string]bool{"127.0.0.1": true, "[::1]": true, "localhost": true}

// forbiddenSchemes can run script or read local data in the browser that
// follows the redirect; they are refused even if an operator lists them.
var forbiddenSchemes = []string{"javascript", "vbscript", "data", "file", "blob", "about", "filesystem", "view-source"}

// CheckRedirectURI reports whether uri may be registered as a redirect URI;
// public is true for clients without a secret (token_endpoint_auth_method
// "none"). The error is an *Error with code invalid_redirect_uri.
//
// Admitted: https with a host; http to a loopback host (127.0.0.1, [::1] or
// localhost, RFC 8252 §7.3); and, for public clients only, a private-use
// scheme the Policy allows (RFC 8252 §7.1). A confidential client has no
// use for an app-claimed scheme, and any app can claim one.
func (p Policy) CheckRedirectURI(uri string, public bool) error {
	if msg := p.redirectProblem(uri, public); msg != "" {
		return &Error{Code: CodeInvalidRedirectURI, Description: msg}
	}
	return nil
}

func (p Policy) redirectProblem(uri string, public bool) string {
	u, msg := parseURI(uri)
	if msg != "" {
		return "redirect URI " + msg
	}
	switch {
	case u.Scheme == "https":
		if !plainAuthority(uri, u) {
			return "https redirect URI must have a plain host (https://host[:port]/...)"
		}
		return portProblem(u.Port())
	case u.Scheme == "http":
		// The literal prefix and host are checked on the raw string, the
		// same way MatchRedirectURI reads them, so both agree.
		if _, _, ok := loopbackParts(uri); !ok {
			return "http redirect URI is allowed only for http://127.0.0.1, http://[::1] or http://localhost"
		}
		return ""
	case slices.Contains(forbiddenSchemes, u.Scheme):
		return "redirect URI scheme is not allowed"
	case !public:
		return "private-use URI schemes are allowed only for public clients"
	case !p.allowsScheme(u.Scheme):
		return "redirect URI scheme is not on the allow-list"
	}
	return ""
}

// uriSyntaxProblem checks what every URI in client metadata must satisfy.
func uriSyntaxProblem(s string) string {
	switch {
	case s == "":
		return "is empty"
	case len(s) > MaxURILength:
		return "is longer than " + strconv.Itoa(MaxURILength) + " bytes"
	case !uriChars(s):
		// Spaces, quotes, angle brackets and non-ASCII are not URI
		// characters (RFC 3986 §2); refusing them keeps what the consent
		// page shows identical to what the browser follows.
		return "contains characters not allowed in a URI"
	case strings.Contains(s, "#"):
		// RFC 6749 §3.1.2: the redirection endpoint MUST NOT include a
		// fragment; a fragment would also carry the code into script.
		return "must not contain a fragment"
	}
	return ""
}

// parseURI parses an absolute URI that passed uriSyntaxProblem and refuses
// userinfo: https://trusted.example@evil.example/ reads as one host and
// goes to another. Go and browsers agree on where the authority ends once
// backslashes are refused (uriChars does), so u.User is reliable.
func parseURI(s string) (*url.URL, string) {
	if msg := uriSyntaxProblem(s); msg != "" {
		return nil, msg
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Scheme == "":
		return nil, "must be an absolute URI"
	case u.User != nil:
		return nil, "must not contain userinfo"
	}
	return u, ""
}

// plainAuthority reports whether s starts with "scheme://host[:port]" exactly
// as url.Parse read it, followed by the end, '/' or '?'. This refuses
// "https:host", an empty host, a percent-encoded host (which the parser
// decodes, so the consent page and the browser could read it differently)
// and IPv6 zones (fe80::1%25eth0 names an interface of this machine).
func plainAuthority(s string, u *url.URL) bool {
	prefix := u.Scheme + "://" + u.Host
	if u.Hostname() == "" || strings.Contains(u.Host, "%") || !strings.HasPrefix(s, prefix) {
		return false
	}
	rest := s[len(prefix):]
	return rest == "" || rest[0] == '/' || rest[0] == '?'
}

// uriChars reports whether s holds only RFC 3986 characters with
// well-formed percent-encoding.
func uriChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~:/?#[]@!$&'()*+,;=", c) >= 0:
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			i += 2
		default:
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// portProblem refuses a port outside 1-65535 ("" means the default port).
func portProblem(port string) string {
	if port != "" && !validPort(port) {
		return "redirect URI port must be between 1 and 65535"
	}
	return ""
}

func validPort(port string) bool {
	n, err := strconv.Atoi(port)
	return err == nil && len(port) <= 5 && n >= 1 && n <= 65535 && port[0] != '+'
}

func (p Policy) allowsScheme(scheme string) bool {
	for _, s := range p.PrivateUseSchemes {
		if ascii.EqualFold(s, scheme) {
			return true
		}
	}
	return p.AllowReverseDomainSchemes && isReverseDomain(scheme)
}

// isReverseDomain reports whether scheme looks like "com.example.app":
// at least two non-empty dot-separated labels.
func isReverseDomain(scheme string) bool {
	labels := strings.Split(scheme, ".")
	return len(labels) >= 2 && !slices.Contains(labels, "")
}

// MatchRedirectURI finds requested among the registered redirect URIs and
// returns it. Matching is exact string comparison (RFC 9700 §4.1.3: no
// normalisation an attacker could exploit), with one exception: for an
// http loopback URI the port may differ, because a native client listens
// on whatever port the OS gives it (RFC 8252 §7.3). Scheme, host, path and
// query must still be identical; a non-loopback URI with another port
// does not match.
func MatchRedirectURI(registered []string, requested string) (string, bool) {
	if requested == "" {
		return "", false
	}
	if slices.Contains(registered, requested) {
		return requested, true
	}
	want, _, ok := loopbackParts(requested)
	if !ok {
		return "", false
	}
	for _, r := range registered {
		if got, _, ok := loopbackParts(r); ok && got == want {
			return requested, true
		}
	}
	return "", false
}

// loopbackParts splits a loopback redirect URI into the URI without its
// port (the part that must match exactly) and the port. It works on the
// raw string so no parser normalisation can make two different strings
// equal: the URI must start with the literal "http://", the host must be
// one of loopbackHosts as written, and the port, if any, must be 1-65535.
func loopbackParts(s string) (key, port string, ok bool) {
	const prefix = "http://"
	if !strings.HasPrefix(s, prefix) {
		return "", "", false
	}
	rest := s[len(prefix):]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	host, tail := rest[:end], rest[end:]
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.HasSuffix(host, "]") {
		host, port = host[:i], host[i+1:]
		if !validPort(port) {
			return "", "", false
		}
	}
	if !loopbackHosts[host] {
		return "", "", false
	}
	return prefix + host + tail, port, true
}
