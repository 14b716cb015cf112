package login

import (
	"errors"
	"strings"
)

// link is one link-value of a Link header (RFC 8288 §3): its target and
// its relation types. Other parameters are read and dropped.
type link struct {
	target string
	rels   []string
}

var errBadLink = errors.New("malformed Link header")

// maxLinks bounds the link-values read from one header; GitHub sends at
// most four (first, prev, next, last).
const maxLinks = 32

// parseLinks parses a Link header value (RFC 8288 §3):
//
//	Link       = #link-value
//	link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
//	link-param = token BWS [ BWS "=" BWS ( token / quoted-string ) ]
//
// The header comes from the network, so a malformed one is an error, never
// a guess: a parser that resynchronised on the next '<' could be steered to
// a target an attacker placed inside a quoted parameter.
func parseLinks(s string) ([]link, error) {
	var out []link
	p := linkParser{s: s}
	for {
		p.skipSpaceAndCommas()
		if p.done() {
			return out, nil
		}
		if len(out) == maxLinks {
			return nil, errBadLink
		}
		l, err := p.linkValue()
		if err != nil {
			return nil, err
		}
		out = append(out, l)
		p.skipSpace()
		if !p.done() && !p.eat(',') {
			return nil, errBadLink
		}
	}
}

// linkNext returns the target of the link with relation "next" (RFC 8288
// §3.3: relation types compare case-insensitively), or "" when there is
// none.
func linkNext(header string) (string, error) {
	links, err := parseLinks(header)
	if err != nil {
		return "", err
	}
	for _, l := range links {
		for _, r := range l.rels {
			if strings.EqualFold(r, "next") {
				return l.target, nil
			}
		}
	}
	return "", nil
}

type linkParser struct {
	s string
	i int
}

func (p *linkParser) done() bool { return p.i >= len(p.s) }

func (p *linkParser) eat(c byte) bool {
	if !p.done() && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *linkParser) skipSpace() {
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *linkParser) skipSpaceAndCommas() {
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == ',') {
		p.i++
	}
}

func (p *linkParser) linkValue() (link, error) {
	if !p.eat('<') {
		return link{}, errBadLink
	}
	end := strings.IndexByte(p.s[p.i:], '>')
	if end < 0 {
		return link{}, errBadLink
	}
	l := link{target: p.s[p.i : p.i+end]}
	if strings.ContainsAny(l.target, "< \t\r\n") {
		return link{}, errBadLink
	}
	p.i += end + 1
	for {
		p.skipSpace()
		if !p.eat(';') {
			return l, nil
		}
		p.skipSpace()
		name, value, err := p.param()
		if err != nil {
			return link{}, err
		}
		// RFC 8288 §3.3: only the first rel parameter counts.
		if strings.EqualFold(name, "rel") && l.rels == nil {
			l.rels = strings.Fields(value)
			if l.rels == nil {
				l.rels = []string{}
			}
		}
	}
}

func (p *linkParser) param() (name, value string, err error) {
	name = p.token()
	if name == "" {
		return "", "", errBadLink
	}
	p.skipSpace()
	if !p.eat('=') {
		return name, "", nil
	}
	p.skipSpace()
	if !p.done() && p.s[p.i] == '"' {
		value, err = p.quoted()
		return name, value, err
	}
	value = p.token()
	if value == "" {
		return "", "", errBadLink
	}
	return name, value, nil
}

// token reads an RFC 9110 §5.6.2 token.
func (p *linkParser) token() string {
	start := p.i
	for !p.done() && isTokenChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// quoted reads an RFC 9110 §5.6.4 quoted-string, undoing its escapes.
func (p *linkParser) quoted() (string, error) {
	p.i++ // the opening quote
	var b strings.Builder
	for !p.done() {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '"':
			return b.String(), nil
		case c == '\\':
			if p.done() || !isQuotedChar(p.s[p.i]) {
				return "", errBadLink
			}
			b.WriteByte(p.s[p.i])
			p.i++
		case isQuotedChar(c):
			b.WriteByte(c)
		default:
			return "", errBadLink
		}
	}
	return "", errBadLink
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isQuotedChar: HTAB, SP, VCHAR and obs-text; no other control bytes.
func isQuotedChar(c byte) bool {
	return c == '\t' || (c >= 0x20 && c != 0x7f)
}
