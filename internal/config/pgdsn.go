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
	if isPostgresURL(s) {
		_, err := url.Parse(s)
		return err == nil
	}
	return validKeywordDSN(s)
}

// ambiguousUserinfo reports whether the URL DSN s has an '@' or '#' that
// may not be where it seems. A password with a raw '@', '/', '?' or '#'
// ("postgres://u:p@ss@db/x", "postgres://u:12/p@db/x") parses as
// something else, and pgx, which splits it its own way, then puts pieces
// of the password into connection errors as host or database names. A
// DSN that passes is in the form sqlstore.RedactDSN trusts net/url on: no
// '#', and at most one '@', with no '/' or '?' before it.
func ambiguousUserinfo(s string) bool {
	if !isPostgresURL(s) {
		return false
	}
	_, rest, _ := strings.Cut(s, "://")
	if strings.Contains(rest, "#") || strings.Count(rest, "@") > 1 {
		return true
	}
	at := strings.IndexByte(rest, '@')
	return at >= 0 && strings.ContainsAny(rest[:at], "/?")
}

func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// pgKeywordRE finds a libpq connection keyword at the start of a
// keyword/value string or after white space (PostgreSQL manual §34.1.2).
var pgKeywordRE = regexp.MustCompile(`(?i)(^|\s)(host|hostaddr|port|dbname|user|password|passfile|sslmode|sslrootcert|service|connect_timeout|application_name)\s*=`)

// looksLikePostgresDSN reports whether a SQLite DSN is really a PostgreSQL
// one, left under the default driver because the driver line was
// forgotten: a URL (no SQLite path holds "://"), anything starting with
// "postgres", or libpq keyword/value pairs. Such a DSN usually holds a
// password, which the SQLite open error would repeat.
func looksLikePostgresDSN(s string) bool {
	return strings.Contains(s, "://") ||
		strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), "postgres") ||
		pgKeywordRE.MatchString(s)
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
