package config

import (
	"errors"
	"reflect"
)

// resolve expands ${NAME} references in every string, then reads *_file
// twins. References are expanded first so that a twin may name a path from
// the environment (value_file: ${CREDENTIALS_DIRECTORY}/seal-k1); file
// contents are secrets and are never expanded.
func (p *parser) resolve(cfg *Config) {
	walkStrings(reflect.ValueOf(cfg).Elem(), "", func(path, s string) string {
		out, problems := expand(s, p.env)
		for _, msg := range problems {
			p.problems.add(path, msg)
			p.failed[path] = true
		}
		return out
	})
	for _, t := range cfg.twins() {
		p.readTwin(t)
	}
}

// readTwin moves the contents of t's file into its value field and clears
// the file field, so the returned Config has one source for each secret.
// When both are set it does nothing: Validate reports that.
func (p *parser) readTwin(t twin) {
	if *t.file == "" || *t.value != "" || p.failed[t.filePath()] {
		return
	}
	p.renames[t.valuePath()] = t.filePath()
	v, problem := readSecretFile(p.baseDir, *t.file)
	if problem != "" {
		p.problems.add(t.filePath(), problem)
		p.failed[t.filePath()] = true
		return
	}
	*t.value, *t.file = v, ""
}

// addValidation adds Validate's problems, renamed to the keys the operator
// wrote and without those on values that could not be resolved.
func (p *parser) addValidation(err error) {
	var ps Problems
	if !errors.As(err, &ps) {
		return
	}
	for _, pr := range ps {
		if to, ok := p.renames[pr.Path]; ok {
			pr.Path = to
		}
		if !p.failed[pr.Path] {
			p.problems = append(p.problems, pr)
		}
	}
}
