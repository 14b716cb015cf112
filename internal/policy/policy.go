package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/mcpgate/mcpgate/internal/config"
)

// The MCP methods that name one tool, resource or prompt and so go through
// the rules. Every other method needs only the upstream's scopes.
const (
	KindTool     = "tools/call"
	KindResource = "resources/read"
	KindPrompt   = "prompts/get"
)

// Outcomes of a Decision.
const (
	OutcomeAllow             = "allow"
	OutcomeInsufficientScope = "insufficient_scope" // 403 with a step-up challenge
	OutcomeForbidden         = "forbidden"          // 403 JSON-RPC error, no challenge
)

// Principal is the caller as policy sees it.
type Principal struct {
	Subject       string // "<provider>:<sub>"
	Provider      string
	Email         string
	EmailVerified bool
	Groups        []string
	Scopes        []string // granted to the token, before the hierarchy
}

// Rule is one compiled per-tool rule.
type Rule struct {
	Match                            string // path.Match syntax, see compileGlob
	Scopes, Groups, Users, Providers []string
	Deny                             bool
	re                               *regexp.Regexp
}

// Route is the compiled policy of one upstream. The zero Route needs
// nothing and allows everything.
type Route struct {
	Scopes []string // needed for any request
	Rules  []Rule   // first match wins
}

// Hierarchy expands scopes by what they imply (the scope catalogue's
// Expand). nil means no hierarchy.
type Hierarchy func(scopes []string) []string

// Decision is the answer for one request.
type Decision struct {
	Allowed bool
	Outcome string // OutcomeAllow, OutcomeInsufficientScope or OutcomeForbidden
	// MissingScopes lists every scope the call needs that the token lacks
	// (the upstream's first, then the rule's, without duplicates), for the
	// scope= of the 403 challenge. Set only with OutcomeInsufficientScope.
	MissingScopes []string
	// Needed lists every scope the call needs, held or not (the upstream's
	// first, then the rule's, without duplicates): the scope= of the
	// step-up challenge, so a client that requests exactly these keeps
	// what it already had (SPEC PX-2). Set only with
	// OutcomeInsufficientScope.
	Needed []string
	Rule   int    // index of the matching rule, -1 for none
	Reason string // for audit and logs, not for the client
}

// Compile builds the route of an upstream from its configuration, copying
// the slices and refusing a rule whose pattern is empty or malformed.
func Compile(upstreamScopes []string, rules []config.ToolRule) (Route, error) {
	r := Route{Scopes: slices.Clone(upstreamScopes)}
	for i, tr := range rules {
		re, err := compileGlob(tr.Match)
		if err != nil {
			return Route{}, fmt.Errorf("tools[%d]: %w", i, err)
		}
		r.Rules = append(r.Rules, Rule{
			Match: tr.Match, Scopes: slices.Clone(tr.Scopes), Groups: slices.Clone(tr.Groups),
			Users: slices.Clone(tr.Users), Providers: slices.Clone(tr.Providers), Deny: tr.Deny, re: re,
		})
	}
	return r, nil
}

// RequestScopes is what the 401 challenge's scope= names: the scopes any
// request to the upstream needs. offline_access is never in a challenge
// (SPEC AS-9).
func (r Route) RequestScopes() []string {
	return slices.DeleteFunc(slices.Clone(r.Scopes), func(s string) bool { return s == config.ScopeOfflineAccess })
}

// match returns the index of the first rule matching name, or -1. A rule
// built by hand rather than by Compile has its pattern compiled here; if it
// is malformed, match stops there with broken set (fail closed).
func (r Route) match(name string) (idx int, broken bool) {
	for i, rule := range r.Rules {
		re := rule.re
		if re == nil {
			var err error
			if re, err = compileGlob(rule.Match); err != nil {
				return i, true
			}
		}
		if re.MatchString(name) {
			return i, false
		}
	}
	return -1, false
}

