package sweep

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strongdfc/strongdfc/internal/config"
	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/train"
)

// fakeRun writes a run folder as the runner leaves it: config.yaml, and
// as asked a checkpoint, metrics rows and a summary with the status (""
// for none) and test accuracy acc.
func fakeRun(t testing.TB, dir, preset string, cfg train.Config, status string, acc float64, checkpoint bool, trainRows int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	y, err := config.Marshal(cfg, preset)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, runfolder.Config), y, 0o644)
	if checkpoint {
		os.WriteFile(filepath.Join(dir, runfolder.Checkpoint), []byte("npz"), 0o644)
	}
	var rows strings.Builder
	for e := 1; e <= trainRows; e++ {
		fmt.Fprintf(&rows, `{"phase":"train","epoch":%d}`+"\n", e)
	}
	os.WriteFile(filepath.Join(dir, runfolder.MetricsJS), []byte(rows.String()), 0o644)
	if status == "" {
		return
	}
	sum := map[string]any{
		"status": status, "method": cfg.Method, "dataset": cfg.Dataset, "epochs": trainRows, "seed": cfg.Seed,
		"test_accuracy": acc, "best_validation_accuracy": acc + 0.01, "test_loss": 1 - acc,
		"samples_per_second": 100 * acc, "wall_seconds": 3600 * acc, "epoch_seconds": 3000 * acc,
	}
	if status != "done" {
		sum["error"] = "it went " + status
	}
	b, _ := json.Marshal(sum)
	os.WriteFile(filepath.Join(dir, runfolder.Summary), b, 0o644)
}

// TestInspect: each state is told from the run folder alone.
func TestInspect(t *testing.T) {
	p := plan(t, "preset: mnist-bp\nset: {epochs: 3}\nseeds: 7\n")
	runs := p.Runs
	r := func(i int) Run { return runs[i] }
	cfg := func(i int) train.Config { return runs[i].Config }
	// 0: no folder. 1: a folder without checkpoint (killed before it).
	os.MkdirAll(r(1).Dir, 0o755)
	fakeRun(t, r(1).Dir, "mnist-bp", cfg(1), "", 0, false, 0)
	fakeRun(t, r(2).Dir, "mnist-bp", cfg(2), "", 0, true, 2)              // killed: checkpoint only
	fakeRun(t, r(3).Dir, "mnist-bp", cfg(3), "interrupted", 0.5, true, 1) // stopped by a signal
	fakeRun(t, r(4).Dir, "mnist-bp", cfg(4), "done", 0.9, true, 3)        // done
	fakeRun(t, r(5).Dir, "mnist-bp", cfg(5), "diverged", 0.1, true, 1)    // diverged
	fakeRun(t, r(6).Dir, "mnist-bp", cfg(6), "failed", 0, false, 0)       // failed before a checkpoint
	lock, err := runfolder.TryLock(r(3).Dir)                              // 3 is running again
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	st, err := Survey(runs, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []State{Pending, Pending, Interrupted, Running, Done, Diverged, Failed}
	for i, s := range st {
		if s.State != want[i] {
			t.Errorf("run %d: %s, want %s", i, s.State, want[i])
		}
		if s.Conflict != "" {
			t.Errorf("run %d: conflict %s", i, s.Conflict)
		}
	}
	if st[3].Holder.PID != os.Getpid() || st[3].Epochs != 1 {
		t.Errorf("running: holder %+v, epochs %d", st[3].Holder, st[3].Epochs)
	}
	if st[2].Epochs != 2 || st[4].Epochs != 3 || *st[4].TestAccuracy != 0.9 || st[5].Error != "it went diverged" {
		t.Errorf("details: %+v", st)
	}
	if got := CountLine(st); got != "7 runs: 1 done, 1 running, 1 interrupted, 2 pending, 1 failed, 1 diverged" {
		t.Errorf("CountLine: %q", got)
	}
	// A folder whose configuration is not the planned one is flagged.
	other := cfg(4)
	other.Epochs = 40
	fakeRun(t, r(4).Dir, "mnist-bp", other, "done", 0.9, true, 40)
	s, err := Inspect(r(4), true)
	if err != nil || s.Conflict != "epochs 40 → 3" {
		t.Errorf("conflict %q, %v", s.Conflict, err)
	}
}

// TestDataDirs: --data DIR serves every data set, NAME=DIR one.
func TestDataDirs(t *testing.T) {
	d, err := ParseDataDirs([]string{"/all", "fashion-mnist=/f", "mnist=rel"})
	wd, _ := os.Getwd()
	if err != nil || d.For("fashion-mnist") != "/f" || d.For("mnist") != filepath.Join(wd, "rel") || d.For("cifar") != "/all" {
		t.Errorf("%v %v", d, err)
	}
	if d, _ := ParseDataDirs([]string{"x=y"}); d.For("mnist") != filepath.Join(wd, "x=y") {
		t.Errorf("a folder named x=y: %v", d)
	}
	for _, bad := range [][]string{{"mnist="}, {"/a", "/b"}, {"mnist=/a", "mnist=/b"}} {
		if _, err := ParseDataDirs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestTaskFile: a task file reads back to the same runs, and array tasks
// get their share.
func TestTaskFile(t *testing.T) {
	p := plan(t, gridSweep)
	var b strings.Builder
	if err := p.NewTaskFile(p.Runs, DataDirs{"mnist": "/data"}).Write(&b); err != nil {
		t.Fatal(err)
	}
	tf, err := ReadTaskFile("t.json", strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(tf.Runs) != len(p.Runs) || tf.Data.For("mnist") != "/data" || tf.Data.For("fashion-mnist") != "" || tf.Out != p.Out {
		t.Fatalf("%d runs, %v, %q", len(tf.Runs), tf.Data, tf.Out)
	}
	for i := range tf.Runs {
		if d := Diff(tf.Runs[i].Config, p.Runs[i].Config); len(d) != 0 || tf.Runs[i].Dir != p.Runs[i].Dir {
			t.Errorf("run %d differs after the round trip: %v", i, d)
		}
	}
	runs, err := tf.Task(5, 3) // runs 15 (the last)
	if err != nil || len(runs) != 1 || runs[0].Index != 15 {
		t.Errorf("task 5 of 3 per task: %v, %v", runs, err)
	}
	runs, _ = tf.Task(1, 3)
	if len(runs) != 3 || runs[0].Index != 3 {
		t.Errorf("task 1: %v", runs)
	}
	if _, err := tf.Task(6, 3); err == nil || !strings.Contains(err.Error(), "tasks 0 to 5") {
		t.Errorf("task 6: %v", err)
	}
	if _, err := ReadTaskFile("t.json", strings.NewReader(`{"format": 9}`)); err == nil || !strings.Contains(err.Error(), "format 9") {
		t.Errorf("format: %v", err)
	}
}
