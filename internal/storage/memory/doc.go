// Package memory is the in-process storage backend: maps behind one mutex.
// It is for tests and single-instance throwaway runs; nothing survives a restart.
package memory
