// Package audit owns the security event catalogue (SPEC AU-1), the event
// record, and the Recorder interface with its sinks (JSONL file, stdout).
// Hash chaining and detection build on the record shape defined here.
package audit
