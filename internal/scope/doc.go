// Package scope owns the syntax of OAuth scope strings (RFC 6749 §3.3):
// scope = scope-token *( SP scope-token ), scope-token =
// 1*( %x21 / %x23-5B / %x5D-7E ). The separator is exactly one space
// (%x20): splitting on tabs or Unicode spaces as strings.Fields does
// would turn "read\u00A0admin" into two scopes, one of which the client
// never asked for as such, and would read scope claims of external
// authorization servers differently from them.
package scope