// Decide applies the route to one request. kind is the JSON-RPC method and
// name the tool or prompt name or the resource URI; methods other than
// KindTool, KindResource and KindPrompt need only the upstream's scopes.
//
// Order: a deny, then the rule's providers, users and groups, then scopes.
// A caller failing both an identity condition and a scope gets
// OutcomeForbidden, never OutcomeInsufficientScope: a step-up cannot add a
// group, so a challenge would only send the client round an endless loop.
func (r Route) Decide(p Principal, kind, name string, expand Hierarchy) Decision {
	idx, broken := -1, false
	if kind == KindTool || kind == KindResource || kind == KindPrompt {
		idx, broken = r.match(name)
	}
	d := Decision{Rule: idx}
	need := slices.Clone(r.Scopes)
	if idx >= 0 {
		rule := r.Rules[idx]
		if broken {
			return forbidden(d, fmt.Sprintf("rule %d: invalid match pattern %q", idx, rule.Match))
		}
		if rule.Deny {
			return forbidden(d, fmt.Sprintf("rule %d (%q) denies %s %q", idx, rule.Match, kind, name))
		}
		if len(rule.Providers) > 0 && !slices.Contains(rule.Providers, p.Provider) {
			return forbidden(d, fmt.Sprintf("rule %d (%q): provider %q not allowed", idx, rule.Match, p.Provider))
		}
		if len(rule.Users) > 0 && !slices.ContainsFunc(rule.Users, p.isUser) {
			return forbidden(d, fmt.Sprintf("rule %d (%q): user %q not allowed", idx, rule.Match, p.Subject))
		}
		if len(rule.Groups) > 0 && !slices.ContainsFunc(rule.Groups, func(g string) bool { return slices.Contains(p.Groups, g) }) {
			return forbidden(d, fmt.Sprintf("rule %d (%q): not in any of groups %v", idx, rule.Match, rule.Groups))
		}
		need = append(need, rule.Scopes...)
	}
	have := p.Scopes
	if expand != nil {
		have = expand(slices.Clone(p.Scopes))
	}
	for _, s := range need {
		if !slices.Contains(have, s) && !slices.Contains(d.MissingScopes, s) {
			d.MissingScopes = append(d.MissingScopes, s)
		}
	}
	if len(d.MissingScopes) > 0 {
		d.Needed = dedup(need)
		d.Outcome = OutcomeInsufficientScope
		d.Reason = fmt.Sprintf("missing scopes %s", strings.Join(d.MissingScopes, " "))
		return d
	}
	d.Allowed, d.Outcome, d.Reason = true, OutcomeAllow, "allowed"
	if idx >= 0 {
		d.Reason = fmt.Sprintf("allowed by rule %d (%q)", idx, r.Rules[idx].Match)
	}
	return d
}

func dedup(l []string) []string {
	out := make([]string, 0, len(l))
	for _, s := range l {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func forbidden(d Decision, reason string) Decision {
	d.Outcome, d.Reason = OutcomeForbidden, reason
	return d
}

// isUser reports whether a rule's users entry names p: the namespaced
// subject exactly, or the email (case-insensitively) only when the
// provider marked it verified.
func (p Principal) isUser(entry string) bool {
	if entry == "" {
		return false
	}
	if entry == p.Subject {
		return true
	}
	return p.EmailVerified && p.Email != "" && strings.EqualFold(entry, p.Email)
}

// Visible reports whether an item belongs in a tools/list, prompts/list or
// resources/list answer; kind is the method that would use it (KindTool,
// KindPrompt, KindResource). Lists are filtered to what the caller may use
// (SPEC PX-7), so an item is visible exactly when Decide allows it: one
// the caller could reach only by stepping up is hidden too, since its
// call would fail now and listing it would say more about the policy than
// the caller needs.
func (r Route) Visible(p Principal, kind, name string, expand Hierarchy) bool {
	return r.Decide(p, kind, name, expand).Allowed
}
