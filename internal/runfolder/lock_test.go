package runfolder

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMain lets the lock tests run this test binary as a second process
// that takes a run folder's lock and holds it (RUNFOLDER_HOLD=DIR).
func TestMain(m *testing.M) {
	if dir := os.Getenv("RUNFOLDER_HOLD"); dir != "" {
		l, err := TryLock(dir)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(3)
		}
		fmt.Println("locked")
		// Hold until stdin closes or the process is killed.
		bufio.NewReader(os.Stdin).ReadString('\n')
		l.Unlock()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// holder starts a process that holds dir's lock; it returns once the
// lock is taken.
func holder(t *testing.T, dir string) (*exec.Cmd, func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RUNFOLDER_HOLD="+dir)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the holder process says %q", line)
	}
	return cmd, func() { stdin.Close(); cmd.Wait() }
}

// TestLockTwoProcesses: a second writer is refused with a message naming
// the holder's PID; after the holder is killed with SIGKILL the lock is
// free at once (no stale lock), and after a normal release the lock file
// is gone.
func TestLockTwoProcesses(t *testing.T) {
	dir := t.TempDir()
	cmd, release := holder(t, dir)
	pid := cmd.Process.Pid

	held, h, err := Probe(dir)
	if err != nil || !held || h.PID != pid {
		t.Fatalf("Probe: held %v, holder %+v, %v; want held by %d", held, h, err, pid)
	}
	_, err = TryLock(dir)
	var le *LockedError
	if !errors.Is(err, ErrLocked) || !errors.As(err, &le) || le.Holder.PID != pid ||
		!strings.Contains(err.Error(), fmt.Sprintf("process %d", pid)) || !strings.Contains(err.Error(), dir) {
		t.Fatalf("second writer: %v; want it refused naming process %d and the folder", err, pid)
	}
	if _, _, err := Claim(filepath.Dir(dir), filepath.Base(dir)); !errors.Is(err, ErrLocked) {
		t.Errorf("Claim of a locked folder: %v", err)
	}

	// kill -9: the kernel releases the lock with the process.
	cmd.Process.Kill()
	cmd.Wait()
	if held, _, err := Probe(dir); held || err != nil {
		t.Fatalf("after kill -9: held %v, %v", held, err)
	}
	l, err := TryLock(dir)
	if err != nil {
		t.Fatalf("after kill -9 the lock is still refused: %v", err)
	}
	if h, _ := readHolder(filepath.Join(dir, LockFile)); h.PID != os.Getpid() {
		t.Errorf("the lock file records %+v, want this process", h)
	}
	// Within one process, a second lock (another open file) is refused too.
	if _, err := TryLock(dir); !errors.Is(err, ErrLocked) {
		t.Errorf("second lock in the same process: %v", err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, LockFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lock file remains after Unlock: %v", err)
	}

	// A holder that releases normally leaves no lock file.
	_, release = holder(t, dir)
	release()
	if _, err := os.Stat(filepath.Join(dir, LockFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lock file remains after a normal release: %v", err)
	}
}

// TestLockProbeDoesNotRefuse: a writer taking the lock while another
// process probes it (as `sweep status` does) is not refused.
func TestLockProbeDoesNotRefuse(t *testing.T) {
	dir := t.TempDir()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				Probe(dir)
			}
		}
	}()
	for i := range 200 {
		l, err := TryLock(dir)
		if err != nil {
			t.Fatalf("lock %d refused during probes: %v", i, err)
		}
		l.Unlock()
	}
	close(stop)
	<-done
}

// TestClaim: Claim makes the folder, refuses one with a checkpoint, and
// Clear keeps only the lock.
func TestClaim(t *testing.T) {
	parent := t.TempDir()
	r, l, err := Claim(parent, "a")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(r.Path(Config), []byte("x"), 0o644)
	os.MkdirAll(r.Path(Plots), 0o755)
	os.WriteFile(filepath.Join(r.Path(Plots), "p.csv"), []byte("x"), 0o644)
	if err := r.Clear(); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(r.Dir)
	if len(entries) != 1 || entries[0].Name() != LockFile {
		t.Errorf("after Clear: %v", entries)
	}
	l.Unlock()
	os.WriteFile(r.Path(Checkpoint), []byte("x"), 0o644)
	if _, _, err := Claim(parent, "a"); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Errorf("Claim of a folder with a checkpoint: %v", err)
	}
	if _, err := os.Stat(r.Path(LockFile)); !errors.Is(err, os.ErrNotExist) {
		t.Error("a refused Claim left its lock file")
	}
	if _, _, err := Claim(parent, "../b"); err == nil {
		t.Error("a path as name accepted")
	}
}
