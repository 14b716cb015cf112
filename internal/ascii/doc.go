// Package ascii owns ASCII-only case handling for protocol identifiers
// (schemes, host names, origins, header tokens). The strings and bytes
// packages fold case by Unicode rules, under which the Kelvin sign U+212A
// lower-cases to 'k' and U+017F (long s) folds to 's': an attacker's
// "https://\u212Aeep.example" would then equal a configured
// "https://keep.example". Identifiers on the wire are ASCII, so only
// 'A'-'Z' fold here and every other byte must match exactly.
package ascii
