//go:build unix && !linux

package sweep

import "syscall"

// childAttr puts a run's process in a process group of its own (so that
// a Ctrl-C at the terminal reaches the executor alone, which stops each
// run with one SIGTERM). Only Linux can also stop the runs when the
// executor is killed.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
