//go:build linux

package live

import (
	"math"
	"syscall"
	"unsafe"
)

// clockThreadCPUTime is Linux's CLOCK_THREAD_CPUTIME_ID.
const clockThreadCPUTime = 3

// threadCPU returns the CPU time (user and system) of the calling OS
// thread, in seconds (clock_gettime(CLOCK_THREAD_CPUTIME_ID): to the
// nanosecond, where getrusage counts in ticks); NaN when it cannot be
// read. The caller locks its goroutine to the thread
// (runtime.LockOSThread) for the difference of two readings to mean
// anything.
func threadCPU() float64 {
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return math.NaN()
	}
	return float64(ts.Sec) + 1e-9*float64(ts.Nsec)
}
