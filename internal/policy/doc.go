// Package policy owns the pure decisions of per-tool access: which rule of
// an upstream governs a tools/call, resources/read or prompts/get (the first
// whose name glob matches), whether the caller is refused outright
// (forbidden: a deny, or a provider, user or group condition not met) or
// lacks scopes a step-up could add (insufficient_scope, with every missing
// scope for the challenge), and which items tools/list, prompts/list and
// resources/list may show. Everything here is a function over plain values
// (SPEC PX-7, AS-9): no I/O, no clock, no logging; the proxy supplies the
// principal and the scope hierarchy and acts on the Decision.
package policy
