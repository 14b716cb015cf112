package proxy

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/mcpgate/mcpgate/internal/audit"
	"github.com/mcpgate/mcpgate/internal/clientip"
	"github.com/mcpgate/mcpgate/internal/jsonrpc"
	"github.com/mcpgate/mcpgate/internal/policy"
	"github.com/mcpgate/mcpgate/internal/reqid"
)

// authorize applies the route's policy (SPEC PX-7): the upstream's scopes
// to every request, and the per-tool rules to every tools/call,
// resources/read and prompts/get in the body. A missing scope answers 403
// insufficient_scope naming every scope the call needs, so the client can
// step up; a deny or an unmet group, user or provider condition answers
// 403 with a JSON-RPC error and no challenge, since no new token could
// help and a challenge would send the client round a loop.
func (rt *route) authorize(w http.ResponseWriter, r *http.Request, pr Principal, in jsonrpc.Inspection) bool {
	if d := rt.policy.Decide(pr.Principal, "", "", nil); !d.Allowed {
		rt.refuse(w, r, d, nil)
		return false
	}
	for _, m := range in.Messages {
		// A notification carrying tools/call gets no answer, but a server
		// may still act on it: it goes through the rules like a request.
		if m.Kind == jsonrpc.KindResponse || !ruled(m.Method) {
			continue
		}
		name := m.Name
		var d policy.Decision
		if m.Method == policy.KindResource {
			canon, ok := policy.CanonicalURI(m.URI)
			if !ok {
				// No single reading: an upstream resolving it could reach
				// what a rule on its canonical form denies.
				d = policy.Decision{Outcome: policy.OutcomeForbidden, Rule: -1, Reason: "resource URI has no canonical form"}
				rt.auditDecision(r, pr, m, m.URI, d)
				rt.refuse(w, r, d, m.ID)
				return false
			}
			name = canon
		}
		d = rt.policy.Decide(pr.Principal, m.Method, name, nil)
		rt.auditDecision(r, pr, m, name, d)
		if !d.Allowed {
			rt.refuse(w, r, d, m.ID)
			return false
		}
	}
	return true
}

func ruled(method string) bool {
	return method == policy.KindTool || method == policy.KindResource || method == policy.KindPrompt
}

func (rt *route) refuse(w http.ResponseWriter, r *http.Request, d policy.Decision, id []byte) {
	if d.Outcome == policy.OutcomeInsufficientScope {
		w.Header().Set("WWW-Authenticate", challenge("insufficient_scope", rt.prmURL, d.Needed))
		writeRPCError(w, r, http.StatusForbidden, id, codeForbidden, "insufficient scope")
		return
	}
	writeRPCError(w, r, http.StatusForbidden, id, codeForbidden, "not permitted by policy")
}

// auditDecision records one per-tool decision (SPEC PX-7, AU-1). The
// arguments are hashed, never recorded: they may hold anything.
func (rt *route) auditDecision(r *http.Request, pr Principal, m jsonrpc.Message, name string, d policy.Decision) {
	typ := audit.ToolCallAllowed
	if !d.Allowed {
		typ = audit.ToolCallDenied
	}
	details := map[string]any{
		"upstream": rt.up.Name, "method": m.Method, "tool": name,
		"decision": d.Outcome, "rule": d.Rule, "reason": d.Reason,
	}
	if m.Arguments != nil {
		sum := sha256.Sum256(m.Arguments)
		details["arguments_sha256"] = hex.EncodeToString(sum[:])
	}
	if d.Rule >= 0 {
		details["rule_match"] = rt.policy.Rules[d.Rule].Match
	}
	if len(d.MissingScopes) > 0 {
		details["missing_scopes"] = d.MissingScopes
	}
	rt.p.record(r, audit.Event{
		Type: typ, User: pr.Subject, Session: pr.Family, Client: pr.ClientID, Provider: pr.Provider, Details: details,
	})
}

// record writes an audit event with the request's client address, user
// agent and request ID, so an operator can match a refusal the client saw
// (its error body carries the request ID) to its record.
func (p *Proxy) record(r *http.Request, e audit.Event) {
	e.IP, e.UserAgent, e.RequestID = clientip.From(r), r.UserAgent(), reqid.From(r.Context())
	p.opts.Audit(r.Context(), e)
}
