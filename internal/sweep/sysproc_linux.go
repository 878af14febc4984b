package sweep

import "syscall"

// childAttr puts a run's process in a process group of its own (so that
// a Ctrl-C at the terminal reaches the executor alone, which stops each
// run with one SIGTERM) and has the kernel send it SIGTERM if the
// executor dies, even by kill -9: the run saves its state and stops, and
// the next executor continues it.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
