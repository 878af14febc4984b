//go:build unix

package runfolder

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// lockFile takes an exclusive or shared flock(2) of f without waiting
// (errHeld when another process holds it), retrying when a signal
// interrupts the call. The kernel releases it when the file is closed or
// the process ends, however it ends.
func lockFile(f *os.File, exclusive bool) error {
	how := unix.LOCK_SH | unix.LOCK_NB
	if exclusive {
		how = unix.LOCK_EX | unix.LOCK_NB
	}
	for {
		err := unix.Flock(int(f.Fd()), how)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return errHeld
		}
		return err
	}
}

// lockError explains a failure of flock other than a held lock.
func lockError(dir string, err error) error {
	if errors.Is(err, unix.ENOLCK) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EOPNOTSUPP) {
		return fmt.Errorf("lock %s: the file system does not support file locks (%v); put the runs on one that does (NFSv4 with locking, Lustre mounted with -o flock, a local disk)", dir, err)
	}
	return fmt.Errorf("lock %s: %w", dir, err)
}
