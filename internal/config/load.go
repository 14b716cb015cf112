package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads and parses the configuration file at path. Relative paths
// (*_file twins, a sqlite dsn, tls files) are resolved against the file's
// directory. env looks up the variables that ${NAME} references name
// (os.LookupEnv in production; nil means none is set). The error, when
// there is one, is Problems listing everything wrong with the file.
func Load(path string, env func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Problems{{Message: fmt.Sprintf("cannot read %q: %s", path, reason(err))}}
	}
	return Parse(data, filepath.Dir(path), env)
}

// Parse decodes a configuration strictly (unknown keys, several documents
// and an empty file are refused), resolves ${NAME} references and *_file
// twins (relative to baseDir), applies defaults, validates, makes a
// relative sqlite dsn and the tls files absolute (against baseDir) and
// checks that the certificate and key load. It returns either a valid
// Config or Problems naming every problem found, in file order.
//
// Problems that make the rest meaningless stop early: YAML syntax errors,
// and type errors (the decoder leaves such a field, or a mapping with a
// duplicate key, empty, which would only produce misleading "required"
// problems). Unknown keys do not stop it.
func Parse(data []byte, baseDir string, env func(string) (string, bool)) (*Config, error) {
	p := &parser{baseDir: baseDir, env: env, failed: map[string]bool{}, renames: map[string]string{}}
	if cfg := p.decode(data); cfg != nil {
		p.resolve(cfg)
		cfg.ApplyDefaults()
		p.addValidation(cfg.Validate())
		p.resolvePaths(cfg)
		if len(p.problems) == 0 {
			return cfg, nil
		}
	}
	p.problems.sortByLine(p.lines)
	return nil, p.problems
}

// parser carries one Parse call's state.
type parser struct {
	baseDir  string
	env      func(string) (string, bool)
	problems Problems
	lines    map[string]int // field path -> line, for file order
	// failed holds the paths whose value could not be resolved; Validate's
	// verdict on what is left there ("required") would only be noise.
	failed map[string]bool
	// renames maps a value's path to its *_file twin's path when the value
	// came from a file, so problems name the key the operator wrote.
	renames map[string]string
}

// decode returns the decoded Config, or nil when nothing further can be
// checked.
func (p *parser) decode(data []byte) *Config {
	root := p.document(data)
	if root == nil {
		return nil
	}
	w := newKeyWalk()
	w.walk(root, reflect.TypeFor[Config](), "")
	p.lines = w.lines
	p.problems = append(p.problems, w.problems...)

	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(&cfg)
	var te *yaml.TypeError
	switch {
	case errors.As(err, &te):
		if p.typeErrors(te, w.reported) {
			return nil
		}
	case err != nil:
		p.problems.add("", yamlMessage(err))
		return nil
	}
	return &cfg
}

// document parses data as exactly one YAML document holding a mapping and
// returns that mapping, or nil after recording why not.
func (p *parser) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("the configuration is empty")
		}
		p.problems.add("", yamlMessage(err))
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		p.problems.add("", fmt.Sprintf("line %d: a second YAML document starts here; the configuration must be one document", next.Line))
		return nil
	case !errors.Is(err, io.EOF):
		p.problems.add("", yamlMessage(err))
		return nil
	}
	root := doc.Content[0]
	switch {
	case root.ShortTag() == "!!null":
		p.problems.add("", "the configuration is empty")
		return nil
	case root.Kind != yaml.MappingNode:
		p.problems.add("", fmt.Sprintf("line %d: the configuration must be a mapping of keys to values", root.Line))
		return nil
	}
	return root
}

var unknownFieldRE = regexp.MustCompile(`(?s)^line (\d+): field (.*) not found in type \S+$`)

// typeErrors records the decoder's errors and reports whether any is fatal.
// Its unknown-field errors are dropped when the key walk already reported
// that key with its path; one the walk missed (a key reached only through
// an alias) is kept, so strictness never depends on the walk alone.
func (p *parser) typeErrors(te *yaml.TypeError, reported map[string]bool) bool {
	fatal := false
	for _, msg := range te.Errors {
		m := unknownFieldRE.FindStringSubmatch(msg)
		switch {
		case m == nil:
			p.problems.add("", msg)
			fatal = true
		case !reported[m[1]+":"+m[2]]:
			p.problems.add("", fmt.Sprintf("line %s: unknown key %q", m[1], m[2]))
		}
	}
	return fatal
}

// yamlMessage drops the "yaml: " prefix; the rest starts with "line N:".
func yamlMessage(err error) string {
	return strings.TrimPrefix(err.Error(), "yaml: ")
}
