// Package seal owns authenticated encryption of data at rest and in
// cookies: AES-256-GCM under named keys, each value under its own key
// derived with HKDF for its purpose, so that old keys keep decrypting while
// the active key encrypts.
package seal
