//go:build !linux

package stdio

import (
	"errors"
	"syscall"
)

// The process-group and parent-death guarantees this package makes are
// Linux's; elsewhere New refuses rather than run children without them.
func platformCheck() error { return errors.New("stdio: stdio upstreams need Linux") }

func sysProcAttr() *syscall.SysProcAttr { return nil }

func signalGroup(int, bool) {}

func waitExited(int) {}
