//go:build unix

package talkback

import (
	"errors"
	"syscall"
)

// procAttr puts the command in its own process group, so that a timeout
// can kill it together with everything it started.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// killGroup sends SIGKILL to the whole process group led by pid. A group
// that is already gone is not an error.
func killGroup(pid int) error {
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}
