package sweep

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/strongdfc/strongdfc/internal/config"
	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/internal/runner"
	"github.com/strongdfc/strongdfc/presets"
	"github.com/strongdfc/strongdfc/train"
)

// Record is one run folder as Collect reads it: its configuration.yaml
// and summary.json, nothing else.
type Record struct {
	Dir    string
	Preset string
	Config train.Config
	// State is "done", "diverged", "failed" or "unfinished" (no summary,
	// or one of a run that was interrupted).
	State string
	// Summary is nil when the folder has none.
	Summary *summaryFile
}

// The states of a collected run other than the summaries' own.
const unfinished = "unfinished"

// Scan finds every run folder (a folder with a config.yaml) under the
// roots, at any depth, and reads it. Folders whose names start with a
// dot, and the folders inside a run folder, are not searched. Several
// folders are read at once. A folder that cannot be read is reported in
// the errors and left out.
func Scan(roots []string) ([]Record, []error) {
	var (
		mu   sync.Mutex
		recs []Record
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, 32)
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	var visit func(dir string)
	visit = func(dir string) {
		defer wg.Done()
		sem <- struct{}{}
		if _, err := os.Stat(filepath.Join(dir, runfolder.Config)); err == nil {
			rec, err := readRecord(dir)
			<-sem
			if err != nil {
				fail(err)
				return
			}
			mu.Lock()
			recs = append(recs, rec)
			mu.Unlock()
			return
		}
		entries, err := os.ReadDir(dir)
		<-sem
		if err != nil {
			fail(err)
			return
		}
		for _, e := range entries {
			if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				wg.Add(1)
				go visit(filepath.Join(dir, e.Name()))
			}
		}
	}
	for _, r := range roots {
		st, err := os.Stat(r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !st.IsDir() {
			errs = append(errs, fmt.Errorf("%s is a file; give folders that hold run folders", r))
			continue
		}
		wg.Add(1)
		go visit(filepath.Clean(r))
	}
	wg.Wait()
	sort.Slice(recs, func(i, j int) bool { return recs[i].Dir < recs[j].Dir })
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return recs, errs
}

// readRecord reads a run folder's configuration and summary.
func readRecord(dir string) (Record, error) {
	rec := Record{Dir: dir, State: unfinished}
	cfg, preset, err := readConfig(filepath.Join(dir, runfolder.Config))
	if err != nil {
		return rec, err
	}
	rec.Config, rec.Preset = cfg, preset
	sum, err := readSummary(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return rec, nil
	case err != nil:
		return rec, err
	}
	rec.Summary = sum
	switch State(sum.Status) {
	case Done, Diverged, Failed:
		rec.State = sum.Status
	}
	return rec, nil
}

// presetLine finds the preset key of a configuration file written by
// config.Marshal (as run folders' are).
var presetLine = regexp.MustCompile(`(?m)^preset:[ \t]*([A-Za-z0-9._-]+)[ \t]*(#.*)?$`)

// readConfig reads a run folder's configuration (path is its
// config.yaml) as config.Resolve does, parsing the file once instead of
// twice when its preset line is plain (collect spends most of its time
// here). A file written before some key existed, whose preset gives that
// key a value other than zero today, is read as runner.RunConfig reads it
// to resume: on top of the configuration stored in the run's checkpoint,
// so that the run is shown as it ran, not with today's preset values.
func readConfig(path string) (train.Config, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return train.Config{}, "", err
	}
	m := presetLine.FindSubmatch(data)
	if m == nil {
		return config.Resolve(config.Sources{File: path})
	}
	preset := string(m[1])
	base, err := presets.Lookup(preset)
	if err != nil {
		return config.Resolve(config.Sources{File: path})
	}
	cfg, err := config.Decode(path, data, base)
	if err != nil {
		return train.Config{}, "", err
	}
	if lacksKeys(path, data, cfg) {
		dir := filepath.Dir(path)
		if _, err := os.Stat(filepath.Join(dir, runfolder.Checkpoint)); err == nil {
			return runner.RunConfig(dir, nil)
		}
	}
	return cfg.Normalize(), preset, nil
}

