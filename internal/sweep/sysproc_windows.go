//go:build windows

package sweep

import "syscall"

// childAttr starts a run's process with the default attributes: Windows
// has no process groups of this kind, so a Ctrl-C at the console reaches
// the runs too (they save and stop by themselves).
func childAttr() *syscall.SysProcAttr { return nil }
