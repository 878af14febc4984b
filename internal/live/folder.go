package live

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/strongdfc/strongdfc/internal/config"
	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/train"
)

// Load returns the feed of the run in folder dir, read from its files:
// config.yaml (the configuration, which must be there), meta.json,
// metrics.jsonl, summary.json and window.json (each may be missing). The
// feed reads them again when they change, at most once a second, so that
// a run another process is training shows its new epochs.
func Load(dir string) (*Feed, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is a file; give a run folder (one with %s and %s)", dir, runfolder.Config, runfolder.MetricsJS)
	}
	if _, err := os.Stat(filepath.Join(dir, runfolder.Config)); err != nil {
		return nil, fmt.Errorf("%s is not a run folder: it has no %s (strongdfc train writes one into every run folder)", dir, runfolder.Config)
	}
	f := &Feed{info: Info{Name: filepath.Base(filepath.Clean(dir)), Dir: dir}, status: StatusUnknown}
	fr := &folderReader{dir: dir}
	if err := fr.read(f); err != nil {
		return nil, err
	}
	f.reload = func(f *Feed) {
		fr.mu.Lock()
		defer fr.mu.Unlock()
		if time.Since(fr.checked) < reloadEvery {
			return
		}
		if err := fr.read(f); err != nil {
			f.mu.Lock()
			f.errMsg = err.Error()
			f.changed()
			f.mu.Unlock()
		}
	}
	return f, nil
}

// reloadEvery is the least time between two looks at a run folder's
// files.
var reloadEvery = time.Second

// folderReader reads a run folder's files into a feed when they change.
type folderReader struct {
	mu      sync.Mutex // requests come concurrently
	dir     string
	checked time.Time
	stamps  map[string]stamp
}

// stamp identifies a version of a file.
type stamp struct {
	size int64
	mod  time.Time
}

// changed returns the files whose stamp differs from the last read
// (missing files have the zero stamp).
func (fr *folderReader) changed() map[string]bool {
	out := map[string]bool{}
	if fr.stamps == nil {
		fr.stamps = map[string]stamp{}
	}
	for _, name := range []string{runfolder.Config, runfolder.Meta, runfolder.MetricsJS, runfolder.Summary, WindowFile} {
		var s stamp
		if st, err := os.Stat(filepath.Join(fr.dir, name)); err == nil {
			s = stamp{st.Size(), st.ModTime()}
		}
		if old, ok := fr.stamps[name]; !ok || old != s {
			out[name] = true
			fr.stamps[name] = s
		}
	}
	return out
}

// read reads the files that changed into f.
func (fr *folderReader) read(f *Feed) error {
	fr.checked = time.Now()
	ch := fr.changed()
	if len(ch) == 0 {
		return nil
	}
	file := func(name string) ([]byte, error) {
		b, err := os.ReadFile(filepath.Join(fr.dir, name))
		if os.IsNotExist(err) {
			return nil, nil
		}
		return b, err
	}
	f.mu.Lock()
	in := f.info
	f.mu.Unlock()
	var infoChanged bool
	var started time.Time
	if ch[runfolder.Config] || ch[runfolder.Meta] {
		y, err := file(runfolder.Config)
		if err != nil {
			return err
		}
		cfg, _, err := config.Resolve(config.Sources{File: filepath.Join(fr.dir, runfolder.Config)})
		if err != nil {
			return err
		}
		in.ConfigYAML, in.Method, in.Dataset = string(y), cfg.Method, cfg.Dataset
		in.PretrainEpochs, in.Windows = 0, false
		if m, err := cfg.MethodSpec(); err == nil {
			for _, p := range m.Prologue {
				if p == "pretrain" {
					in.PretrainEpochs++
				}
			}
			_, in.Windows = m.Phase("train").(train.Simulated)
		}
		if in.Meta, err = file(runfolder.Meta); err != nil {
			return err
		}
		var meta struct {
			Started time.Time `json:"started"`
		}
		if in.Meta != nil && json.Unmarshal(in.Meta, &meta) != nil {
			in.Meta = nil
		}
		started = meta.Started
		infoChanged = true
	}
	var rows []json.RawMessage
	if ch[runfolder.MetricsJS] {
		b, err := file(runfolder.MetricsJS)
		if err != nil {
			return err
		}
		// A line another process is writing has no newline yet: skip it.
		lines, _ := runfolder.CompleteLines(b)
		for _, line := range lines {
			if !json.Valid(line) {
				return fmt.Errorf("%s: a line is not JSON: %.60s", filepath.Join(fr.dir, runfolder.MetricsJS), line)
			}
			rows = append(rows, json.RawMessage(line))
		}
	}
	var sum json.RawMessage
	var status string
	if ch[runfolder.Summary] {
		b, err := file(runfolder.Summary)
		if err != nil {
			return err
		}
		var s struct {
			Status string `json:"status"`
		}
		if b != nil && json.Unmarshal(b, &s) == nil {
			sum, status = b, s.Status
		}
	}
	var win []byte
	var hist []UPoint
	if ch[WindowFile] {
		b, err := file(WindowFile)
		if err != nil {
			return err
		}
		var w struct {
			History []UPoint `json:"u_norm_history"`
		}
		if b != nil && json.Unmarshal(b, &w) == nil {
			win, hist = b, w.History
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if infoChanged {
		f.info = in
		f.infoSeq++
		f.started = started
	}
	if ch[runfolder.MetricsJS] {
		f.epochs = rows
		f.gen++
	}
	if ch[runfolder.Summary] {
		f.summary = sum
		f.status = StatusUnknown
		if status != "" {
			f.status = status
		}
	}
	if ch[WindowFile] {
		f.window, f.unorm = win, hist
		f.windowSeq++
		f.gen++
	}
	f.errMsg = ""
	f.changed()
	return nil
}
