package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// msgHTTPS is the SPEC HD-3 refusal of plain-HTTP URLs.
const msgHTTPS = "must use https (http is allowed only for a loopback host)"

// isLoopbackHost reports whether host (without port or brackets) is
// "localhost" or a loopback IP (127.0.0.0/8, ::1). No other name counts:
// whether it resolves to loopback is up to DNS, which an attacker may
// control.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// originProblem says what is wrong with s as a web origin
// (scheme://host[:port], RFC 6454 §6.2), or "". Origins must be in the
// canonical form browsers send (lower case, no default port) because they
// are compared byte for byte; a wildcard is refused (SPEC HD-3), and so is
// http unless the host is loopback.
func originProblem(s string) string {
	if strings.Contains(s, "*") {
		return "wildcards are refused; list each origin"
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "":
		return "must be an origin such as https://mcp.example.com"
	case u.User != nil:
		return "must not contain userinfo"
	case u.Path != "" || u.RawQuery != "" || u.ForceQuery || strings.Contains(s, "#"):
		return "must be an origin (scheme://host[:port]) with no path, query or fragment"
	case u.Scheme != "https" && u.Scheme != "http":
		return "scheme must be https"
	case u.Hostname() == "":
		return "has no host; write an origin such as https://mcp.example.com"
	case strings.HasPrefix(u.Host, "[") && strings.Contains(u.Host, "%"):
		// A zone (fe80::1%25eth0) names an interface of one machine; it
		// means nothing to a client elsewhere, and browsers never send one
		// in an Origin header.
		return "must not contain an IPv6 zone (%25...)"
	case u.Scheme == "http" && !isLoopbackHost(u.Hostname()):
		return msgHTTPS
	}
	if msg := portProblem(u.Port()); msg != "" {
		return msg
	}
	if c := canonicalOrigin(u); c != s {
		return fmt.Sprintf("must be written in canonical form %q", c)
	}
	return ""
}

// canonicalOrigin is u's origin as a browser serialises it (RFC 6454 §6.2):
// scheme and host lower case, the port as a plain decimal number (":0443"
// is port 443 but a different string), and no port when it is the
// scheme's default. u's port must already be valid.
func canonicalOrigin(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" {
		n, _ := strconv.ParseUint(p, 10, 16)
		if !(u.Scheme == "https" && n == 443) && !(u.Scheme == "http" && n == 80) {
			host += ":" + strconv.FormatUint(n, 10)
		}
	}
	return u.Scheme + "://" + host
}

// urlProblem says what is wrong with s as an absolute http or https URL, or
// "". With secure set, http is allowed only for a loopback host (SPEC HD-3).
// Userinfo is refused: credentials in a URL end up in logs, and the config
// has dedicated secret fields. Messages never quote s.
func urlProblem(s string, secure bool) string {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || u.Hostname() == "":
		return "must be an absolute URL such as https://host/path"
	case u.Scheme != "https" && u.Scheme != "http":
		return "scheme must be http or https"
	case secure && u.Scheme == "http" && !isLoopbackHost(u.Hostname()):
		return msgHTTPS
	case u.User != nil:
		return "must not contain userinfo; use the secret fields for credentials"
	case strings.Contains(s, "#"):
		return "must not contain a fragment"
	}
	return portProblem(u.Port())
}

// issuerProblem checks an authorization server or OpenID issuer: an https
// URL (http only on loopback) with no query or fragment (RFC 8414 §2,
// OpenID Connect Discovery 1.0 §3).
func issuerProblem(s string) string {
	if msg := urlProblem(s, true); msg != "" {
		return msg
	}
	if strings.Contains(s, "?") {
		return "must not contain a query"
	}
	return ""
}

func portProblem(port string) string {
	if port == "" {
		return ""
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return "port must be a number from 1 to 65535"
	}
	return ""
}
