package config

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
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

// canonicalOrigin lower-cases scheme and host and drops a default port.
func canonicalOrigin(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	port := u.Port()
	if port != "" && !(u.Scheme == "https" && port == "443") && !(u.Scheme == "http" && port == "80") {
		host += ":" + port
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

var hostnameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

// hostPortProblem says what is wrong with s as a listen address, or "". An
// empty host means every interface. Port 0 (any free port) is accepted for
// tests.
func hostPortProblem(s string) string {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "must be host:port, such as 127.0.0.1:8080 or :8443"
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "port must be a number from 0 to 65535"
	}
	if _, err := netip.ParseAddr(host); host != "" && err != nil && !hostnameRE.MatchString(host) {
		return fmt.Sprintf("invalid host %q", host)
	}
	return ""
}

// listensOnLoopback reports whether a valid listen address binds only a
// loopback interface. An empty host ("":8080) binds every interface.
func listensOnLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && isLoopbackHost(host)
}
