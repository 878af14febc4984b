package runfolder

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCreate(t *testing.T) {
	parent := filepath.Join(t.TempDir(), "runs")
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var dirs []string
	for range 3 {
		r, err := Create(parent, "", now)
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, filepath.Base(r.Dir))
	}
	if strings.Join(dirs, " ") != "20260102-030405 20260102-030405-2 20260102-030405-3" {
		t.Errorf("timestamp names %v", dirs)
	}
	r, err := Create(parent, "exp", now)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(r.Path(Config), []byte("keep"), 0o644)
	if _, err := Create(parent, "exp", now); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "--resume") {
		t.Errorf("existing name: %v", err)
	}
	if b, _ := os.ReadFile(r.Path(Config)); string(b) != "keep" {
		t.Error("an existing run's file changed")
	}
	if _, err := Create(parent, "../x", now); err == nil {
		t.Error("a path as name accepted")
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o644)
	cases := []struct {
		name, dir, want string
		files           []string
	}{
		{"missing", filepath.Join(dir, "nope"), "no such file", nil},
		{"a file", file, "is a file", nil},
		{"not a run", t.TempDir(), "not a run folder (no config.yaml)", nil},
		{"checkpoint without meta", t.TempDir(), "not a run folder (no meta.json)", []string{Config, Checkpoint}},
		{"killed early", t.TempDir(), "", []string{Config}},        // resumes from its beginning
		{"no checkpoint", t.TempDir(), "", []string{Config, Meta}}, // resumes from its beginning
		{"a run", t.TempDir(), "", []string{Config, Meta, Checkpoint}},
	}
	for _, tc := range cases {
		for _, f := range tc.files {
			os.WriteFile(filepath.Join(tc.dir, f), nil, 0o644)
		}
		r, err := Open(tc.dir)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
		if err == nil && r.HasCheckpoint() != (tc.name == "a run") {
			t.Errorf("%s: HasCheckpoint = %v", tc.name, r.HasCheckpoint())
		}
	}
}

// TestCreateEmpty: a named folder that a killed process left before it
// wrote its configuration (its lock, temporary files, the start of its
// log and command line) is taken; one with a configuration is not.
func TestCreateEmpty(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "x")
	os.Mkdir(dir, 0o755)
	os.WriteFile(filepath.Join(dir, LockFile), []byte("{}"), 0o644)
	os.WriteFile(filepath.Join(dir, ".config.yaml.tmp-1"), nil, 0o644)
	if r, err := Create(parent, "x", time.Now()); err != nil || r.Dir != dir {
		t.Errorf("empty folder: %v", err)
	}
	os.WriteFile(filepath.Join(dir, Log), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, Command), []byte("x"), 0o644)
	if r, err := Create(parent, "x", time.Now()); err != nil || r.Dir != dir {
		t.Errorf("a folder with only a log and a command line: %v", err)
	}
	os.WriteFile(filepath.Join(dir, Config), []byte("x"), 0o644)
	if _, err := Create(parent, "x", time.Now()); !errors.Is(err, ErrExists) {
		t.Errorf("a folder with a configuration: %v", err)
	}
}

// TestWriteAtomic: a write that fails leaves the old file and no
// temporary file; one that succeeds replaces it.
func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "checkpoint.npz")
	if err := WriteAtomic(p, func(w io.Writer) error { _, err := io.WriteString(w, "good"); return err }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk full")
	err := WriteAtomic(p, func(w io.Writer) error {
		io.WriteString(w, "half of the new")
		return boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), p) {
		t.Errorf("error %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "good" {
		t.Errorf("file holds %q after a failed write", b)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
	if err := WriteAtomic(p, func(w io.Writer) error { _, err := io.WriteString(w, "better"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "better" {
		t.Errorf("file holds %q", b)
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", st.Mode())
	}
	// A stale temporary file of a killed writer is cleaned up.
	os.WriteFile(filepath.Join(dir, ".checkpoint.npz.tmp-123"), nil, 0o600)
	(&Run{Dir: dir}).RemoveStaleTemps()
	if m, _ := filepath.Glob(filepath.Join(dir, ".*")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
}

func TestProgramInfo(t *testing.T) {
	p := ProgramInfo()
	if p.GoVersion == "" || p.Backend == "" || p.MaxProcs < 1 {
		t.Errorf("%+v", p)
	}
}
