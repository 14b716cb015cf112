package config

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Problem is one thing wrong with a configuration. Path names the field in
// YAML terms ("upstreams[2].path"); it is empty for problems that belong to
// no field, such as a YAML syntax error, whose Message then starts with
// "line N:".
type Problem struct {
	Path    string
	Message string
}

// String renders the problem as "path: message".
func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// Problems is every problem found in a configuration. It is an error so a
// whole failed load can be returned at once and printed by
// `mcpgate config check`, one problem per line.
type Problems []Problem

var _ error = Problems(nil)

// Error prints one problem per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// add records a problem at path. Control characters in the message (the
// YAML library quotes offending values raw) are escaped, so that Error
// really prints one problem per line and a crafted file cannot forge lines
// in the output of `mcpgate config check` or in logs.
func (ps *Problems) add(path, message string) {
	*ps = append(*ps, Problem{Path: path, Message: escapeControls(message)})
}

func escapeControls(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// err returns ps as an error, or a true nil when there is nothing wrong
// (a nil Problems inside an error interface would not compare equal to nil).
func (ps Problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// plainKeyRE matches keys written bare in a path; any other key (one from
// an env map or an unknown key) is quoted, so a key holding a newline or a
// '.' can neither forge a problem line nor look like a deeper path.
var plainKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// field joins a parent path and a YAML key.
func field(parent, key string) string {
	if !plainKeyRE.MatchString(key) {
		key = strconv.Quote(key)
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// index joins a parent path and a sequence index.
func index(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

// parentPath strips the last ".key" or "[i]" from a path ("" at the top).
func parentPath(path string) string {
	cut := strings.LastIndexAny(path, ".[")
	if cut < 0 {
		return ""
	}
	return path[:cut]
}

var lineRE = regexp.MustCompile(`^line (\d+):`)

// sortByLine orders problems as their fields appear in the file. lines maps
// each path written in the file to its line; a problem on a field the file
// does not mention (a missing required key, a default) takes the line of its
// nearest written ancestor, and path-less problems use the "line N:" their
// message starts with. The sort is stable, so problems on one line keep the
// order the checks found them in.
func (ps Problems) sortByLine(lines map[string]int) {
	type lined struct {
		line int
		p    Problem
	}
	all := make([]lined, len(ps))
	for i, p := range ps {
		all[i] = lined{problemLine(p, lines), p}
	}
	slices.SortStableFunc(all, func(a, b lined) int { return cmp.Compare(a.line, b.line) })
	for i, l := range all {
		ps[i] = l.p
	}
}

func problemLine(p Problem, lines map[string]int) int {
	if m := lineRE.FindStringSubmatch(p.Message); p.Path == "" && m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	for path := p.Path; path != ""; path = parentPath(path) {
		if n, ok := lines[path]; ok {
			return n
		}
	}
	return 0
}
