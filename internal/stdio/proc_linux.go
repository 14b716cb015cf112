package stdio

import (
	"syscall"
	"unsafe"
)

func platformCheck() error { return nil }

// sysProcAttr puts the child in a process group of its own, so one signal
// reaches everything it starts, and has the kernel SIGKILL it if the
// gateway dies without a Close. (Pdeathsig follows the forking thread,
// which the Go runtime does not end while the process lives.)
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// signalGroup sends SIGTERM (or SIGKILL when hard) to the process group
// pgid. ESRCH, the group being gone already, is not an error here.
func signalGroup(pgid int, hard bool) {
	sig := syscall.SIGTERM
	if hard {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-pgid, sig)
}

// waitExited blocks until the child pid has exited but leaves it a zombie
// (waitid with WNOWAIT), so its pid, which is its group's id, cannot be
// reused until exec.Cmd.Wait reaps it.
func waitExited(pid int) {
	const (
		pPID    = 1          // P_PID
		wExited = 0x4        // WEXITED
		wNoWait = 0x01000000 // WNOWAIT
	)
	var info [128]byte // siginfo_t
	for {
		_, _, errno := syscall.Syscall6(syscall.SYS_WAITID, pPID, uintptr(pid),
			uintptr(unsafe.Pointer(&info[0])), wExited|wNoWait, 0, 0)
		if errno != syscall.EINTR {
			return
		}
	}
}
