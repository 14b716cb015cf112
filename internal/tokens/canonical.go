package tokens

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/mcpgate/mcpgate/internal/ascii"
)

// ErrInvalidResource: a resource URI that CanonicalResource refuses. The
// authorization server answers it with invalid_target (RFC 8707 §2).
var ErrInvalidResource = errors.New("tokens: invalid resource URI")

// CanonicalResource returns the canonical form of a protected resource URI
// (RFC 8707 resource indicator, RFC 9068 aud). The minter stores it in aud
// and the verifier compares canonical forms, so a token minted for
// "HTTPS://MCP.example.com:443/mcp/" is accepted by the resource configured
// as "https://mcp.example.com/mcp" and by no other.
//
// Rules (RFC 3986 §6.2.2 and §6.2.3 normalisation, plus refusals):
//   - scheme http or https, lower-cased; anything else is refused;
//   - host required, ASCII, without IPv6 zone, and lower-cased; userinfo refused (it would let
//     "https://good@evil" look like "good");
//   - the scheme's default port is dropped, other ports are written in
//     decimal without leading zeros (":0443" is 443, i.e. dropped);
//   - a query or fragment, even an empty one, is refused: RFC 8707 §2 forbids
//     a fragment and we refuse queries too, so two spellings of one
//     resource can never differ by parameter order;
//   - the path is kept with its percent-encoding normalised, except that
//     trailing "/" are removed: "https://h/mcp/" is "https://h/mcp", and the
//     root ("" or "/") is the bare origin "https://h", the form the MCP
//     authorization spec recommends. Two configured resources that differ
//     only by a trailing slash therefore name one audience; config
//     validation must refuse such a pair (compare canonical forms);
//   - "." and ".." segments and an encoded "/" (%2F) are refused rather than
//     resolved: a resource URI has no reason to carry them, and resolving
//     them would let one audience alias another.
func CanonicalResource(raw string) (string, error) {
	if strings.ContainsAny(raw, "?#") {
		return "", fmt.Errorf("%w: query or fragment", ErrInvalidResource)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%w: unparsable", ErrInvalidResource)
	}
	scheme := ascii.Lower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", fmt.Errorf("%w: scheme must be http or https", ErrInvalidResource)
	}
	if u.User != nil || u.Opaque != "" {
		return "", fmt.Errorf("%w: userinfo or opaque part", ErrInvalidResource)
	}
	host, err := canonicalHost(scheme, u)
	if err != nil {
		return "", err
	}
	path, err := canonicalPath(u)
	if err != nil {
		return "", err
	}
	return scheme + "://" + host + path, nil
}

// canonicalHost lower-cases the host and drops the scheme's default port.
// The host must be ASCII and is lower-cased by ASCII rules only: Unicode
// would lower the Kelvin sign U+212A to 'k', making "mcp.\u212Aeep.example"
// an alias of the audience "mcp.keep.example". An IPv6 zone ("%25eth0")
// names an interface on the sender's machine, not a resource, and is
// refused too.
func canonicalHost(scheme string, u *url.URL) (string, error) {
	name := ascii.Lower(u.Hostname())
	if name == "" {
		return "", fmt.Errorf("%w: no host", ErrInvalidResource)
	}
	for i := 0; i < len(name); i++ {
		if name[i] >= 0x80 || name[i] == '%' {
			return "", fmt.Errorf("%w: non-ASCII host or IPv6 zone", ErrInvalidResource)
		}
	}
	if strings.Contains(name, ":") {
		name = "[" + name + "]" // IPv6 literal
	}
	p := u.Port()
	if p == "" {
		return name, nil
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%w: bad port", ErrInvalidResource)
	}
	if (scheme == "https" && n == 443) || (scheme == "http" && n == 80) {
		return name, nil
	}
	return name + ":" + strconv.Itoa(n), nil
}

// canonicalPath normalises the path's percent-encoding and trims trailing
// slashes; see CanonicalResource.
func canonicalPath(u *url.URL) (string, error) {
	if strings.Contains(strings.ToLower(u.EscapedPath()), "%2f") {
		return "", fmt.Errorf("%w: encoded slash in path", ErrInvalidResource)
	}
	for seg := range strings.SplitSeq(u.Path, "/") {
		if seg == "." || seg == ".." {
			return "", fmt.Errorf("%w: dot segment in path", ErrInvalidResource)
		}
	}
	p := strings.TrimRight(u.Path, "/")
	if p == "" {
		return "", nil
	}
	if !strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("%w: relative path", ErrInvalidResource)
	}
	// Re-escape from the decoded path so "/%6Dcp" and "/mcp" agree.
	return (&url.URL{Path: p}).EscapedPath(), nil
}
