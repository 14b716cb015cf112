package config

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

func (c *Config) checkUpstreams(ps *Problems) {
	providers := map[string]string{} // id -> type
	for _, p := range c.IdentityProviders {
		providers[p.ID] = p.Type
	}
	names, paths := map[string]int{}, map[string]int{}
	for i, u := range c.Upstreams {
		path := index("upstreams", i)
		switch j, dup := names[u.Name]; {
		case u.Name == "":
			ps.add(field(path, "name"), "required")
		case dup:
			ps.add(field(path, "name"), "duplicate of "+index("upstreams", j))
		default:
			names[u.Name] = i
		}
		c.checkUpstreamPath(ps, i, paths)
		u.checkTarget(ps, path)
		u.Credentials.check(ps, field(path, "credentials"), providers, u.ExternalAuth != nil)
		checkScopes(ps, field(path, "scopes"), u.Scopes)
		checkTools(ps, field(path, "tools"), u.Tools, providers)
		if u.ExternalAuth != nil {
			u.ExternalAuth.check(ps, field(path, "external_auth"))
		}
		u.IdentityHeaders.check(ps, field(path, "identity_headers"), u.Credentials.Header)
		u.checkLimits(ps, path)
	}
}

// checkLimits checks the proxy's per-upstream bounds. The stdio settings
// only make sense with command: given with url they would silently do
// nothing.
func (u Upstream) checkLimits(ps *Problems, path string) {
	if u.Timeout <= 0 {
		ps.add(field(path, "timeout"), "must be positive")
	}
	if u.MaxBodyBytes <= 0 || u.MaxBodyBytes > MaxMaxBodyBytes {
		ps.add(field(path, "max_body_bytes"), fmt.Sprintf("must be between 1 and %d", MaxMaxBodyBytes))
	}
	if len(u.Command) == 0 {
		if u.IdleTimeout != 0 {
			ps.add(field(path, "idle_timeout"), "only used with command")
		}
		if u.MaxProcesses != 0 {
			ps.add(field(path, "max_processes"), "only used with command")
		}
		if u.MaxProcessesPerUser != 0 {
			ps.add(field(path, "max_processes_per_user"), "only used with command")
		}
		return
	}
	if u.IdleTimeout < 0 {
		ps.add(field(path, "idle_timeout"), "must be positive")
	}
	if u.MaxProcesses < 0 {
		ps.add(field(path, "max_processes"), "must be positive")
	}
	if u.MaxProcessesPerUser < 0 || u.MaxProcessesPerUser > u.MaxProcesses {
		ps.add(field(path, "max_processes_per_user"), "must be between 1 and max_processes")
	}
}

// checkUpstreamPath checks upstreams[i].path and records it in paths
// (path -> index) when valid. A path nested under another is refused:
// resource URIs that are prefixes of each other let a client that matches
// resources by prefix ask for a token for the wrong upstream.
func (c *Config) checkUpstreamPath(ps *Problems, i int, paths map[string]int) {
	at := field(index("upstreams", i), "path")
	p := c.Upstreams[i].Path
	if msg := upstreamPathProblem(p); msg != "" {
		ps.add(at, msg)
		return
	}
	if j, dup := paths[p]; dup {
		ps.add(at, fmt.Sprintf("duplicate of %s.path %q", index("upstreams", j), p))
		return
	}
	for _, q := range slices.Sorted(maps.Keys(paths)) {
		if strings.HasPrefix(p, q+"/") || strings.HasPrefix(q, p+"/") {
			ps.add(at, fmt.Sprintf("nested with %s.path %q; resource paths must not be prefixes of each other",
				index("upstreams", paths[q]), q))
			return
		}
	}
	paths[p] = i
}

// reservedPrefixes are the gateway's own routes; an upstream there would
// shadow discovery (RFC 8414, RFC 9728), the AS, health checks, metrics or
// the admin console.
var reservedPrefixes = []string{"/.well-known", "/oauth", "/healthz", "/readyz", "/metrics", "/admin"}

// pathSegmentRE allows only RFC 3986 §2.3 unreserved characters, so a path
// has one spelling and percent-encoding cannot make two paths look
// different to the router and equal to a client, or the other way round.
var pathSegmentRE = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)

func upstreamPathProblem(p string) string {
	switch {
	case p == "":
		return "required"
	case !strings.HasPrefix(p, "/"):
		return "must start with /"
	case p == "/":
		return `must not be "/": the root serves the gateway's own metadata and pages`
	case strings.HasSuffix(p, "/"):
		return "must not end with /"
	case strings.ContainsAny(p, "?#"):
		return "must not contain a query or fragment"
	}
	for _, seg := range strings.Split(p[1:], "/") {
		switch {
		case seg == "":
			return "must not contain an empty segment (//)"
		case seg == "." || seg == "..":
			return "must not contain . or .. segments"
		case !pathSegmentRE.MatchString(seg):
			return fmt.Sprintf("segment %q may contain only letters, digits and - . _ ~", seg)
		}
	}
	for _, r := range reservedPrefixes {
		if p == r || strings.HasPrefix(p, r+"/") {
			return fmt.Sprintf("%s is reserved for the gateway's own endpoints", r)
		}
	}
	return ""
}

// checkTarget: an upstream is either remote (url) or a stdio child
// (command), never both, and env only reaches a child (SPEC PX-11).
func (u Upstream) checkTarget(ps *Problems, path string) {
	switch {
	case u.URL != "" && len(u.Command) > 0:
		ps.add(path, "url and command are mutually exclusive")
	case u.URL != "":
		if msg := u.urlProblem(); msg != "" {
			ps.add(field(path, "url"), msg)
		}
	case len(u.Command) > 0:
		if u.Command[0] == "" {
			ps.add(index(field(path, "command"), 0), "must name the program to run")
		}
	default:
		ps.add(field(path, "url"), "required (or command, for a stdio server)")
	}
	if len(u.Env) > 0 && len(u.Command) == 0 {
		ps.add(field(path, "env"), "only used with command")
	}
	for _, k := range slices.Sorted(maps.Keys(u.Env)) {
		if !isEnvName(k) {
			ps.add(field(field(path, "env"), k), "not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)")
		}
	}
}

// urlProblem checks a remote upstream's URL. Plain http to another host is
// allowed only when nothing secret goes with the request: a static secret,
// the user's own IdP token or a signed identity assertion sent in clear
// could be read and replayed by anyone on the path (SPEC HD-3 applied to
// the gateway's outbound side).
func (u Upstream) urlProblem() string {
	sends := u.Credentials.Type != "" && u.Credentials.Type != "none"
	msg := urlProblem(u.URL, sends)
	if msg == msgHTTPS {
		return fmt.Sprintf("must use https because credentials (type %s) are sent with every request; "+
			"http is allowed only for a loopback host or with credentials type none", u.Credentials.Type)
	}
	return msg
}

// Resources returns the protected resources the authorization server
// issues tokens for: PublicURL+Path of every upstream without
// external_auth, in config order (RFC 8707 resource indicators).
func (c *Config) Resources() []string {
	var out []string
	for _, u := range c.Upstreams {
		if u.ExternalAuth == nil {
			out = append(out, c.PublicURL+u.Path)
		}
	}
	return out
}
