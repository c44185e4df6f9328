//go:build !unix

package talkback

import (
	"os"
	"syscall"
)

// procAttr has no process groups to offer here; only the command itself is
// killed on timeout on this platform.
func procAttr() *syscall.SysProcAttr { return nil }

// killGroup kills the process only: children may survive on this platform.
func killGroup(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return nil
	}
	_ = p.Kill()
	return nil
}
