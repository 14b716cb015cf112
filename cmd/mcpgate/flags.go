package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// newFlagSet returns a flag set whose --help prints to stdout and whose
// errors print to stderr; parse turns the outcome into an exit code.
func newFlagSet(env *cliEnv, name, usageLine string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: mcpgate %s\n", usageLine)
		if hasFlags(fs) {
			fmt.Fprintln(w, "\nFlags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses args; ok is false when the command must stop, with code
// 0 after --help and 2 after a usage error.
func parse(fs *flag.FlagSet, env *cliEnv, args []string) (code int, ok bool) {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fs.SetOutput(env.stdout)
			fs.Usage()
			return 0, false
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(env.stderr, "mcpgate %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return 2, false
	}
	return 0, true
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// requireConfig reports a missing --config flag as a usage error.
func requireConfig(fs *flag.FlagSet, path string, w io.Writer) bool {
	if path != "" {
		return true
	}
	fmt.Fprintf(w, "mcpgate %s: --config is required\n", fs.Name())
	fs.Usage()
	return false
}
