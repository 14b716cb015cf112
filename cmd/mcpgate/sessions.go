package main

import (
	"context"
	"fmt"
)

const sessionsUsage = "Usage: mcpgate sessions revoke --config FILE --user SUBJECT"

// runSessions is the kill switch: `mcpgate sessions revoke --user SUB`
// ends everything the user holds, on every instance (SPEC AS-5a).
func runSessions(ctx context.Context, env *cliEnv, args []string) int {
	_, rest, code, ok := subcommand(env, sessionsUsage, args, "revoke")
	if !ok {
		return code
	}
	fs := newFlagSet(env, "sessions revoke", sessionsUsage)
	path := fs.String("config", "", "configuration file (required)")
	user := fs.String("user", "", `subject to revoke, as in tokens: "<provider>:<subject>" (required)`)
	if code, ok := parse(fs, env, rest); !ok {
		return code
	}
	if *path == "" || *user == "" {
		fmt.Fprintln(env.stderr, sessionsUsage)
		return 2
	}
	admin, code := openAdmin(ctx, env, "sessions revoke", []string{"--config", *path})
	if admin == nil {
		return code
	}
	defer admin.Close()
	res, err := admin.RevokeUser(ctx, *user)
	if err != nil {
		fmt.Fprintf(env.stderr, "mcpgate sessions revoke: %v\n", err)
		return 1
	}
	fmt.Fprintf(env.stdout, "revoked %s: %d grants, %d consents, %d browser sessions, %d upstream tokens (%d revoked at the provider); access tokens issued before now are rejected\n",
		*user, res.Families, res.Consents, res.BrowserSessions, res.UpstreamTokens, res.UpstreamRevoked)
	if res.UpstreamRevokeErr != nil {
		// The stored tokens are deleted; tokens the provider did not
		// revoke stay valid there until they expire.
		fmt.Fprintf(env.stderr, "mcpgate sessions revoke: warning: revoking upstream tokens at the provider failed: %v\n", res.UpstreamRevokeErr)
	}
	return 0
}
