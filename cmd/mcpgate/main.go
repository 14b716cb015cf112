package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand: it parses its own flags from args.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) int
}

// cliEnv is the process surroundings a subcommand may touch, injected so
// tests can run subcommands in-process.
type cliEnv struct {
	stdout, stderr io.Writer
	lookupEnv      func(string) (string, bool)
	// ready, when set, is called with the URL once a server accepts
	// connections (tests use it instead of polling).
	ready func(url string)
}

func commands() []command {
	return []command{
		{"serve", "run the gateway from a configuration file", runServe},
		{"demo", "run the gateway on an embedded database with safe loopback defaults", runDemo},
		{"config", "configuration tools: config check --config FILE", runConfig},
		{"migrate", "apply database migrations for the configured store", runMigrate},
		{"keys", "signing keys: keys list|rotate --config FILE", runKeys},
		{"sessions", "kill switch: sessions revoke --config FILE --user SUBJECT", runSessions},
		{"version", "print the version", runVersion},
	}
}

func main() {
	// SIGINT/SIGTERM cancel the context; servers then shut down gracefully.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// Once the first signal has started a graceful shutdown, restore the
	// default handling: a second Ctrl-C ends the process at once.
	context.AfterFunc(ctx, stop)
	defer stop()
	env := &cliEnv{stdout: os.Stdout, stderr: os.Stderr, lookupEnv: os.LookupEnv}
	os.Exit(run(ctx, env, os.Args[1:]))
}

// run dispatches to a subcommand and returns the process exit code:
// 0 success, 1 failure, 2 usage error.
func run(ctx context.Context, env *cliEnv, args []string) int {
	if len(args) == 0 {
		usage(env.stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(env.stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, env, args[1:])
		}
	}
	fmt.Fprintf(env.stderr, "mcpgate: unknown command %q\n\n", args[0])
	usage(env.stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "mcpgate: an OAuth 2.1 authorization gateway for MCP servers")
	fmt.Fprintln(w, "\nUsage: mcpgate <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'mcpgate <command> --help' for a command's flags.")
}
