// Package storage defines the one interface for everything mcpgate persists
// (clients, pending authorizations, codes, refresh families, consents, browser
// sessions, sealed upstream tokens, signing keys, revocations, MCP session
// bindings, leases and the audit chain), its plain record structs and its
// sentinel errors. Backends live in subpackages; storagetest checks them all.
package storage
