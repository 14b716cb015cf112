package audit

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Recorder writes security events somewhere.
//
// Record prepares the event (Event.Prepare: fills Time and ID when empty,
// clamps Risk, redacts Details) and fails with ErrInvalidType for a type
// outside the catalogue. Implementations must not drop an event because ctx
// is cancelled: the request that caused a token_issued event may well have
// gone by the time it is written, and the event matters more then, not less.
// Record is safe for concurrent use.
type Recorder interface {
	Record(ctx context.Context, e Event) error
	Close() error
}

// Option configures a sink.
type Option func(*options)

type options struct {
	now func() time.Time
}

func buildOptions(opts []Option) options {
	o := options{now: time.Now}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithClock sets the clock that stamps events with no Time. Default
// time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// Multi fans each event out to every recorder. It prepares the event once
// first, so every sink writes the same Time and ID, then calls every
// recorder even if one fails (a full disk must not stop the store from
// recording) and returns the failures joined. Close closes them all.
//
// Multi stamps with time.Now; callers wanting another clock set Event.Time.
func Multi(recorders ...Recorder) Recorder { return multi(slices.Clone(recorders)) }

type multi []Recorder

func (m multi) Record(ctx context.Context, e Event) error {
	e, err := e.Prepare(time.Now())
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range m {
		if pr, ok := r.(preparedRecorder); ok {
			err = pr.recordPrepared(ctx, e)
		} else {
			err = r.Record(ctx, e)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// preparedRecorder is implemented by this package's sinks: recordPrepared
// takes an event Prepare has already returned, so a Multi fanning one event
// out to several sinks copies and redacts its Details once rather than once
// per sink (the proxy records an event per tool call, SPEC PF-1). Only
// Multi calls it, on events it prepared itself; a Recorder from outside
// this package always gets Record.
type preparedRecorder interface {
	recordPrepared(ctx context.Context, e Event) error
}

func (m multi) Close() error {
	var errs []error
	for _, r := range m {
		errs = append(errs, r.Close())
	}
	return errors.Join(errs...)
}

// RecorderFunc adapts a function to a Recorder, for example to count events
// in metrics as one branch of a Multi. The function receives the prepared
// event, so it sees only catalogue types. Close does nothing.
type RecorderFunc func(ctx context.Context, e Event) error

// Record prepares e and calls f.
func (f RecorderFunc) Record(ctx context.Context, e Event) error {
	e, err := e.Prepare(time.Now())
	if err != nil {
		return err
	}
	return f(ctx, e)
}

func (f RecorderFunc) recordPrepared(ctx context.Context, e Event) error { return f(ctx, e) }

// Close does nothing.
func (RecorderFunc) Close() error { return nil }

// Discard validates events and drops them. It still rejects unknown types,
// so code exercised against Discard in tests cannot emit a bad event.
var Discard Recorder = discard{}

type discard struct{}

func (discard) Record(_ context.Context, e Event) error {
	if !e.Type.Valid() {
		return e.Validate()
	}
	return nil
}

func (discard) Close() error { return nil }
