package clientmeta

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCacheTTLGrammar: the max-age forms RFC 9111 does not allow are
// stale, an overlong one is the largest age, and conflicting ones are
// stale.
func TestCacheTTLGrammar(t *testing.T) {
	for _, tt := range []struct {
		header []string
		want   time.Duration
	}{
		{[]string{"max-age=+7200"}, MinTTL},
		{[]string{`max-age=""7200""`}, MinTTL},
		{[]string{`max-age="7200`}, MinTTL},
		{[]string{"max-age=7200", "max-age=3600"}, MinTTL},
		{[]string{"max-age=7200, max-age=7200"}, 2 * time.Hour},
		{[]string{"\u00a0no-store"}, DefaultTTL}, // not OWS: an unknown directive
		{[]string{"\tno-store "}, 0},
		{[]string{"max-age=99999999999999999999999"}, MaxTTL},
	} {
		if got := cacheTTL(http.Header{"Cache-Control": tt.header}); got != tt.want {
			t.Errorf("cacheTTL(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

var (
	// (?s): a value is any bytes, newlines included (the fetcher is handed
	// whatever the header holds; an invalid max-age is stale, not ignored).
	directiveRE = regexp.MustCompile(`(?s)\A[ \t]*([!#$%&'*+.^_` + "`" + `|~0-9A-Za-z-]+)(?:=(.*?))?[ \t]*\z`)
	deltaRE     = regexp.MustCompile(`\A(?:([0-9]+)|"([0-9]+)")\z`)
)

// referenceTTL is cacheTTL written from RFC 9111 with regular expressions:
// no-store wins; max-age is delta-seconds, bare or quoted, saturating;
// disagreeing max-ages or no-cache are stale; then the clamp.
func referenceTTL(lines []string) time.Duration {
	var ages []string
	noCache := false
	for _, line := range lines {
		for _, d := range strings.Split(line, ",") {
			m := directiveRE.FindStringSubmatch(d)
			if m == nil {
				continue
			}
			switch strings.ToLower(m[1]) {
			case "no-store":
				return 0
			case "no-cache":
				noCache = true
			case "max-age":
				ages = append(ages, m[2])
			}
		}
	}
	ttl := DefaultTTL
	for i, a := range ages {
		if i > 0 && a != ages[0] {
			noCache = true
		}
		ttl = 0
		if m := deltaRE.FindStringSubmatch(a); m != nil {
			digits := strings.TrimLeft(m[1]+m[2], "0")
			if len(digits) > 6 {
				ttl = MaxTTL
			} else {
				var n time.Duration
				for _, c := range digits {
					n = n*10 + time.Duration(c-'0')
				}
				ttl = min(n*time.Second, MaxTTL)
			}
		}
	}
	if noCache {
		ttl = 0
	}
	return min(max(ttl, MinTTL), MaxTTL)
}

// FuzzCacheTTL checks cacheTTL against referenceTTL for any two
// Cache-Control lines of a CIMD host's answer.
func FuzzCacheTTL(f *testing.F) {
	for _, s := range []string{"max-age=600", "public, MAX-AGE=7200", `max-age="600"`, "max-age=+5", "max-age=99999999999999999999", "no-cache", "\u00a0no-store", "max-age=1, max-age=2"} {
		f.Add(s, "")
	}
	f.Add("max-age=7200", "no-store")
	f.Fuzz(func(t *testing.T, a, b string) {
		lines := []string{a, b}
		if got, want := cacheTTL(http.Header{"Cache-Control": lines}), referenceTTL(lines); got != want {
			t.Fatalf("cacheTTL(%q) = %v, reference %v", lines, got, want)
		}
	})
}
