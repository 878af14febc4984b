package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/train"
)

// State is where a run stands, as its run folder tells.
type State string

// The states of a run.
const (
	// Pending: no run folder yet, or one without a checkpoint (the run
	// stopped before its first); the run starts from the beginning.
	Pending State = "pending"
	// Running: a process holds the run folder's lock.
	Running State = "running"
	// Interrupted: a checkpoint and no final summary (stopped by a
	// signal, killed, or its job ended); the run continues from the
	// checkpoint.
	Interrupted State = "interrupted"
	// Done: summary.json says "done", the marker of a finished run.
	Done State = "done"
	// Diverged: the run stopped on NaN or infinite values; running it
	// again would diverge again, so the executors leave it.
	Diverged State = "diverged"
	// Failed: the run stopped on an error (summary.json says why); the
	// executors try it again.
	Failed State = "failed"
)

// States lists the states in the order reports give them.
var States = []State{Done, Running, Interrupted, Pending, Failed, Diverged}

// Final reports whether the executors leave a run in this state alone.
func (s State) Final() bool { return s == Done || s == Diverged }

// Status is a run's state and what its folder says about it.
type Status struct {
	// Run is the planned run, State where it stands.
	Run   Run
	State State
	// Holder is the process that runs it (Running).
	Holder runfolder.Holder
	// Epochs counts the training epochs finished (from the summary, or
	// from metrics.jsonl while the run is unfinished).
	Epochs int
	// Error is summary.json's error (Failed, Diverged, Interrupted).
	Error string
	// TestAccuracy is the summary's (NaN when not known).
	TestAccuracy *float64
	// Conflict says how the folder's configuration differs from the
	// planned one ("" when it does not, or there is none yet).
	Conflict string
}

// summaryFile is what status and collect read of summary.json.
type summaryFile struct {
	Status                 string   `json:"status"`
	Error                  string   `json:"error"`
	StoppedAt              string   `json:"stopped_at"`
	Method                 string   `json:"method"`
	Dataset                string   `json:"dataset"`
	Epochs                 int      `json:"epochs"`
	PretrainEpochs         int      `json:"pretrain_epochs"`
	TrainSamples           int      `json:"train_samples"`
	TestAccuracy           *float64 `json:"test_accuracy"`
	TestLoss               *float64 `json:"test_loss"`
	ValidationAccuracy     *float64 `json:"validation_accuracy"`
	BestValidationAccuracy *float64 `json:"best_validation_accuracy"`
	SamplesPerSecond       float64  `json:"samples_per_second"`
	WallSeconds            float64  `json:"wall_seconds"`
	EpochSeconds           *float64 `json:"epoch_seconds"`
	Seed                   uint64   `json:"seed"`
}

func readSummary(dir string) (*summaryFile, error) {
	b, err := os.ReadFile(filepath.Join(dir, runfolder.Summary))
	if err != nil {
		return nil, err
	}
	var s summaryFile
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, runfolder.Summary), err)
	}
	return &s, nil
}

// Inspect tells a run's state from its run folder alone: the lock, the
// summary, the checkpoint. With check, a configuration file in the
// folder is compared with the planned configuration.
func Inspect(r Run, check bool) (Status, error) {
	st := Status{Run: r, State: Pending}
	if _, err := os.Stat(r.Dir); errors.Is(err, os.ErrNotExist) {
		return st, nil
	} else if err != nil {
		return st, err
	}
	if check {
		c, err := conflict(r)
		if err != nil {
			return st, err
		}
		st.Conflict = c
	}
	held, h, err := runfolder.Probe(r.Dir)
	if err != nil {
		return st, err
	}
	sum, serr := readSummary(r.Dir)
	_, cerr := os.Stat(filepath.Join(r.Dir, runfolder.Checkpoint))
	hasCheckpoint := cerr == nil
	switch {
	case held:
		st.State, st.Holder = Running, h
	case serr == nil && sum.Status == string(Done):
		st.State = Done
	case serr == nil && sum.Status == string(Diverged):
		st.State = Diverged
	case serr == nil && sum.Status == string(Failed):
		st.State = Failed
	case hasCheckpoint:
		st.State = Interrupted
	}
	if serr == nil {
		st.Epochs, st.TestAccuracy = sum.Epochs, sum.TestAccuracy
		if st.State != Done {
			st.Error = sum.Error
		}
	}
	if st.State == Running || st.State == Interrupted || st.State == Pending {
		st.Epochs = trainRows(filepath.Join(r.Dir, runfolder.MetricsJS))
	}
	return st, nil
}

// trainRows counts the training epochs in a metrics.jsonl file.
func trainRows(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte(`{"phase":"train"`))
}

// conflict compares the run folder's config.yaml, if any, with the
// planned configuration.
func conflict(r Run) (string, error) {
	path := filepath.Join(r.Dir, runfolder.Config)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	cfg, _, err := readConfig(path)
	if err != nil {
		return "", err
	}
	d := Diff(cfg, r.Config)
	if len(d) == 0 {
		return "", nil
	}
	a, _ := Flatten(cfg)
	b, _ := Flatten(r.Config)
	for i, k := range d {
		d[i] = fmt.Sprintf("%s %s → %s", k, a[k], b[k])
	}
	return strings.Join(d, ", "), nil
}

// Survey inspects every run, several folders at once.
func Survey(runs []Run, check bool) ([]Status, error) {
	out := make([]Status, len(runs))
	errs := make([]error, len(runs))
	parallel(len(runs), func(i int) { out[i], errs[i] = Inspect(runs[i], check) })
	return out, errors.Join(errs...)
}

// parallel calls f(0..n-1) on a few goroutines: reading run folders is
// waiting for the file system, more so on a cluster's network file
// system.
func parallel(n int, f func(int)) {
	const workers = 16
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// Counts counts the runs in each state.
func Counts(st []Status) map[State]int {
	c := map[State]int{}
	for _, s := range st {
		c[s.State]++
	}
	return c
}

// CountLine says how many runs are in which state: "8 runs: 3 done,
// 1 running, 4 pending".
func CountLine(st []Status) string {
	c := Counts(st)
	var parts []string
	for _, s := range States {
		if c[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[s], s))
		}
	}
	noun := "runs"
	if len(st) == 1 {
		noun = "run"
	}
	return fmt.Sprintf("%d %s: %s", len(st), noun, strings.Join(parts, ", "))
}

// Flatten returns a configuration's values by dotted key (lists and
// strings as JSON text without quotes for strings), and the keys in
// order.
func Flatten(c train.Config) (map[string]string, []string) {
	b, _ := json.Marshal(c.Normalize())
	var m map[string]any
	json.Unmarshal(b, &m)
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if prefix != "" {
					k = prefix + "." + k
				}
				walk(k, e)
			}
		case string:
			out[prefix] = x
		default:
			b, _ := json.Marshal(x)
			out[prefix] = string(b)
		}
	}
	walk("", m)
	keys := make([]string, 0, len(out))
	for k := range out {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return out, keys
}

// Diff returns the dotted keys whose values differ between a and b,
// sorted.
func Diff(a, b train.Config) []string {
	if reflect.DeepEqual(a.Normalize(), b.Normalize()) {
		return nil
	}
	fa, ka := Flatten(a)
	fb, kb := Flatten(b)
	seen := map[string]bool{}
	var out []string
	for _, k := range append(ka, kb...) {
		if !seen[k] && fa[k] != fb[k] {
			out = append(out, k)
		}
		seen[k] = true
	}
	sort.Strings(out)
	return out
}
