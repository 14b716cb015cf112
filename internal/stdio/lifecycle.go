package stdio

import (
	"errors"
	"os"
	"os/exec"
	"time"
)

// Why the bridge ends a session, for the exit log.
const (
	reasonIdle        = "idle timeout"
	reasonInit        = "no request after initialize"
	reasonDeleted     = "deleted by client"
	reasonClosing     = "gateway closing"
	reasonStdout      = "stdout closed"
	reasonLongLine    = "stdout line too long"
	reasonStdin       = "stdin closed"
	reasonStartFailed = "initialize not delivered"
)

// begin and end bracket a POST that opens no stream; streams hold the
// session active from open to Close. The idle clock runs only while
// nothing is active.
func (s *session) begin() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closedLocked() {
		return errGone
	}
	s.beginLocked()
	return nil
}

// closedLocked reports whether the session takes no more requests.
func (s *session) closedLocked() bool { return s.ended || s.terminating || s.reaped }

func (s *session) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endLocked()
}

func (s *session) beginLocked() {
	s.active++
	s.requests++
	s.idle.Stop()
}

func (s *session) endLocked() {
	s.active--
	if s.active == 0 && !s.closedLocked() {
		s.idleSince = time.Now()
		s.idle.Reset(s.idleTimeoutLocked())
	}
}

// idleTimeoutLocked is InitTimeout until a request follows the initialize,
// IdleTimeout after: a bare initialize is the cheapest way to hold a
// process, so an abandoned one gives its slot back soon.
func (s *session) idleTimeoutLocked() time.Duration {
	if s.requests <= 1 {
		return s.b.init
	}
	return s.b.idle
}

// onIdle ends a session nobody has used for its idle timeout: an abandoned
// session would otherwise hold a process (and its owner's slot) forever.
// A timer that fired just as it was stopped or reset finds the session
// active or idle too briefly and does nothing.
func (s *session) onIdle() {
	s.mu.Lock()
	idle := s.active == 0 && time.Since(s.idleSince) >= s.idleTimeoutLocked()
	reason := reasonIdle
	if s.requests <= 1 {
		reason = reasonInit
	}
	s.mu.Unlock()
	if idle {
		s.terminate(reason)
	}
}

// terminate ends the session: SIGTERM to the whole process group, EOF on
// stdin (the MCP stdio shutdown signal), then SIGKILL to the group after
// the grace period. Signalling the group, not the child, is what stops a
// launcher's own children (npx's node, a shell's pipeline) from outliving
// it.
func (s *session) terminate(reason string) {
	s.mu.Lock()
	if s.terminating || s.reaped {
		s.mu.Unlock()
		return
	}
	s.terminating, s.reason = true, reason
	s.signalLocked(false)
	s.kill = time.AfterFunc(s.b.grace, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.signalLocked(true)
	})
	s.mu.Unlock()
	s.log.Info("terminating stdio child", "reason", reason)
	s.die()
}

// die marks the session as ending: writers and the router stop waiting,
// and the child sees EOF on stdin. Closing stdin also frees a writeLoop
// blocked on a child that stopped reading.
func (s *session) die() {
	s.dieMu.Do(func() {
		close(s.dying)
		s.stdin.Close()
	})
}

// signalLocked signals the process group unless the leader is reaped: a
// reaped leader's pid, and so the group id, can be reused by an unrelated
// process.
func (s *session) signalLocked(hard bool) {
	if !s.reaped {
		signalGroup(s.pid, hard)
	}
}

// reap waits for the child, kills what is left of its group, and releases
// the session's slot once its output is drained.
func (s *session) reap(stdout, stderr *os.File, outDone, errDone <-chan struct{}) {
	// Wait for the exit without reaping, so the group id stays reserved
	// while the sweep below kills whatever the child left behind: once the
	// child is gone nothing of its session may run on.
	waitExited(s.pid)
	s.mu.Lock()
	s.signalLocked(true)
	s.reaped = true
	s.idle.Stop()
	if s.kill != nil {
		s.kill.Stop()
	}
	reason := s.reason
	s.mu.Unlock()
	err := s.cmd.Wait()
	s.die()
	s.b.forget(s)
	// Everything in the group is dead; only a process that left it
	// (setsid) could still hold the pipes open. Bound the wait for it.
	deadline := time.Now().Add(s.b.grace)
	stdout.SetReadDeadline(deadline)
	stderr.SetReadDeadline(deadline)
	<-outDone
	<-errDone
	s.logExit(err, reason)
	s.b.unreserve(s.owner)
}

func (s *session) logExit(err error, reason string) {
	status := "exit status 0"
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		status = ee.ProcessState.String()
	case err != nil:
		status = err.Error()
	}
	switch reason {
	case reasonIdle, reasonInit, reasonDeleted, reasonClosing:
		s.log.Info("stdio child exited", "status", status, "reason", reason)
	default: // the child ended its session itself
		s.log.Warn("stdio child exited", "status", status, "reason", reason)
	}
}
