package config

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// UnmarshalYAML reads a Go duration string ("10s", "1m30s"). A bare number
// is refused: "30" could mean seconds or nanoseconds, and guessing wrong
// turns a timeout into no timeout.
//
// The error is a *yaml.TypeError so the decoder records it and carries on,
// and every problem in the file is still reported at once.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf(
			"line %d: invalid duration %q (want a Go duration such as \"10s\" or \"1m30s\")",
			n.Line, n.Value)}}
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration back as a Go duration string, so a
// marshalled Config parses to the same values.
func (d Duration) MarshalYAML() (any, error) {
	return d.String(), nil
}

// String formats the duration as time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }
