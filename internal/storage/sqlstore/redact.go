package sqlstore

import (
	"net/url"
	"regexp"
	"strings"
)

// redacted replaces a password, as net/url's URL.Redacted does.
const redacted = "xxxxx"

// RedactDSN returns dsn with every password replaced by "xxxxx", so it can
// be logged and put in errors. It understands URLs
// ("postgres://user:pass@host/db?sslpassword=...") and keyword/value strings
// ("host=h password='p w' user=u"); a SQLite path comes back unchanged.
// When a URL is too malformed to parse, it masks everything that could be a
// password rather than risk leaving one.
func RedactDSN(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 && !strings.ContainsAny(dsn[:i], " ='") {
		return redactURL(dsn, i+len("://"))
	}
	return kvPassword.ReplaceAllString(dsn, "${1}"+redacted)
}

// kvPassword matches password and sslpassword in a keyword/value DSN. As
// libpq and pgx read it, the value is a single-quoted string or runs to the
// next whitespace, and in both a backslash escapes the next character.
var kvPassword = regexp.MustCompile(`(?is)(\b(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'?|(?:[^\s\\]|\\.)*\\?)`)

// redactURL masks the userinfo password and password query parameters of a
// URL DSN; authority is the index just past "://".
func redactURL(dsn string, authority int) string {
	// net/url's answer is trusted only when the userinfo it found is the
	// only '@' there is and there is no '#'. Otherwise a password holding
	// '/', '?', '#' or '@' (which users do not always percent-encode) can
	// parse "successfully" as a host, path or fragment, and leak.
	if u, err := url.Parse(dsn); err == nil && !strings.Contains(dsn, "#") &&
		strings.Count(dsn, "@") == map[bool]int{true: 1, false: 0}[u.User != nil] {
		u.RawQuery = redactQuery(u.RawQuery)
		return u.Redacted()
	}
	// Everything between "://" and the last '@' is userinfo as far as we
	// can tell: keep the user, mask the rest. An '@' in the query makes
	// this mask more than the password, never less.
	rest := dsn[authority:]
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return dsn[:authority] + redactQuery(rest)
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if hasPass {
		user += ":" + redacted
	}
	return dsn[:authority] + user + "@" + redactQuery(rest[at+1:])
}

// redactQuery masks password and sslpassword parameters in s, which is a
// raw query or anything containing one after a '?'.
func redactQuery(s string) string {
	prefix, query, ok := strings.Cut(s, "?")
	if !ok {
		prefix, query = "", s
	}
	params := strings.Split(query, "&")
	for i, p := range params {
		k, _, _ := strings.Cut(p, "=")
		if k, err := url.QueryUnescape(k); err == nil && isPasswordKey(k) {
			params[i] = k + "=" + redacted
		}
	}
	if ok {
		return prefix + "?" + strings.Join(params, "&")
	}
	return strings.Join(params, "&")
}

func isPasswordKey(k string) bool {
	k = strings.ToLower(k)
	return k == "password" || k == "sslpassword"
}
