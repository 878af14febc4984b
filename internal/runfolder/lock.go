package runfolder

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// LockFile is the run folder's lock file. A process that writes to a run
// folder holds an exclusive flock(2) on it for as long as it writes, and
// records in it who it is (Holder). The lock belongs to the open file:
// it ends with the process however the process ends (kill -9 included),
// so a lock is never stale. The file is removed when the holder releases
// the lock normally; one left behind by a killed process locks nothing.
const LockFile = "lock"

// ErrLocked is wrapped by the error of TryLock and Claim when another
// process holds the run folder's lock.
var ErrLocked = errors.New("run folder in use")

// Holder is what a lock file records about the process holding the lock.
type Holder struct {
	PID   int       `json:"pid"`   // its process ID (0: not recorded yet)
	Host  string    `json:"host"`  // the host it runs on
	Since time.Time `json:"since"` // when it took the lock
}

// String describes the holder for people: "process 1234 on host n17
// since 12:03:04".
func (h Holder) String() string {
	if h.PID == 0 {
		return "another process (it has not recorded its PID yet)"
	}
	s := fmt.Sprintf("process %d", h.PID)
	if h.Host != "" {
		s += " on host " + h.Host
	}
	if !h.Since.IsZero() {
		s += " since " + h.Since.Local().Format("2006-01-02 15:04:05")
	}
	return s
}

// LockedError is the error of TryLock when the folder is in use.
type LockedError struct {
	Dir    string // the run folder
	Holder Holder // who holds its lock
}

// Error says who holds the folder and what to do.
func (e *LockedError) Error() string {
	hint := "wait for it to end"
	if e.Holder.PID != 0 {
		if h, _ := os.Hostname(); e.Holder.Host == "" || e.Holder.Host == h {
			hint += fmt.Sprintf(", or stop it (kill %d: it saves its state) and resume the run", e.Holder.PID)
		} else {
			hint += ", or stop it on its host and resume the run"
		}
	}
	return fmt.Sprintf("run folder %s is in use by %s; two processes must not write one run folder: %s", e.Dir, e.Holder, hint)
}

// Unwrap makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Unwrap() error { return ErrLocked }

// Lock is a held lock on a run folder.
type Lock struct {
	f    *os.File
	path string
}

// lockWait is how long TryLock retries a lock that is held: long enough
// to outlast a Probe (which holds a shared lock for microseconds), short
// enough to refuse a second writer at once.
const lockWait = 300 * time.Millisecond

// TryLock takes the lock of the run folder dir without waiting for it:
// if another process holds it, the error is a *LockedError naming that
// process. The caller writes the folder until Unlock.
func TryLock(dir string) (*Lock, error) {
	path := filepath.Join(dir, LockFile)
	deadline := time.Now().Add(lockWait)
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		err = lockFile(f, true)
		if errors.Is(err, errHeld) {
			f.Close()
			if time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			h, _ := readHolder(path)
			return nil, &LockedError{Dir: dir, Holder: h}
		}
		if err != nil {
			f.Close()
			return nil, lockError(dir, err)
		}
		// The previous holder may have removed the file between our open
		// and our lock: then we hold a lock on a file nobody else sees.
		if same, err := samefile(f, path); err != nil || !same {
			f.Close()
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("lock %s: %w", dir, err)
			}
			continue
		}
		host, _ := os.Hostname()
		b, _ := json.Marshal(Holder{PID: os.Getpid(), Host: host, Since: time.Now().UTC().Truncate(time.Second)})
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		if _, err := f.WriteAt(append(b, '\n'), 0); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		return &Lock{f: f, path: path}, nil
	}
}

// Unlock removes the lock file and releases the lock. It may be called
// more than once.
func (l *Lock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	// Removed while still held: whoever opens the path next gets a new
	// file, and a process waiting on the old one notices (samefile).
	err := os.Remove(l.path)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

// Probe reports whether a process holds the lock of the run folder dir,
// and which. It does not create the lock file, and holds a shared lock for
// an instant only (TryLock waits that out).
func Probe(dir string) (held bool, h Holder, err error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, Holder{}, nil
	}
	if err != nil {
		return false, Holder{}, err
	}
	defer f.Close()
	err = lockFile(f, false)
	if errors.Is(err, errHeld) {
		h, _ := readHolder(path)
		return true, h, nil
	}
	if err != nil {
		return false, Holder{}, lockError(dir, err)
	}
	return false, Holder{}, nil // closing the file releases the shared lock
}

// errHeld is what lockFile returns when another process holds the lock.
var errHeld = errors.New("the lock is held")

// samefile reports whether the open file f is still the file at path.
func samefile(f *os.File, path string) (bool, error) {
	a, err := f.Stat()
	if err != nil {
		return false, err
	}
	b, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return os.SameFile(a, b), nil
}

// readHolder reads the holder a lock file records.
func readHolder(path string) (Holder, error) {
	var h Holder
	b, err := os.ReadFile(path)
	if err != nil {
		return h, err
	}
	if len(b) == 0 {
		return h, nil
	}
	return h, json.Unmarshal(b, &h)
}

// Claim prepares the run folder parent/name for a run that starts from
// the beginning, whether or not the folder exists: it creates it if
// needed and takes its lock. A folder that holds a checkpoint is an error
// (resume that run instead); any other content is what a run that stopped
// before its first checkpoint left, and Clear removes it. The caller
// holds the returned lock until the run ends.
func Claim(parent, name string) (*Run, *Lock, error) {
	if err := checkName(name); err != nil {
		return nil, nil, err
	}
	if name == "" {
		return nil, nil, errors.New("claim: a run folder name is needed")
	}
	dir := filepath.Join(parent, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	lock, err := TryLock(dir)
	if err != nil {
		return nil, nil, err
	}
	r := &Run{Dir: dir}
	if _, err := os.Stat(r.Path(Checkpoint)); err == nil {
		lock.Unlock()
		return nil, nil, fmt.Errorf("run folder %s holds a checkpoint; continue that run with: strongdfc train --resume %s", dir, dir)
	}
	return r, lock, nil
}

// Clear removes everything in the run folder but its lock file: what a run
// that never reached its first checkpoint left behind. Call it only while
// holding the lock.
func (r *Run) Clear() error {
	entries, err := os.ReadDir(r.Dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() == LockFile {
			continue
		}
		if err := os.RemoveAll(r.Path(e.Name())); err != nil {
			return err
		}
	}
	return nil
}
