package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// redirectURIProblem says what is wrong with s as a redirect URI of a
// client (public: without a secret), or "". The same rules apply to DCR and
// CIMD clients at run time (SPEC AS-2; RFC 9700 §4.1, RFC 8252 §7-8).
func (r Registration) redirectURIProblem(s string, public bool) string {
	if strings.Contains(s, "#") {
		// RFC 6749 §3.1.2: the code must not end up in a fragment that
		// scripts on the page can read.
		return "must not contain a fragment"
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Scheme == "":
		return "must be an absolute URI such as https://app.example.com/callback"
	case u.User != nil:
		return "must not contain userinfo"
	case u.Scheme == "https":
		if u.Hostname() == "" {
			return "must be an absolute URI such as https://app.example.com/callback"
		}
		return portProblem(u.Port())
	case u.Scheme == "http":
		// RFC 8252 §7.3, §8.3: plain http only where the code never leaves
		// the machine.
		if !isRedirectLoopbackHost(u.Hostname()) {
			return "http is allowed only for a loopback host (127.0.0.1, [::1] or localhost); use https"
		}
		return portProblem(u.Port())
	}
	return r.privateUseProblem(s, public)
}

// privateUseProblem checks a redirect URI with a private-use scheme (RFC
// 8252 §7.1). Any app on a device can claim such a scheme, so it only suits
// public clients, which prove possession with PKCE rather than a secret,
// and only schemes the operator allowed.
func (r Registration) privateUseProblem(s string, public bool) string {
	scheme, rest, _ := strings.Cut(s, ":")
	switch {
	case rest == "":
		return "must be an absolute URI such as https://app.example.com/callback"
	case !public:
		return fmt.Sprintf("private-use scheme %q is allowed only for public clients (no client_secret); use https", scheme)
	case slices.Contains(unsafeSchemes, strings.ToLower(scheme)):
		return fmt.Sprintf("scheme %q is never allowed in a redirect URI", scheme)
	case strings.ToLower(scheme) != scheme:
		return fmt.Sprintf("scheme %q must be written in lower case", scheme)
	case !r.allowsScheme(scheme):
		return fmt.Sprintf("scheme %q is not allowed: list it in registration.private_use_schemes, "+
			"or use https or http on a loopback host", scheme)
	}
	return ""
}

// allowsScheme matches exactly, as written: "Cursor" is not "cursor".
func (r Registration) allowsScheme(scheme string) bool {
	list := r.PrivateUseSchemes
	if list == nil {
		list = defaultPrivateUseSchemes
	}
	if slices.Contains(list, scheme) {
		return true
	}
	return r.ReverseDomainSchemesEnabled() && isReverseDomainScheme(scheme)
}

// isReverseDomainScheme: at least two non-empty dot-separated labels
// (com.example.app), as RFC 8252 §7.1 recommends.
func isReverseDomainScheme(scheme string) bool {
	labels := strings.Split(scheme, ".")
	return len(labels) >= 2 && !slices.Contains(labels, "") && schemeRE.MatchString(scheme)
}

// isRedirectLoopbackHost is narrower than isLoopbackHost: only the hosts
// RFC 8252 §7.3 names, whose port the authorization endpoint lets vary
// (127.0.0.2 would be matched exactly and surprise the client).
func isRedirectLoopbackHost(host string) bool {
	return host == "127.0.0.1" || host == "::1" || host == "localhost"
}

// schemeRE is RFC 3986 §3.1, lower case: scheme = ALPHA *( ALPHA / DIGIT /
// "+" / "-" / "." ).
var schemeRE = regexp.MustCompile(`^[a-z][a-z0-9+.-]*$`)

// unsafeSchemes are never private-use: web schemes have their own rules
// above, and the others run code or read local data in a browser.
var unsafeSchemes = []string{"http", "https", "javascript", "data", "file", "vbscript", "blob"}

func privateUseSchemeProblem(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case strings.ContainsAny(s, ":/"):
		return fmt.Sprintf("%q: write the scheme alone, without :// or a path", s)
	case strings.ToLower(s) != s:
		return fmt.Sprintf("%q must be lower case", s)
	case !schemeRE.MatchString(s):
		return fmt.Sprintf("%q is not a URI scheme (RFC 3986 §3.1: a letter, then letters, digits, + - or .)", s)
	case slices.Contains(unsafeSchemes, s):
		return fmt.Sprintf("%q is not a private-use scheme", s)
	}
	return ""
}
