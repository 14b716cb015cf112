package jsonrpc

import (
	"bytes"
	"errors"
)

// MaxDepth is the deepest nesting of objects and arrays Inspect accepts.
// MCP messages need a handful of levels; a deep body only costs the
// gateway and the upstream stack and time.
const MaxDepth = 64

// role says which object a key belongs to, because the case-variant rule
// applies to the levels a decision is taken on.
type role int

const (
	roleOther   role = iota
	roleMessage      // a JSON-RPC message object (top level or batch element)
	roleParams       // the params object of a message
)

// Slots of the members a decision reads, in the order of exactKeys.
const (
	slotJSONRPC = iota
	slotMethod
	slotID
	slotParams
	slotResult
	slotError
	slotName // params members from here on
	slotURI
	slotArguments
	numSlots
)

// exactKeys lists the keys whose case variants are refused, in slot order:
// message members, then params members. Go's encoding/json matches struct
// fields case-insensitively (with Unicode folding, so "paramſ" matches
// "params") and keeps the last duplicate, while an upstream in another
// language may match exactly and keep the first. Refusing any variant means
// every parser sees one spelling. result and error decide the message kind;
// arguments is hashed for audit.
var exactKeys = [numSlots][]byte{
	[]byte("jsonrpc"), []byte("method"), []byte("id"), []byte("params"), []byte("result"), []byte("error"),
	[]byte("name"), []byte("uri"), []byte("arguments"),
}

// span is where a member's value lies in the body; the zero span means
// absent (no value of an object member starts at offset 0).
type span struct{ start, end int }

// fields locates, for one message, the values of the members in exactKeys.
type fields [numSlots]span

// errSyntax reports bytes that are not JSON; Inspect answers it as a parse
// error.
var errSyntax = errors.New("jsonrpc: syntax error")

// An object's keys are checked for duplicates by comparison while it has
// fewer than maxLinearKeys and the open objects together fewer than
// maxOpenKeys; past that a map takes over, so a huge object stays linear.
const (
	maxLinearKeys = 16
	maxOpenKeys   = 32
)

// keyRef locates a key's value: in the body, or in scanner.buf when the
// key held an escape. It holds no pointer, so the scanner and its key
// stack stay on Inspect's stack.
type keyRef struct {
	start, end int
	unescaped  bool
}

// scanner is the strict pass over a body: one walk, byte by byte, that
// accepts exactly the JSON encoding/json accepts and refuses what parsers
// may disagree on: duplicate keys at any depth (compared after unescaping,
// as every decoder compares them), case variants of the keys in exactKeys
// on the message and params levels, and nesting past MaxDepth. It records
// where the members in exactKeys lie, so no second decode is needed.
type scanner struct {
	body  []byte
	pos   int
	first fields   // the message, or a batch's first element
	rest  []fields // a batch's other elements
	nmsg  int
	keys  [maxOpenKeys]keyRef // keys of the open objects, innermost last
	nkeys int
	buf   []byte // unescaped keys
}

// msg returns the fields of message i.
func (s *scanner) msg(i int) *fields {
	if i == 0 {
		return &s.first
	}
	return &s.rest[i-1]
}

func (s *scanner) addMessage() int {
	if s.nmsg > 0 {
		s.rest = append(s.rest, fields{})
	}
	s.nmsg++
	return s.nmsg - 1
}

// scan walks the body, which is valid UTF-8, and reports whether it is a
// batch. A refusal ends the walk where it is found; errSyntax only means
// the bytes so far are not JSON.
func (s *scanner) scan() (batch bool, err error) {
	switch s.skipSpace() {
	case '{':
		err = s.object(roleMessage, 1, s.addMessage())
	case '[':
		batch = true
		err = s.batch()
	default:
		return false, invalidRequest("message must be an object or a batch array")
	}
	if err != nil {
		return batch, err
	}
	if s.skipSpace(); s.pos != len(s.body) {
		return batch, errSyntax
	}
	return batch, nil
}

func (s *scanner) batch() error {
	s.pos++ // [
	c := s.skipSpace()
	if c == ']' {
		s.pos++
		return invalidRequest("empty batch")
	}
	for {
		if c != '{' {
			return invalidRequest("batch element must be an object")
		}
		if err := s.object(roleMessage, 2, s.addMessage()); err != nil {
			return err
		}
		switch s.skipSpace() {
		case ',':
			s.pos++
			c = s.skipSpace()
		case ']':
			s.pos++
			return nil
		default:
			return errSyntax
		}
	}
}

