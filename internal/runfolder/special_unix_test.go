//go:build unix

package runfolder

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestWriteAtomicSpecial writes through WriteAtomic into a named pipe (as
// `collect --md /dev/null` does into a device): the pipe must receive the
// bytes and still be a pipe afterwards, not a regular file renamed over it.
func TestWriteAtomicSpecial(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(path)
		if err != nil {
			got <- "open: " + err.Error()
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- string(b)
	}()
	if err := WriteAtomic(path, func(w io.Writer) error { _, err := io.WriteString(w, "table\n"); return err }); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Lstat(path); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Fatalf("after WriteAtomic the path is %v (%v), want the named pipe", st.Mode(), err)
	}
	if s := <-got; s != "table\n" {
		t.Errorf("the pipe's reader got %q", s)
	}
}
