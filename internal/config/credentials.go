package config

import (
	"fmt"
	"net/textproto"
	"regexp"
	"slices"
	"strings"
)

// check validates what the gateway sends upstream (SPEC PX-8). providers
// maps identity provider IDs to their types; external is set when the
// route takes tokens from an external AS.
func (c Credentials) check(ps *Problems, at string, providers map[string]string, external bool) {
	switch c.Type {
	case "none", "identity_assertion":
	case "static":
		if c.Value == "" && c.ValueFile == "" {
			ps.add(field(at, "value"), "required for type static (or value_file)")
		}
	case "user_token":
		c.checkUserToken(ps, at, providers, external)
	case "":
		ps.add(field(at, "type"), "required (none, static, user_token or identity_assertion)")
	default:
		ps.add(field(at, "type"), fmt.Sprintf("unknown type %q (want none, static, user_token or identity_assertion)", c.Type))
	}
	c.checkUnused(ps, at)
	c.checkHeader(ps, at)
	// A CR or LF in a header value would let the config inject headers
	// (RFC 9110 §5.5 forbids them in field values).
	if strings.ContainsAny(c.Value, "\r\n\x00") {
		ps.add(field(at, "value"), "must not contain CR, LF or NUL")
	}
}

// checkUserToken: the user's own IdP token comes from an oidc or github
// login through mcpgate (SPEC ID-5), which a local provider or a route
// whose users log in at an external AS cannot supply.
func (c Credentials) checkUserToken(ps *Problems, at string, providers map[string]string, external bool) {
	typ, ok := providers[c.Provider]
	switch {
	case c.Provider == "":
		ps.add(field(at, "provider"), "required for type user_token")
	case !ok:
		ps.add(field(at, "provider"), fmt.Sprintf("no identity provider %q", c.Provider))
	case typ == "local":
		ps.add(field(at, "provider"), fmt.Sprintf("%q is a local provider, which has no upstream token", c.Provider))
	}
	if external {
		ps.add(field(at, "type"), "user_token needs users who logged in through mcpgate; not available with external_auth")
	}
}

// checkUnused refuses fields the type ignores, so a credential is never
// configured and silently not sent.
func (c Credentials) checkUnused(ps *Problems, at string) {
	if c.Type != "static" && c.Value != "" {
		ps.add(field(at, "value"), "used only by type static")
	}
	if c.Type != "static" && c.ValueFile != "" {
		ps.add(field(at, "value_file"), "used only by type static")
	}
	if c.Type != "user_token" && c.Provider != "" {
		ps.add(field(at, "provider"), "used only by type user_token")
	}
}

// headerNameRE is an RFC 9110 §5.6.2 token.
var headerNameRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// hopHeaders frame or route the message; a credential there would corrupt
// or smuggle requests (RFC 9110 §7.6.1, RFC 9112 §6).
var hopHeaders = []string{
	"Host", "Connection", "Content-Length", "Transfer-Encoding", "Te", "Trailer",
	"Upgrade", "Keep-Alive", "Proxy-Connection",
}

func (c Credentials) checkHeader(ps *Problems, at string) {
	if c.Header == "" {
		ps.add(field(at, "header"), "required")
		return
	}
	checkHeaderName(ps, field(at, "header"), c.Header)
}

// checkHeaderName refuses a header the gateway could not set safely: an
// invalid name (header injection), or one that frames or routes the
// request.
func checkHeaderName(ps *Problems, at, name string) {
	h := textproto.CanonicalMIMEHeaderKey(name)
	switch {
	case !headerNameRE.MatchString(name):
		ps.add(at, fmt.Sprintf("%q is not a valid header name", name))
	case strings.Contains(name, "_"):
		// CGI-style servers (nginx, WSGI, Rack, PHP) read X_User and
		// X-User as one variable: a client could send the other spelling.
		ps.add(at, fmt.Sprintf("%q: use '-' instead of '_' (servers read both as the same header)", name))
	case slices.Contains(hopHeaders, h):
		ps.add(at, fmt.Sprintf("%q frames or routes the request and cannot carry a credential", name))
	}
}

// check validates identity headers: each a settable header, distinct from
// each other and from the credential header (one would overwrite the
// other), and never a header the MCP transport itself uses.
func (ih IdentityHeaders) check(ps *Problems, at, credentialHeader string) {
	seen := map[string]string{textproto.CanonicalMIMEHeaderKey(credentialHeader): "credentials.header"}
	for _, f := range []struct{ key, name string }{{"subject", ih.Subject}, {"email", ih.Email}, {"groups", ih.Groups}} {
		if f.name == "" {
			continue
		}
		checkHeaderName(ps, field(at, f.key), f.name)
		h := textproto.CanonicalMIMEHeaderKey(f.name)
		switch {
		case strings.HasPrefix(h, "Mcp-") || h == "Last-Event-Id" || h == "Cookie" || h == "Forwarded" || strings.HasPrefix(h, "X-Forwarded-"):
			ps.add(field(at, f.key), fmt.Sprintf("%q is used by the MCP transport or the proxy itself", f.name))
		case seen[h] != "":
			ps.add(field(at, f.key), fmt.Sprintf("%q is already used by %s", f.name, seen[h]))
		default:
			seen[h] = f.key
		}
	}
}
