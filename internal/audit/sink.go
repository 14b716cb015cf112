package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
)

// WriterSink writes each event as one line of canonical JSON (JSONL) to an
// io.Writer, for example os.Stdout for a container log collector.
type WriterSink struct {
	now func() time.Time

	mu     sync.Mutex // serialises writes so lines never interleave
	w      io.Writer
	closed bool
	// torn is set when a write failed part-way through a line (disk full).
	// The next line then starts with a newline, so the partial line is one
	// unparseable line rather than a corruption of the next event as well.
	torn bool
}

// NewWriterSink returns a sink writing JSON lines to w. Close does not close
// w: the caller owns it (closing os.Stdout would be a surprise).
func NewWriterSink(w io.Writer, opts ...Option) *WriterSink {
	return &WriterSink{now: buildOptions(opts).now, w: w}
}

// Record writes e as one line. ctx is not consulted (see Recorder).
func (s *WriterSink) Record(ctx context.Context, e Event) error {
	e, err := e.Prepare(s.now())
	if err != nil {
		return err
	}
	return s.recordPrepared(ctx, e)
}

func (s *WriterSink) recordPrepared(_ context.Context, e Event) error {
	line, err := e.appendCanonical(make([]byte, 0, 512))
	if err != nil {
		return err
	}
	return s.writeLine(append(line, '\n'))
}

// writeLine issues exactly one Write per line under the mutex, so
// concurrent Records never interleave bytes within a line.
func (s *WriterSink) writeLine(line []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.torn {
		line = append([]byte{'\n'}, line...)
	}
	n, err := s.w.Write(line)
	if n > 0 {
		s.torn = n < len(line)
	}
	if err != nil {
		return fmt.Errorf("audit: write event: %w", err)
	}
	return nil
}

// Close stops the sink; later Records fail with ErrClosed. It waits for a
// write in progress, and calling it again is harmless.
func (s *WriterSink) Close() error {
	s.close()
	return nil
}

// close marks the sink closed and reports whether it already was.
func (s *WriterSink) close() (already bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	already, s.closed = s.closed, true
	return already
}

// FileSink appends JSON lines to a file.
//
// Fsync policy: Record does not fsync. Once Record returns, the line is in
// the kernel, so it survives a crash or kill of mcpgate; only a power loss
// or kernel crash can lose the last few seconds. An fsync per event would
// cost milliseconds on every tool call and token grant (SPEC PF-1, PF-4)
// for a sink that is not the system of record: the tamper-evident chain
// (SPEC AU-2) lives in the store, which has its own durability. Sync lets
// a caller flush on a schedule, and Close always syncs.
type FileSink struct {
	sink *WriterSink
	f    *os.File
}

// NewJSONLFile opens path for appending, creating it with mode 0600 (audit
// records name users, clients and IPs, which are personal data) if it does
// not exist. An existing file keeps its mode, so an operator may grant a
// log shipper's group read access. The parent directory must exist: the
// gateway never creates directories on an operator's behalf.
//
// O_APPEND makes every write land at the end of the file even if another
// process (logrotate's copytruncate, a second instance) has written too.
func NewJSONLFile(path string, opts ...Option) (*FileSink, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: open log file: %w", err)
	}
	return &FileSink{sink: NewWriterSink(f, opts...), f: f}, nil
}

// Record appends e as one line.
func (s *FileSink) Record(ctx context.Context, e Event) error { return s.sink.Record(ctx, e) }

func (s *FileSink) recordPrepared(ctx context.Context, e Event) error {
	return s.sink.recordPrepared(ctx, e)
}

// Sync flushes written lines to stable storage.
func (s *FileSink) Sync() error {
	s.sink.mu.Lock()
	defer s.sink.mu.Unlock()
	if s.sink.closed {
		return ErrClosed
	}
	return s.f.Sync()
}

// Close syncs and closes the file. Calling it again is harmless.
func (s *FileSink) Close() error {
	if s.sink.close() {
		return nil
	}
	// EINVAL: the path is a pipe or terminal (file: /dev/stdout), which
	// has nothing to sync; that is not a failure to keep the events.
	if err := s.f.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		s.f.Close()
		return fmt.Errorf("audit: sync log file: %w", err)
	}
	return s.f.Close()
}

// Interface guards.
var (
	_ Recorder = (*WriterSink)(nil)
	_ Recorder = (*FileSink)(nil)
	_ Recorder = RecorderFunc(nil)
	_ Recorder = multi(nil)

	_ preparedRecorder = (*WriterSink)(nil)
	_ preparedRecorder = (*FileSink)(nil)
	_ preparedRecorder = RecorderFunc(nil)
)
