package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// keyWalk walks the YAML node tree against the Go types to name every
// unknown key with its field path ("storage.drivr"), where the decoder's
// KnownFields check only gives a line and a Go type name. It also records
// the line of every key the file writes, so problems can be listed in file
// order.
type keyWalk struct {
	lines    map[string]int  // field path -> line of its key
	reported map[string]bool // "line:key" of each unknown key reported
	problems Problems
}

func newKeyWalk() *keyWalk {
	return &keyWalk{lines: map[string]int{}, reported: map[string]bool{}}
}

// walk visits n as a value of type t at path. Aliases are not followed: the
// decoder expands them under a limit that defends against "billion laughs"
// documents, and following them here would redo that expansion without the
// limit. An anchored node is still walked where it is defined, and the
// decoder's own KnownFields check stays the authority for the rest.
func (w *keyWalk) walk(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.AliasNode {
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		w.walk(n, t.Elem(), path)
	case reflect.Struct:
		w.mapping(n, t, path)
	case reflect.Slice:
		w.sequence(n, t.Elem(), path)
	case reflect.Map:
		w.mapValues(n, t.Elem(), path)
	}
}

func (w *keyWalk) sequence(n *yaml.Node, elem reflect.Type, path string) {
	if n.Kind != yaml.SequenceNode {
		return
	}
	for i, e := range n.Content {
		p := index(path, i)
		w.lines[p] = e.Line
		w.walk(e, elem, p)
	}
}

func (w *keyWalk) mapValues(n *yaml.Node, elem reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		p := field(path, n.Content[i].Value)
		w.lines[p] = n.Content[i].Line
		w.walk(n.Content[i+1], elem, p)
	}
}

// mapping checks each key of n against the yaml tags of struct type t.
// Non-scalar keys and type mismatches are left to the decoder, which
// reports them with their line.
func (w *keyWalk) mapping(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		return
	}
	fields := yamlFields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case k.ShortTag() == "!!merge":
			w.merge(v, t, path)
		case k.Kind != yaml.ScalarNode:
		case fields[k.Value] == nil:
			w.unknown(k, field(path, k.Value), fields)
		default:
			p := field(path, k.Value)
			w.lines[p] = k.Line
			w.walk(v, fields[k.Value], p)
		}
	}
}

// merge walks the value of a "<<" merge key: a mapping or a sequence of
// mappings whose keys land in the enclosing struct.
func (w *keyWalk) merge(v *yaml.Node, t reflect.Type, path string) {
	if v.Kind != yaml.SequenceNode {
		w.walk(v, t, path)
		return
	}
	for _, e := range v.Content {
		w.walk(e, t, path)
	}
}

func (w *keyWalk) unknown(k *yaml.Node, path string, fields map[string]reflect.Type) {
	w.reported[fmt.Sprintf("%d:%s", k.Line, k.Value)] = true
	w.lines[path] = k.Line
	msg := fmt.Sprintf("unknown key (line %d)", k.Line)
	if near := nearestKey(k.Value, fields); near != "" {
		msg += fmt.Sprintf("; did you mean %q?", near)
	}
	w.problems.add(path, msg)
}

// yamlFields maps the yaml key of each field of struct type t to its type.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	fields := make(map[string]reflect.Type, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		fields[yamlName(f)] = f.Type
	}
	return fields
}

// yamlName is the key a struct field is written under.
func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	return name
}

// nearestKey suggests the known key closest to a misspelt one, or "" when
// nothing is close: at most two edits, and fewer for short keys so that a
// stray "x" is not "corrected" into an unrelated key.
func nearestKey(key string, fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	best, bestDist := "", min(2, len(key)/3)+1
	for _, name := range names {
		if d := editDistance(key, name); d < bestDist {
			best, bestDist = name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
