package login

import (
	"reflect"
	"strings"
	"testing"
)

func TestLinkNext(t *testing.T) {
	for _, c := range []struct {
		header, want string
		bad          bool
	}{
		{header: ``},
		{header: `<https://api.example/user/orgs?page=2>; rel="next", <https://api.example/user/orgs?page=5>; rel="last"`, want: "https://api.example/user/orgs?page=2"},
		{header: `<https://a/?page=1>; rel="prev first", <https://a/?page=3>; rel="NEXT"`, want: "https://a/?page=3"},
		{header: `<https://a/?page=3>;rel=next`, want: "https://a/?page=3"},
		{header: `<https://a/?page=9>; rel="last"`},
		// Only the first rel parameter counts (RFC 8288 §3.3).
		{header: `<https://a/1>; rel="last"; rel="next"`},
		// A target hidden in a quoted parameter is not a link.
		{header: `<https://a/1>; title="<https://evil/>; rel=\"next\"", <https://a/2>; rel=next`, want: "https://a/2"},
		{header: `<https://a/1>; rel="next`, bad: true},
		{header: `<https://a/1; rel="next"`, bad: true},
		{header: `https://a/1; rel="next"`, bad: true},
		{header: `<https://a/1> rel="next"`, bad: true},
		{header: `<https://a/1>; ="next"`, bad: true},
		{header: `<https://a/1>; rel=`, bad: true},
		{header: "<https://a/1>; rel=\"ne\x00xt\"", bad: true},
		{header: `<https://a/ 1>; rel=next`, bad: true},
	} {
		got, err := linkNext(c.header)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("linkNext(%q) = %q, %v; want %q, bad=%v", c.header, got, err, c.want, c.bad)
		}
	}
}

// formatLinks writes links back as a header value.
func formatLinks(ls []link) string {
	var parts []string
	for _, l := range ls {
		s := "<" + l.target + ">"
		if l.rels != nil {
			s += `; rel="` + quoteEscape(strings.Join(l.rels, " ")) + `"`
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func quoteEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// FuzzParseLinks: the Link header comes from the API's responses. Oracle:
// every parsed target stands in the input between '<' and '>', and
// writing the parsed links back out parses to the same links.
func FuzzParseLinks(f *testing.F) {
	for _, s := range []string{
		`<https://api.example/user/orgs?page=2>; rel="next", <https://api.example/user/orgs?page=5>; rel="last"`,
		`<https://a/1>; title="<https://evil/>; rel=\"next\"", <https://a/2>; rel=next`,
		`<https://a/1>; rel="last"; rel="next"`,
		`<>; rel=""`,
		`, ,<x>;a;b=c;rel="\\ \""`,
		`<https://a/1>; rel="next`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		links, err := parseLinks(s)
		if err != nil {
			return
		}
		for _, l := range links {
			if !strings.Contains(s, "<"+l.target+">") {
				t.Fatalf("target %q is not in the input", l.target)
			}
		}
		again, err := parseLinks(formatLinks(links))
		if err != nil {
			t.Fatalf("re-formatted %q does not parse: %v", formatLinks(links), err)
		}
		if len(links) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(again, links) {
			t.Fatalf("round trip changed %#v into %#v", links, again)
		}
	})
}

// FuzzLinkNextBuilt builds headers whose next link is known: decoy links
// and parameters (whose quoted values may hold anything, including text
// that looks like a next link) surround it. linkNext must find exactly it.
func FuzzLinkNextBuilt(f *testing.F) {
	f.Add("https://api.example/user/teams?page=2", "https://api.example/x?page=9", `<https://evil/>; rel="next"`, uint8(1))
	f.Add("/p?a=1", "", `\"`, uint8(0))
	f.Fuzz(func(t *testing.T, next, decoy, title string, pos uint8) {
		clean := func(s string) bool { return !strings.ContainsAny(s, "<> \t\r\n") }
		if !clean(next) || !clean(decoy) || strings.ContainsFunc(title, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return
		}
		entries := []string{
			"<" + decoy + `>; rel="last"; title="` + quoteEscape(title) + `"`,
			"<" + decoy + `>; rel="prev first"`,
		}
		nextEntry := "<" + next + `>; title="` + quoteEscape(title) + `"; rel="Next"; rel=last`
		at := int(pos) % (len(entries) + 1)
		entries = append(entries[:at], append([]string{nextEntry}, entries[at:]...)...)
		header := strings.Join(entries, " ,\t")
		got, err := linkNext(header)
		if err != nil || got != next {
			t.Fatalf("linkNext(%q) = %q, %v; want %q", header, got, err, next)
		}
	})
}
