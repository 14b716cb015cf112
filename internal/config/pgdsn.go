package config

import (
	"net/url"
	"regexp"
	"strings"
)

// validPostgresDSN loosely checks the two connection-string forms libpq
// accepts (PostgreSQL manual §34.1.1): a postgres:// or postgresql:// URL,
// or space-separated keyword=value pairs whose values may be single-quoted.
// It catches a wrong scheme or a garbled string at load time instead of at
// the first connection; the driver does the full parse.
func validPostgresDSN(s string) bool {
	if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
		_, err := url.Parse(s)
		return err == nil
	}
	return validKeywordDSN(s)
}

var dsnKeywordRE = regexp.MustCompile(`^[a-z_]+$`)

const dsnSpace = " \t\n\r"

func validKeywordDSN(s string) bool {
	s = strings.TrimLeft(s, dsnSpace)
	if s == "" {
		return false
	}
	for s != "" {
		key, rest, ok := strings.Cut(s, "=")
		if !ok || !dsnKeywordRE.MatchString(strings.TrimRight(key, dsnSpace)) {
			return false
		}
		if s, ok = skipDSNValue(strings.TrimLeft(rest, dsnSpace)); !ok {
			return false
		}
		s = strings.TrimLeft(s, dsnSpace)
	}
	return true
}

// skipDSNValue returns what follows the value at the start of s: a quoted
// value ends at its closing quote, a bare one at white space; a backslash
// escapes the next byte in both.
func skipDSNValue(s string) (string, bool) {
	quoted := strings.HasPrefix(s, "'")
	start := 0
	if quoted {
		start = 1
	}
	for i := start; i < len(s); i++ {
		switch {
		case s[i] == '\\':
			i++
		case quoted && s[i] == '\'':
			return s[i+1:], true
		case !quoted && strings.IndexByte(dsnSpace, s[i]) >= 0:
			return s[i:], true
		}
	}
	return "", !quoted
}
