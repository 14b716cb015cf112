package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/mcpgate/mcpgate/internal/config"
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

// configFlag parses the arguments of a command whose only flag is
// --config FILE (required). ok is false when the command must stop, with
// the exit code to return.
func configFlag(env *cliEnv, name string, args []string) (path string, code int, ok bool) {
	fs := newFlagSet(env, name, name+" --config FILE")
	fs.StringVar(&path, "config", "", "path to the YAML configuration `file`")
	if code, ok := parse(fs, env, args); !ok {
		return "", code, false
	}
	if path == "" {
		fmt.Fprintf(env.stderr, "mcpgate %s: --config is required\n", name)
		fs.Usage()
		return "", 2, false
	}
	return path, 0, true
}

// loadConfig loads and validates the file, printing every problem.
func loadConfig(env *cliEnv, name, path string) (*config.Config, bool) {
	cfg, err := config.Load(path, env.lookupEnv)
	if err != nil {
		fmt.Fprintf(env.stderr, "mcpgate %s: %s: configuration is invalid:\n%v\n", name, path, err)
		return nil, false
	}
	return cfg, true
}
