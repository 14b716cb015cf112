package config

import (
	"os"
	"regexp"
	"testing"
)

var yamlBlockRE = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// TestDocsExamples loads every YAML block of docs/config.md, so the
// operator documentation cannot drift into examples that fail to load.
// File twins resolve against testdata/good, like the golden files.
func TestDocsExamples(t *testing.T) {
	doc, err := os.ReadFile("../../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := yamlBlockRE.FindAllSubmatch(doc, -1)
	if len(blocks) == 0 {
		t.Fatal("no yaml blocks in docs/config.md")
	}
	for i, b := range blocks {
		if _, err := Parse(b[1], "testdata/good", lookupTestEnv); err != nil {
			t.Errorf("docs/config.md yaml block %d:\n%v", i, err)
		}
	}
}
