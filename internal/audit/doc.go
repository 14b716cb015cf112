// Package audit owns the security event catalogue (SPEC AU-1), the Event
// record and its canonical JSON encoding, and the Recorder interface with
// its local sinks (JSONL file, any io.Writer such as stdout, fan-out).
// Hash chaining (AU-2) and detection (AU-3) build on the record shape and
// the canonical bytes defined here.
package audit
