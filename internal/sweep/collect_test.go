package sweep

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strongdfc/strongdfc/presets"
)

// TestCollect: runs are grouped by configuration whatever their folders;
// the means and standard deviations are over the done runs only; failed,
// diverged and unfinished runs are named per row, by seed.
func TestCollect(t *testing.T) {
	root := t.TempDir()
	bp, _ := presets.Lookup("mnist-bp")
	bp.Epochs = 3
	lr := bp
	lr.Forward.LR = 0.01
	dfc, _ := presets.Lookup("mnist-strong-dfc")
	dfc.Epochs = 3
	// bp, 3 epochs: seeds 1, 2 done (0.90, 0.94), 3 diverged (0.10);
	// in two sweeps' folders.
	for _, r := range []struct {
		dir    string
		seed   uint64
		status string
		acc    float64
	}{{"a/bp_seed=1", 1, "done", 0.90}, {"b/deeper/bp_seed=2", 2, "done", 0.94}, {"a/bp_seed=3", 3, "diverged", 0.10}} {
		c := bp
		c.Seed = r.seed
		fakeRun(t, filepath.Join(root, r.dir), "mnist-bp", c, r.status, r.acc, true, 3)
	}
	// bp with lr 0.01: seed 1 done (0.80), 2 failed, 3 interrupted, 4
	// killed (no summary), 5 done (0.84).
	for _, r := range []struct {
		seed   uint64
		status string
		acc    float64
		cp     bool
	}{{1, "done", 0.80, true}, {2, "failed", 0, false}, {3, "interrupted", 0.5, true}, {4, "", 0, true}, {5, "done", 0.84, true}} {
		c := lr
		c.Seed = r.seed
		fakeRun(t, filepath.Join(root, "a", fmt.Sprintf("lr_seed=%d", r.seed)), "mnist-bp", c, r.status, r.acc, r.cp, 2)
	}
	// strong-dfc: one seed done; an identical folder elsewhere (the same
	// seed done twice).
	for _, d := range []string{"a/sdfc_seed=1", "c/sdfc_seed=1"} {
		c := dfc
		c.Seed = 1
		fakeRun(t, filepath.Join(root, d), "mnist-strong-dfc", c, "done", 0.7, true, 3)
	}
	// Folders that are not searched: dot folders, a run's subfolders.
	fakeRun(t, filepath.Join(root, "a", ".sweep", "x"), "mnist-bp", bp, "done", 0.1, true, 3)
	fakeRun(t, filepath.Join(root, "a", "bp_seed=1", "plots", "x"), "mnist-bp", bp, "done", 0.1, true, 3)
	// A folder that cannot be read is reported, not fatal.
	os.MkdirAll(filepath.Join(root, "c", "broken"), 0o755)
	os.WriteFile(filepath.Join(root, "c", "broken", "config.yaml"), []byte("epochs: [\n"), 0o644)

	recs, errs := Scan([]string{filepath.Join(root, "a"), filepath.Join(root, "b"), filepath.Join(root, "c")})
	if len(recs) != 10 || len(errs) != 1 || !strings.Contains(errs[0].Error(), "broken") {
		t.Fatalf("%d records, errors %v", len(recs), errs)
	}
	tab := NewTable(recs)
	if len(tab.Rows) != 3 {
		t.Fatalf("%d rows, want 3", len(tab.Rows))
	}
	if strings.Join(tab.Keys, " ") != "epochs forward.lr" || tab.Constant["epochs"] != true || tab.Constant["forward.lr"] {
		t.Errorf("keys %v constant %v", tab.Keys, tab.Constant)
	}
	// Rows: mnist-bp lr 0.002, mnist-bp lr 0.01, mnist-strong-dfc.
	r0, r1, r2 := tab.Rows[0], tab.Rows[1], tab.Rows[2]
	if r0.Preset != "mnist-bp" || r0.Values[1] != "0.002" || r1.Values[1] != "0.01" || r2.Preset != "mnist-strong-dfc" {
		t.Fatalf("rows %v / %v / %v", r0.Values, r1.Values, r2.Values)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	if s := r0.Stats["test_accuracy"]; s.N != 2 || !near(s.Mean, 0.92) || !near(s.SD, math.Sqrt(0.0008)) {
		t.Errorf("bp test accuracy %+v; the diverged run must not be in it", s)
	}
	if s := r1.Stats["test_accuracy"]; s.N != 2 || !near(s.Mean, 0.82) {
		t.Errorf("lr test accuracy %+v; only the done runs count", s)
	}
	if s := r1.Stats["seconds"]; !near(s.Mean, 3000*0.82) {
		t.Errorf("seconds %+v (epoch_seconds)", s)
	}
	if got := r0.Excluded(); got != "1 diverged (seed 3)" {
		t.Errorf("bp excluded %q", got)
	}
	if got := r1.Excluded(); got != "1 failed (seed 2); 2 unfinished (seeds 3, 4)" {
		t.Errorf("lr excluded %q", got)
	}
	if got := r2.Excluded(); got != "seed 1 done 2 times (all in the means)" {
		t.Errorf("sdfc excluded %q", got)
	}

	var md bytes.Buffer
	tab.WriteMarkdown(&md)
	for _, want := range []string{
		"10 runs in 3 configurations",
		"Every run: epochs=3.",
		"| preset | forward.lr | n | test accuracy |",
		"| mnist-bp | 0.002 | 2 | 92.00 ± 2.83 % | 93.00 ± 2.83 % | 0.0800 ± 0.0283 | 3 | 46 min 00 s ± 1 min 24 s | 92 ± 3 | 1 diverged (seed 3) |",
		"| mnist-bp | 0.01 | 2 | 82.00 ± 2.83 % |",
		"1 failed (seed 2); 2 unfinished (seeds 3, 4) |",
		"| mnist-strong-dfc | 0.0003095880739373081 | 2 | 70.00 ± 0.00 % |",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("the Markdown table lacks %q:\n%s", want, md.String())
		}
	}
	var c bytes.Buffer
	tab.WriteCSV(&c)
	rows, err := csv.NewReader(&c).ReadAll()
	if err != nil || len(rows) != 4 {
		t.Fatalf("CSV: %d rows, %v", len(rows), err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	if v, _ := strconv.ParseFloat(rows[2][col["test_accuracy_mean"]], 64); !near(v, 0.82) {
		t.Errorf("CSV test_accuracy_mean %v", v)
	}
	if v := rows[2][col["failed"]] + rows[2][col["unfinished"]] + rows[2][col["seed_list"]]; v != "121 5" {
		t.Errorf("CSV counts %q", v)
	}
	var rc bytes.Buffer
	tab.WriteRunsCSV(&rc)
	runs, err := csv.NewReader(&rc).ReadAll()
	if err != nil || len(runs) != 11 {
		t.Fatalf("runs CSV: %d rows, %v", len(runs), err)
	}
}

// TestCollectMany: thousands of run folders are read in seconds.
func TestCollectMany(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 200
	}
	root := t.TempDir()
	base, _ := presets.Lookup("mnist-strong-dfc")
	for i := range n {
		c := base
		c.Seed = uint64(i%10 + 1)
		c.Forward.LR = float64(i/10+1) * 1e-5
		fakeRun(t, filepath.Join(root, fmt.Sprintf("sweep%d", i%7), fmt.Sprintf("run%d", i)), "mnist-strong-dfc", c, "done", 0.5+float64(i%10)/100, true, 40)
	}
	start := time.Now()
	recs, errs := Scan([]string{root})
	tab := NewTable(recs)
	took := time.Since(start)
	t.Logf("%d run folders in %s", n, took)
	if len(recs) != n || len(errs) != 0 || len(tab.Rows) != n/10 {
		t.Fatalf("%d records, %d rows, %v", len(recs), len(tab.Rows), errs)
	}
	if s := tab.Rows[0].Stats["test_accuracy"]; s.N != 10 || math.Abs(s.Mean-0.545) > 1e-12 {
		t.Errorf("%+v", s)
	}
	if took > 20*time.Second {
		t.Errorf("%d run folders took %s", n, took)
	}
}
