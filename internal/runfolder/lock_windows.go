//go:build windows

package runfolder

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// lockFile takes an exclusive or shared lock of one byte of f with
// LockFileEx without waiting (errHeld when another process holds it). The
// byte lies far beyond the file's end, so that others can still read the
// holder's PID from the file (Windows locks are mandatory). The system
// releases the lock when the file is closed or the process ends.
func lockFile(f *os.File, exclusive bool) error {
	flags := uint32(windows.LOCKFILE_FAIL_IMMEDIATELY)
	if exclusive {
		flags |= windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	ol := windows.Overlapped{OffsetHigh: 1 << 30} // byte 2⁶²
	err := windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, 1, 0, &ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return errHeld
	}
	return err
}

// lockError explains a failure of LockFileEx other than a held lock.
func lockError(dir string, err error) error {
	return fmt.Errorf("lock %s: %w", dir, err)
}
