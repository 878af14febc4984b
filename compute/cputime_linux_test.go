package compute

import (
	"time"

	"golang.org/x/sys/unix"
)

// cpuTime returns the CPU time the process has used (all threads), or 0
// where it is not known.
func cpuTime() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
