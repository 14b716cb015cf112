package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// expand replaces each secret reference "${NAME}" in s by the value lookup
// gives for NAME, and returns one problem message per reference it could not
// resolve (those are left as written).
//
// The rules (SPEC section 3) are deliberately narrow, because the strings
// it sees include password hashes such as "$argon2id$v=19$..." and
// "$2b$12$...", which a shell-style expansion ($NAME, os.ExpandEnv) would
// corrupt:
//   - only "${" starts a reference; "$" followed by anything else, "$$"
//     included, is literal;
//   - "$${" is the escape for a literal "${";
//   - NAME must match [A-Za-z_][A-Za-z0-9_]*;
//   - values are inserted as they are and never expanded again.
//
// Messages give byte offsets rather than quoting s, which may be a secret.
func expand(s string, lookup func(string) (string, bool)) (string, []string) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	var problems []string
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			n, problem := reference(s, i, lookup, &b)
			if problem != "" {
				problems = append(problems, problem)
			}
			i += n
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), problems
}

// reference resolves the reference starting at s[at:] (which begins with
// "${"), writes its value (or, on failure, its text) to b, and returns how
// many bytes it used.
func reference(s string, at int, lookup func(string) (string, bool), b *strings.Builder) (int, string) {
	end := strings.IndexByte(s[at+2:], '}')
	if end < 0 {
		b.WriteString(s[at:])
		return len(s) - at, fmt.Sprintf(`unterminated "${" at byte %d (write "$${" for a literal "${")`, at)
	}
	ref := s[at : at+2+end+1]
	name := ref[2 : len(ref)-1]
	if !isEnvName(name) {
		b.WriteString(ref)
		return len(ref), fmt.Sprintf(
			`invalid variable name in "${...}" at byte %d (want [A-Za-z_][A-Za-z0-9_]*; write "$${" for a literal "${")`, at)
	}
	v, ok := lookupEnv(lookup, name)
	if !ok {
		b.WriteString(ref)
		return len(ref), fmt.Sprintf("environment variable %s is not set", name)
	}
	b.WriteString(v)
	return len(ref), ""
}

// lookupEnv calls lookup, treating a nil lookup as an empty environment so
// that a caller who passes none gets hermetic behaviour.
func lookupEnv(lookup func(string) (string, bool), name string) (string, bool) {
	if lookup == nil {
		return "", false
	}
	return lookup(name)
}

// isEnvName reports whether s is a portable environment variable name
// (POSIX.1-2017 §8.1: letters, digits and '_', not starting with a digit).
func isEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' && (c < '0' || c > '9') && (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

// walkStrings calls fn on every string in v (string fields, slice elements
// and map values, recursively) with its field path, and stores what fn
// returns. Map keys are visited in sorted order so problems come out in the
// same order on every run. The config types hold no maps with non-string
// values.
func walkStrings(v reflect.Value, path string, fn func(path, s string) string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(fn(path, v.String()))
	case reflect.Pointer:
		if !v.IsNil() {
			walkStrings(v.Elem(), path, fn)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			walkStrings(v.Field(i), field(path, yamlName(v.Type().Field(i))), fn)
		}
	case reflect.Slice:
		for i := range v.Len() {
			walkStrings(v.Index(i), index(path, i), fn)
		}
	case reflect.Map:
		walkMapStrings(v, path, fn)
	}
}

func walkMapStrings(v reflect.Value, path string, fn func(path, s string) string) {
	keys := v.MapKeys()
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	for _, k := range keys {
		s := fn(field(path, k.String()), v.MapIndex(k).String())
		v.SetMapIndex(k, reflect.ValueOf(s).Convert(v.Type().Elem()))
	}
}