// lacksKeys reports whether the configuration file data, decoded on top
// of its preset as cfg, leaves out a key whose preset value is not the
// zero value: decoded on top of the zero configuration it then gives
// another configuration. (Keys whose zero value is the published
// behaviour, the rule for keys added later, need no such care.)
func lacksKeys(path string, data []byte, cfg train.Config) bool {
	bare, err := config.Decode(path, data, train.Config{})
	return err == nil && !reflect.DeepEqual(bare.Normalize(), cfg.Normalize())
}

// Row is one configuration of a table: its runs, and the statistics of
// those that are done.
type Row struct {
	Preset string
	// Config is the configuration (its seed is 0: the seeds differ).
	Config train.Config
	// Values are the table's key columns' values.
	Values []string
	// Runs are the configuration's runs, by seed.
	Runs []Record
	// Stats are the statistics of the done runs, by metric name.
	Stats map[string]Stat
}

// Stat is a metric's mean and sample standard deviation over the done
// runs that report it (N of them; SD is NaN when N < 2).
type Stat struct {
	Mean, SD float64
	N        int
}

// Metrics are the per-run numbers a table averages, in its order:
// test accuracy, best validation accuracy, test loss, training epochs,
// the run's time (epoch_seconds, else wall_seconds of an older summary)
// and training samples per second.
var Metrics = []string{"test_accuracy", "best_validation_accuracy", "test_loss", "epochs", "seconds", "samples_per_second"}

func metric(s *summaryFile, name string) (float64, bool) {
	ptr := func(p *float64) (float64, bool) {
		if p == nil {
			return math.NaN(), false
		}
		return *p, true
	}
	switch name {
	case "test_accuracy":
		return ptr(s.TestAccuracy)
	case "best_validation_accuracy":
		return ptr(s.BestValidationAccuracy)
	case "test_loss":
		return ptr(s.TestLoss)
	case "epochs":
		return float64(s.Epochs), true
	case "seconds":
		if s.EpochSeconds != nil {
			return *s.EpochSeconds, true
		}
		return s.WallSeconds, true
	case "samples_per_second":
		return s.SamplesPerSecond, s.SamplesPerSecond > 0
	}
	return math.NaN(), false
}

// Table is the runs grouped by configuration (all keys but the seed).
type Table struct {
	// Keys are the configuration keys that some configuration changes
	// from its preset (the seed aside), sorted; Constant are those of
	// them with the same value in every row.
	Keys     []string
	Constant map[string]bool
	Rows     []Row
	// Runs counts the run folders.
	Runs int
}

// NewTable groups records by configuration and computes each group's
// statistics over its done runs.
func NewTable(recs []Record) *Table {
	t := &Table{Constant: map[string]bool{}, Runs: len(recs)}
	index := map[string]int{}
	for _, r := range recs {
		c := r.Config.Normalize()
		c.Seed = 0
		b, _ := json.Marshal(c)
		k := r.Preset + "\x00" + string(b)
		i, ok := index[k]
		if !ok {
			i = len(t.Rows)
			index[k] = i
			t.Rows = append(t.Rows, Row{Preset: r.Preset, Config: c})
		}
		t.Rows[i].Runs = append(t.Rows[i].Runs, r)
	}
	// The key columns: what each configuration changes from its preset.
	keys := map[string]bool{}
	flat := make([]map[string]string, len(t.Rows))
	for i, row := range t.Rows {
		flat[i], _ = Flatten(row.Config)
		base, err := presets.Lookup(row.Preset)
		if err != nil {
			continue
		}
		base.Seed = 0
		for _, k := range Diff(row.Config, base) {
			keys[k] = true
		}
	}
	for k := range keys {
		t.Keys = append(t.Keys, k)
	}
	sort.Strings(t.Keys)
	for _, k := range t.Keys {
		t.Constant[k] = true
		for i := range t.Rows {
			if flat[i][k] != flat[0][k] {
				t.Constant[k] = false
			}
		}
	}
	for i := range t.Rows {
		row := &t.Rows[i]
		for _, k := range t.Keys {
			row.Values = append(row.Values, flat[i][k])
		}
		sort.SliceStable(row.Runs, func(a, b int) bool { return row.Runs[a].Config.Seed < row.Runs[b].Config.Seed })
		row.Stats = map[string]Stat{}
		for _, m := range Metrics {
			var xs []float64
			for _, r := range row.Runs {
				if r.State != string(Done) {
					continue
				}
				if x, ok := metric(r.Summary, m); ok && !math.IsNaN(x) {
					xs = append(xs, x)
				}
			}
			row.Stats[m] = stat(xs)
		}
	}
	sort.SliceStable(t.Rows, func(a, b int) bool {
		ra, rb := t.Rows[a], t.Rows[b]
		if ra.Preset != rb.Preset {
			return ra.Preset < rb.Preset
		}
		for j := range ra.Values {
			if c := compareValues(ra.Values[j], rb.Values[j]); c != 0 {
				return c < 0
			}
		}
		return false
	})
	return t
}

