package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzParse feeds arbitrary bytes to Parse (seeded with every testdata
// file) and checks, beyond "no panic":
//   - a failure is Problems, each with a message and on one line;
//   - a success stands on its own: Validate on the returned Config is nil
//     (so no *_file field was left beside its resolved value), and
//     marshalling it (with literal "${" escaped) and parsing that again
//     is a fixed point, which catches defaults that are not idempotent and
//     values the resolver changes twice.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata/good", "testdata/bad"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	_, env := credentialsDir(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "testdata/good", env)
		if err != nil {
			checkProblems(t, err)
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Parse accepted a Config that Validate refuses:\n%v", err)
		}
		first := marshalEscaped(t, cfg)
		again, err := Parse(first, "testdata/good", env)
		if err != nil {
			t.Fatalf("re-parsing the marshalled Config failed:\n%v\n--- yaml\n%s", err, first)
		}
		if second := marshalEscaped(t, again); !bytes.Equal(first, second) {
			t.Fatalf("marshal/parse is not a fixed point:\n--- first\n%s--- second\n%s", first, second)
		}
	})
}

func checkProblems(t *testing.T, err error) {
	t.Helper()
	var ps Problems
	if !errors.As(err, &ps) || len(ps) == 0 {
		t.Fatalf("Parse error %T %v is not a non-empty Problems", err, err)
	}
	for _, p := range ps {
		if p.Message == "" || strings.ContainsAny(p.String(), "\r\n") {
			t.Fatalf("problem %q is empty or spans lines", p.String())
		}
	}
}

// marshalEscaped marshals a copy of cfg whose strings have every literal
// "${" escaped, so parsing the output yields cfg's values again.
func marshalEscaped(t *testing.T, cfg *Config) []byte {
	t.Helper()
	var c Config
	data, err := yaml.Marshal(cfg)
	if err == nil {
		err = yaml.Unmarshal(data, &c)
	}
	if err != nil {
		t.Fatal(err)
	}
	walkStrings(reflect.ValueOf(&c).Elem(), "", func(_, s string) string { return escape(s) })
	out, err := yaml.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
