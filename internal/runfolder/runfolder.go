// Package runfolder owns a run's folder on disk: creating it without ever
// overwriting an existing one, recognising one to resume, the names of the
// files in it, and writing files atomically so that a crash or a kill at
// any moment leaves either the old or the new version of a file, never a
// mixture.
package runfolder

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/strongdfc/strongdfc/compute"
)

// Files of a run folder.
const (
	Config     = "config.yaml"   // the resolved configuration
	Command    = "command.txt"   // the command lines that ran in it, one a line
	Meta       = "meta.json"     // program, versions, machine, seeds, times
	MetricsCSV = "metrics.csv"   // one row per epoch
	MetricsJS  = "metrics.jsonl" // the same rows as JSON lines
	Summary    = "summary.json"  // the run's outcome
	Log        = "log.jsonl"     // the log, JSON lines
	Checkpoint = "checkpoint.npz"
	Weights    = "weights.npz" // the final weights
	Plots      = "plots"       // PNG figures and their data as CSV
	// LockFile (lock.go) is held while a process writes the folder.
)

// Run is a run folder.
type Run struct {
	Dir string
}

// ErrExists is wrapped by Create's error when the folder exists.
var ErrExists = errors.New("run folder exists")

// Create makes a new run folder parent/name. An empty name means the time
// (20060102-150405), with a suffix -2, -3, ... if a run of that second
// exists; a name that exists is an error, so that nothing is overwritten.
func Create(parent, name string, now time.Time) (*Run, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	if name != "" {
		dir := filepath.Join(parent, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			if errors.Is(err, os.ErrExist) {
				if unstarted(dir) {
					// A process killed before it wrote its
					// configuration left the folder: the new run
					// takes it (appending to its log and commands).
					return &Run{Dir: dir}, nil
				}
				return nil, fmt.Errorf("%w: %s; choose another name, or continue the run with: strongdfc train --resume %s", ErrExists, dir, dir)
			}
			return nil, err
		}
		return &Run{Dir: dir}, nil
	}
	base := now.Format("20060102-150405")
	for i := 1; i < 1000; i++ {
		n := base
		if i > 1 {
			n = fmt.Sprintf("%s-%d", base, i)
		}
		dir := filepath.Join(parent, n)
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			return &Run{Dir: dir}, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w: too many runs named %s-* in %s", ErrExists, base, parent)
}

// checkName refuses a run name that is a path.
func checkName(name string) error {
	if strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return fmt.Errorf("run name %q: use a plain name, not a path (the folder goes under --out)", name)
	}
	return nil
}

// unstarted reports whether dir is a folder that holds nothing but what
// a run killed before it wrote its configuration leaves: its lock file,
// temporary files, the start of its log and its command line.
func unstarted(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		switch n := e.Name(); {
		case n == LockFile || n == Log || n == Command:
		case strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp-"):
		default:
			return false
		}
	}
	return true
}

// Open returns the run folder dir, to resume or read. It must hold a
// configuration, and a meta file once it holds a checkpoint; a run that
// stopped before its first checkpoint has none (HasCheckpoint) and
// resumes from its beginning.
func Open(dir string) (*Run, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is a file; give the run's folder", dir)
	}
	r := &Run{Dir: dir}
	files := []string{Config}
	if r.HasCheckpoint() {
		files = append(files, Meta)
	}
	for _, f := range files {
		if _, err := os.Stat(r.Path(f)); err != nil {
			return nil, fmt.Errorf("%s is not a run folder (no %s)", dir, f)
		}
	}
	return r, nil
}

// HasCheckpoint reports whether the run folder holds a checkpoint.
func (r *Run) HasCheckpoint() bool {
	_, err := os.Stat(r.Path(Checkpoint))
	return err == nil
}

// Path returns the path of a file in the run folder.
func (r *Run) Path(name string) string { return filepath.Join(r.Dir, name) }

// WriteFile writes a file of the run folder atomically (see WriteAtomic).
func (r *Run) WriteFile(name string, write func(io.Writer) error) error {
	p := r.Path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return WriteAtomic(p, write)
}

// WriteJSON writes v as indented JSON, atomically.
func (r *Run) WriteJSON(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return r.WriteFile(name, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// AppendLine appends a line to a file of the run folder and syncs it.
func (r *Run) AppendLine(name, line string) error {
	f, err := os.OpenFile(r.Path(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(line + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// WriteAtomic writes path through a temporary file in the same folder:
// write fills it, it is synced to disk, renamed over path, and the folder
// is synced. Whenever the process dies, path holds either its old content
// or the complete new one. On error the temporary file is removed and
// path is untouched. A path that exists and is not a regular file (a
// device such as /dev/null, a named pipe) is written into directly: a
// rename would replace the device with a file.
func WriteAtomic(path string, write func(io.Writer) error) (err error) {
	if st, serr := os.Stat(path); serr == nil && !st.Mode().IsRegular() {
		// A device or a pipe (--md /dev/null, a FIFO): write into it, never
		// rename a file over it.
		return writeInto(path, write)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}

// RemoveStaleTemps removes temporary files that a killed process left
// behind in the run folder.
func (r *Run) RemoveStaleTemps() {
	for _, d := range []string{r.Dir, r.Path(Plots)} {
		matches, _ := filepath.Glob(filepath.Join(d, ".*.tmp-*"))
		for _, m := range matches {
			os.Remove(m)
		}
	}
}

// Program describes the running program, for meta files and `version`.
type Program struct {
	Module    string `json:"module"`
	Version   string `json:"version"`
	Revision  string `json:"vcs_revision,omitempty"`
	Modified  bool   `json:"vcs_modified,omitempty"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	Backend   string `json:"blas_backend"`
	Core      string `json:"openblas_core,omitempty"`
	CPUs      int    `json:"cpus"`
	MaxProcs  int    `json:"gomaxprocs"`
}

// ProgramInfo returns what the build information says about the program
// and the machine it runs on.
func ProgramInfo() Program {
	p := Program{
		Module: "github.com/strongdfc/strongdfc", Version: "(unknown)", GoVersion: runtime.Version(),
		OS: runtime.GOOS, Arch: runtime.GOARCH, Backend: compute.Backend(), Core: compute.Core(),
		CPUs: runtime.NumCPU(), MaxProcs: runtime.GOMAXPROCS(0),
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Path != "" {
			p.Module = bi.Main.Path
		}
		if bi.Main.Version != "" {
			p.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				p.Revision = s.Value
			case "vcs.modified":
				p.Modified = s.Value == "true"
			}
		}
	}
	return p
}

// CompleteLines returns the lines of b that end in a newline, trimmed of
// surrounding space, blank ones left out, each numbered by its line in b
// (from 1). The last line of a file another process is appending to has no
// newline yet and is left out.
func CompleteLines(b []byte) (lines [][]byte, numbers []int) {
	for n := 1; len(b) > 0; n++ {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		line := bytes.TrimSpace(b[:i])
		b = b[i+1:]
		if len(line) > 0 {
			lines, numbers = append(lines, line), append(numbers, n)
		}
	}
	return lines, numbers
}

// writeInto writes to an existing file that is not a regular one (a
// device, a named pipe), as WriteAtomic cannot replace it.
func writeInto(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
