package config

import (
	"os"
	"reflect"
	"regexp"
	"testing"
)

var yamlBlockRE = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// TestDocsExamples loads every YAML block of docs/config.md, so the
// operator documentation cannot drift into examples that fail to load.
// File twins resolve against testdata/good, and $CREDENTIALS_DIRECTORY
// holds what the golden files get (credentialsDir).
func TestDocsExamples(t *testing.T) {
	_, env := credentialsDir(t)
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := yamlBlockRE.FindAllSubmatch(doc, -1)
	if len(blocks) == 0 {
		t.Fatal("no yaml blocks in docs/config.md")
	}
	for i, b := range blocks {
		if _, err := Parse(b[1], "testdata/good", env); err != nil {
			t.Errorf("docs/config.md yaml block %d:\n%v", i, err)
		}
	}
}

// TestDocsEveryKey walks the yaml tags of every struct reachable from
// Config and checks that docs/config.md names each key in backticks, alone
// (`listen`) or as the last part of a path (`keys[i].value_file`), so a new
// field cannot ship undocumented.
func TestDocsEveryKey(t *testing.T) {
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[reflect.Type]bool{}
	var walk func(typ reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			key := yamlName(f)
			if key == "" || key == "-" {
				t.Errorf("%s.%s has no yaml key", typ.Name(), f.Name)
				continue
			}
			re := regexp.MustCompile("`(?:[a-z_]+(?:\\[i\\])?\\.)*" + regexp.QuoteMeta(key) + "`")
			if !re.Match(doc) {
				t.Errorf("docs/config.md does not document %s (%s.%s)", field(path, key), typ.Name(), f.Name)
			}
			walk(f.Type, field(path, key))
		}
	}
	walk(reflect.TypeFor[Config](), "")
	if len(seen) < 10 {
		t.Fatalf("walked only %d struct types; is the walk broken?", len(seen))
	}
}
