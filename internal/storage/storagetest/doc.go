// Package storagetest is the conformance suite every storage backend runs
// from its own test file, including concurrency tests with real goroutines.
package storagetest