// compareValues orders numbers by value, other text as text.
func compareValues(a, b string) int {
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	if errA == nil && errB == nil {
		return cmp.Compare(x, y)
	}
	return strings.Compare(a, b)
}

func stat(xs []float64) Stat {
	s := Stat{Mean: math.NaN(), SD: math.NaN(), N: len(xs)}
	if len(xs) == 0 {
		return s
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	s.Mean = sum / float64(len(xs))
	if len(xs) > 1 {
		var ss float64
		for _, x := range xs {
			ss += (x - s.Mean) * (x - s.Mean)
		}
		s.SD = math.Sqrt(ss / float64(len(xs)-1))
	}
	return s
}

// Counts returns how many of the row's runs are in each state.
func (r Row) Counts() map[string]int {
	c := map[string]int{}
	for _, x := range r.Runs {
		c[x.State]++
	}
	return c
}

// Excluded says which runs are not in the means and why: "1 diverged
// (seed 3); 2 unfinished (seeds 4, 5)"; and names seeds that are done
// more than once (a configuration run twice, e.g. in two sweeps).
func (r Row) Excluded() string {
	var parts []string
	for _, st := range []string{string(Failed), string(Diverged), unfinished} {
		var seeds []string
		for _, x := range r.Runs {
			if x.State == st {
				seeds = append(seeds, strconv.FormatUint(x.Config.Seed, 10))
			}
		}
		if len(seeds) == 0 {
			continue
		}
		noun := "seed"
		if len(seeds) > 1 {
			noun = "seeds"
		}
		parts = append(parts, fmt.Sprintf("%d %s (%s %s)", len(seeds), st, noun, strings.Join(seeds, ", ")))
	}
	done := map[uint64]int{}
	for _, x := range r.Runs {
		if x.State == string(Done) {
			done[x.Config.Seed]++
		}
	}
	for _, s := range slices.Sorted(maps.Keys(done)) {
		if done[s] > 1 {
			parts = append(parts, fmt.Sprintf("seed %d done %d times (all in the means)", s, done[s]))
		}
	}
	return strings.Join(parts, "; ")
}

// seedList returns the seeds of the row's done runs: "1 2 3".
func (r Row) seedList() string {
	var s []string
	for _, x := range r.Runs {
		if x.State == string(Done) {
			s = append(s, strconv.FormatUint(x.Config.Seed, 10))
		}
	}
	return strings.Join(s, " ")
}

func num(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return ""
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

// WriteCSV writes one row per configuration: preset, method, data set,
// every key column, the counts of runs by state, each metric's mean and
// sd (accuracies as fractions, time in seconds), and the runs left out of
// the means.
func (t *Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	header := []string{"preset", "method", "dataset"}
	header = append(header, t.Keys...)
	header = append(header, "runs", "seeds", "seed_list", "done", "failed", "diverged", "unfinished")
	for _, m := range Metrics {
		header = append(header, m+"_mean", m+"_sd")
	}
	header = append(header, "not_in_means")
	cw.Write(header)
	for _, r := range t.Rows {
		c := r.Counts()
		rec := []string{r.Preset, r.Config.Method, r.Config.Dataset}
		rec = append(rec, r.Values...)
		rec = append(rec, strconv.Itoa(len(r.Runs)), strconv.Itoa(c[string(Done)]), r.seedList(),
			strconv.Itoa(c[string(Done)]), strconv.Itoa(c[string(Failed)]), strconv.Itoa(c[string(Diverged)]), strconv.Itoa(c[unfinished]))
		for _, m := range Metrics {
			s := r.Stats[m]
			rec = append(rec, num(s.Mean), num(s.SD))
		}
		rec = append(rec, r.Excluded())
		cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// WriteRunsCSV writes one row per run folder: its folder, preset, key
// columns, seed, state, metrics and error.
func (t *Table) WriteRunsCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	header := []string{"dir", "preset", "method", "dataset"}
	header = append(header, t.Keys...)
	header = append(header, "seed", "state")
	header = append(header, Metrics...)
	header = append(header, "error")
	cw.Write(header)
	for _, r := range t.Rows {
		for _, x := range r.Runs {
			rec := []string{x.Dir, r.Preset, r.Config.Method, r.Config.Dataset}
			rec = append(rec, r.Values...)
			rec = append(rec, strconv.FormatUint(x.Config.Seed, 10), x.State)
			errText := ""
			for _, m := range Metrics {
				v := ""
				if x.Summary != nil {
					if f, ok := metric(x.Summary, m); ok {
						v = num(f)
					}
				}
				rec = append(rec, v)
			}
			if x.Summary != nil {
				errText = x.Summary.Error
			}
			rec = append(rec, errText)
			cw.Write(rec)
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteMarkdown writes the table for people: the keys that every row
// shares above it, one row per configuration with the keys that differ,
// the number of seeds in the means, each metric as mean ± sd, and the
// runs left out of the means.
func (t *Table) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	var cols []int
	var shared []string
	for i, k := range t.Keys {
		if t.Constant[k] && len(t.Rows) > 1 {
			shared = append(shared, k+"="+t.Rows[0].Values[i])
		} else {
			cols = append(cols, i)
		}
	}
	fmt.Fprintf(&b, "%d runs in %d configurations. Mean ± standard deviation over the seeds that finished (n: their number); runs that failed, diverged or are unfinished are listed per row and not in the means.\n", t.Runs, len(t.Rows))
	if len(shared) > 0 {
		fmt.Fprintf(&b, "Every run: %s.\n", strings.Join(shared, ", "))
	}
	b.WriteString("\n| preset |")
	for _, i := range cols {
		fmt.Fprintf(&b, " %s |", t.Keys[i])
	}
	b.WriteString(" n | test accuracy | best validation accuracy | test loss | epochs | time per run | samples/s | not in the means |\n|---|")
	for range cols {
		b.WriteString("---|")
	}
	b.WriteString("--:|--:|--:|--:|--:|--:|--:|---|\n")
	for _, r := range t.Rows {
		fmt.Fprintf(&b, "| %s |", r.Preset)
		for _, i := range cols {
			fmt.Fprintf(&b, " %s |", mdEscape(r.Values[i]))
		}
		fmt.Fprintf(&b, " %d | %s | %s | %s | %s | %s | %s | %s |\n",
			r.Counts()[string(Done)],
			fmtStat(r.Stats["test_accuracy"], percent), fmtStat(r.Stats["best_validation_accuracy"], percent),
			fmtStat(r.Stats["test_loss"], fixed4), fmtEpochs(r.Stats["epochs"]),
			fmtStat(r.Stats["seconds"], duration), fmtStat(r.Stats["samples_per_second"], fixed0),
			mdEscape(r.Excluded()))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func percent(x float64) string { return strconv.FormatFloat(100*x, 'f', 2, 64) + " %" }
func fixed4(x float64) string  { return strconv.FormatFloat(x, 'f', 4, 64) }
func fixed0(x float64) string  { return strconv.FormatFloat(x, 'f', 0, 64) }

func duration(x float64) string {
	d := time.Duration(x * float64(time.Second))
	switch {
	case d >= time.Hour:
		return fmt.Sprintf("%d h %02d min", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%d min %02d s", int(d.Minutes()), int(d.Seconds())%60)
	}
	return strconv.FormatFloat(x, 'f', 1, 64) + " s"
}

// fmtStat writes "mean ± sd" (the sd in the mean's unit; "mean" alone
// for one run, "—" for none).
func fmtStat(s Stat, f func(float64) string) string {
	if s.N == 0 {
		return "—"
	}
	m := f(s.Mean)
	if s.N < 2 {
		return m
	}
	sd := f(s.SD)
	if unit, ok := strings.CutPrefix(m, strings.TrimRight(m, " %")); ok && unit != "" {
		return strings.TrimSuffix(m, unit) + " ± " + sd
	}
	return m + " ± " + sd
}

func fmtEpochs(s Stat) string {
	if s.N == 0 {
		return "—"
	}
	if s.N < 2 || s.SD == 0 {
		return strconv.FormatFloat(s.Mean, 'g', -1, 64)
	}
	return fmtStat(s, func(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) })
}
