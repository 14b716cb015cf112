// Package seal owns authenticated encryption of data at rest and in
// cookies: AES-256-GCM under named keys, with one HKDF subkey per purpose,
// so that old keys keep decrypting while the active key encrypts.
package seal
