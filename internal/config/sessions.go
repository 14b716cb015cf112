package config

import "fmt"

// check: SPEC SE-1. A session that never ends lets a stolen cookie work
// for ever, so both timeouts are required and the absolute one bounds the
// idle one.
func (s Sessions) check(ps *Problems) {
	if s.IdleTimeout <= 0 {
		ps.add("sessions.idle_timeout", "must be greater than 0")
	}
	switch {
	case s.AbsoluteTimeout <= 0:
		ps.add("sessions.absolute_timeout", "must be greater than 0")
	case s.IdleTimeout > 0 && s.AbsoluteTimeout < s.IdleTimeout:
		ps.add("sessions.absolute_timeout", fmt.Sprintf("must be at least sessions.idle_timeout (%s)", s.IdleTimeout))
	}
	if s.MaxPerUser < 1 || s.MaxPerUser > 100 {
		ps.add("sessions.max_per_user", "must be between 1 and 100")
	}
}

// check: SPEC ID-4 throttles password guessing. The bound on max_failures
// keeps the throttle meaningful: a hundred guesses per window is already
// generous to an attacker.
func (l Login) check(ps *Problems) {
	if l.MaxFailures < 1 || l.MaxFailures > 100 {
		ps.add("login.max_failures", "must be between 1 and 100")
	}
	if l.Window <= 0 {
		ps.add("login.window", "must be greater than 0")
	}
	if l.Lockout <= 0 {
		ps.add("login.lockout", "must be greater than 0")
	}
}