// object consumes the object at s.pos, which is at depth and plays role r
// in message msg.
func (s *scanner) object(r role, depth, msg int) error {
	if depth > MaxDepth {
		return invalidRequest("nesting too deep")
	}
	s.pos++ // {
	base := s.nkeys
	var seen map[string]struct{}
	c := s.skipSpace()
	if c == '}' {
		s.pos++
		return nil
	}
	for {
		if c != '"' {
			return errSyntax
		}
		ref, err := s.key()
		if err != nil {
			return err
		}
		key := s.keyBytes(ref)
		if seen, err = s.unique(key, ref, base, seen); err != nil {
			return err
		}
		slot, err := slotOf(r, key)
		if err != nil {
			return err
		}
		if s.skipSpace() != ':' {
			return errSyntax
		}
		s.pos++
		s.skipSpace()
		start, child := s.pos, roleOther
		if slot == slotParams {
			child = roleParams
		}
		if err := s.value(child, depth, msg); err != nil {
			return err
		}
		if slot >= 0 {
			s.msg(msg)[slot] = span{start, s.pos}
		}
		switch s.skipSpace() {
		case ',':
			s.pos++
			c = s.skipSpace()
		case '}':
			s.pos++
			s.nkeys = base
			return nil
		default:
			return errSyntax
		}
	}
}

// unique refuses key when the object whose keys start at s.keys[base] (or
// are in seen, once it is large) already has it.
func (s *scanner) unique(key []byte, ref keyRef, base int, seen map[string]struct{}) (map[string]struct{}, error) {
	if seen != nil {
		if _, dup := seen[string(key)]; dup {
			return nil, invalidRequest("duplicate key")
		}
		seen[string(key)] = struct{}{}
		return seen, nil
	}
	for _, k := range s.keys[base:s.nkeys] {
		if bytes.Equal(s.keyBytes(k), key) {
			return nil, invalidRequest("duplicate key")
		}
	}
	if s.nkeys-base < maxLinearKeys && s.nkeys < maxOpenKeys {
		s.keys[s.nkeys] = ref
		s.nkeys++
		return nil, nil
	}
	seen = make(map[string]struct{}, 2*maxLinearKeys)
	for _, k := range s.keys[base:s.nkeys] {
		seen[string(s.keyBytes(k))] = struct{}{}
	}
	seen[string(key)] = struct{}{}
	s.nkeys = base
	return seen, nil
}

func (s *scanner) keyBytes(k keyRef) []byte {
	if k.unescaped {
		return s.buf[k.start:k.end]
	}
	return s.body[k.start:k.end]
}

// slotOf returns the slot key fills in an object playing role r, or -1,
// and refuses a key that folds to a watched key without being it.
func slotOf(r role, key []byte) (int, error) {
	first, last := 0, 0
	switch r {
	case roleMessage:
		first, last = slotJSONRPC, slotName
	case roleParams:
		first, last = slotName, numSlots
	default:
		return -1, nil
	}
	for slot := first; slot < last; slot++ {
		want := exactKeys[slot]
		if bytes.Equal(key, want) {
			return slot, nil
		}
		if bytes.EqualFold(key, want) {
			return -1, invalidRequest("key " + string(want) + " spelled in another case")
		}
	}
	return -1, nil
}

// value consumes the value at s.pos inside a container at depth.
func (s *scanner) value(r role, depth, msg int) error {
	if s.pos >= len(s.body) {
		return errSyntax
	}
	switch s.body[s.pos] {
	case '{':
		return s.object(r, depth+1, msg)
	case '[':
		return s.array(depth + 1)
	case '"':
		_, err := s.str()
		return err
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	}
	return s.number()
}

func (s *scanner) array(depth int) error {
	if depth > MaxDepth {
		return invalidRequest("nesting too deep")
	}
	s.pos++ // [
	if s.skipSpace() == ']' {
		s.pos++
		return nil
	}
	for {
		if err := s.value(roleOther, depth, -1); err != nil {
			return err
		}
		switch s.skipSpace() {
		case ',':
			s.pos++
			s.skipSpace()
		case ']':
			s.pos++
			return nil
		default:
			return errSyntax
		}
	}
}

// key consumes the string at s.pos and locates its value: the bytes
// between the quotes, or their unescaped copy when they hold an escape.
func (s *scanner) key() (keyRef, error) {
	start := s.pos
	escaped, err := s.str()
	if err != nil {
		return keyRef{}, err
	}
	if !escaped {
		return keyRef{start: start + 1, end: s.pos - 1}, nil
	}
	n := len(s.buf)
	s.buf = appendUnquoted(s.buf, s.body[start:s.pos])
	return keyRef{start: n, end: len(s.buf), unescaped: true}, nil
}

// skipSpace skips RFC 8259 §2 white space and returns the next byte, or 0
// at the end of the body (0 is never valid outside a string).
func (s *scanner) skipSpace() byte {
	for s.pos < len(s.body) {
		switch c := s.body[s.pos]; c {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return c
		}
	}
	return 0
}

func (s *scanner) literal(want string) error {
	if !bytes.HasPrefix(s.body[s.pos:], []byte(want)) {
		return errSyntax
	}
	s.pos += len(want)
	return nil
}
