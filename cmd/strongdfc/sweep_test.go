package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/internal/runner"
	"github.com/strongdfc/strongdfc/internal/sweep"
	"github.com/strongdfc/strongdfc/train"
)

// sweepEnv is a test environment with a sweep file of 2 configurations
// × 2 seeds of the tiny configuration.
type sweepEnv struct {
	*env
	file string // the sweep file
	out  string // its run folders
	runs []sweep.Run
}

func newSweepEnv(t *testing.T, epochs int) *sweepEnv {
	e := &sweepEnv{env: newEnv(t)}
	e.file = filepath.Join(t.TempDir(), "study.yaml")
	e.out = filepath.Join(t.TempDir(), "study")
	text := fmt.Sprintf(`name: study
description: two learning rates, two seeds
out: %s
config: %s
set: {epochs: %d, pretrain.epochs: 0}
grid:
  forward.lr: [0.01, 0.02]
seeds: 2
`, e.out, e.cfg, epochs)
	if err := os.WriteFile(e.file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := sweep.Load(e.file)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Plan("")
	if err != nil {
		t.Fatal(err)
	}
	e.runs = p.Runs
	return e
}

func (e *sweepEnv) state(i int) sweep.State {
	st, err := sweep.Inspect(e.runs[i], false)
	if err != nil {
		e.t.Fatal(err)
	}
	return st.State
}

// waitUntil polls cond for up to a minute.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for start := time.Now(); time.Since(start) < time.Minute; time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting until %s", what)
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestSweepLocal: a sweep run by the local executor, stopped by SIGTERM,
// started again, killed with SIGKILL, and started again, runs only what is
// left each time: finished runs are not touched, stopped ones continue
// from their checkpoints and end with the same bits as runs never
// stopped. Then plan, status and collect tell the truth about it.
func TestSweepLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the command in child processes")
	}
	e := newSweepEnv(t, 12)
	// The executors' children are this test binary, as the command.
	t.Setenv("STRONGDFC_CLI", "1")

	code, stdout, stderr := cli(context.Background(), "sweep", "plan", e.file)
	if code != 0 || strings.Count(stdout, "\n") != 5 || !strings.Contains(stdout, "forward.lr=0.02_seed=2") ||
		!strings.Contains(stdout, "2 configurations × 2 seeds") {
		t.Fatalf("plan: exit %d\n%s%s", code, stdout, stderr)
	}
	run := func() (*os.Process, *bytes.Buffer) {
		cmd, errb := cliProcess(t, "sweep", "run", e.file, "--local", "1", "--data", e.data)
		return cmd.Process, errb
	}
	cp := func(i int) string { return filepath.Join(e.runs[i].Dir, runfolder.Checkpoint) }

	// 1. SIGTERM as soon as run 0 has its first checkpoint: the run saves
	// its state, the executor exits with 143.
	p, errb := run()
	waitUntil(t, "run 0 has a checkpoint", func() bool { return exists(cp(0)) })
	p.Signal(syscall.SIGTERM)
	st, _ := p.Wait()
	if st.ExitCode() != 143 || e.state(0) != sweep.Interrupted {
		t.Fatalf("SIGTERM: exit %d, run 0 %s\n%s", st.ExitCode(), e.state(0), errb)
	}

	// 2. Started again, and killed (-9) once run 0 is done and run 1 has a
	// checkpoint: the kernel stops run 1's process (SIGTERM), which saves
	// its state.
	p, errb = run()
	waitUntil(t, "run 0 is done and run 1 has a checkpoint", func() bool {
		return exists(cp(1)) && e.state(0) == sweep.Done
	})
	p.Kill()
	p.Wait()
	waitUntil(t, "run 1's process has stopped", func() bool { return e.state(1) != sweep.Running })
	if s := e.state(1); s != sweep.Interrupted {
		t.Fatalf("after the executor was killed, run 1 is %s, want interrupted (its process should have got SIGTERM)\n%s", s, errb)
	}
	done0 := snapshotTree(t, e.runs[0].Dir)

	// 3. Started again: runs only what is left.
	code, _, stderr = cli(context.Background(), "sweep", "run", e.file, "--local", "2", "--data", e.data)
	if code != 0 || !strings.Contains(stderr, "4 runs: 1 done, 1 interrupted, 2 pending; 3 to run") || !strings.Contains(stderr, "4 runs: 4 done") {
		t.Fatalf("third executor: exit %d\n%s", code, stderr)
	}
	if after := snapshotTree(t, e.runs[0].Dir); fmt.Sprint(after) != fmt.Sprint(done0) {
		t.Error("the finished run's folder changed when the sweep ran again")
	}
	for i := range e.runs {
		if s := e.state(i); s != sweep.Done {
			t.Errorf("run %d: %s", i, s)
		}
	}
	// Runs 0 and 1 were stopped and continued: the same bits as
	// uninterrupted runs (train with the same configuration).
	for i, lr := range []string{"0.01", "0.02"} {
		var meta runner.Meta
		b, _ := os.ReadFile(filepath.Join(e.runs[i].Dir, runfolder.Meta))
		if err := json.Unmarshal(b, &meta); err != nil || len(meta.Resumed) == 0 {
			t.Errorf("run %d was not resumed: %+v %v", i, meta.Resumed, err)
		}
		name := "ref" + lr
		e.mustTrain("--config", e.cfg, "--set", "epochs=12", "--set", "pretrain.epochs=0", "--set", "forward.lr="+lr, "--seed", "1", "--name", name)
		got, _ := os.ReadFile(filepath.Join(e.runs[i].Dir, runfolder.Weights))
		if want := e.read(name, runfolder.Weights); !bytes.Equal(got, want) {
			t.Errorf("run %d (stopped and continued) differs from an uninterrupted run", i)
		}
	}

	// 4. Once more: nothing to do, nothing touched.
	all := snapshotTree(t, e.out)
	code, _, stderr = cli(context.Background(), "sweep", "run", e.file, "--local", "2", "--data", e.data)
	if code != 0 || !strings.Contains(stderr, "4 runs: 4 done; 0 to run") {
		t.Errorf("fourth executor: exit %d\n%s", code, stderr)
	}
	if after := snapshotTree(t, e.out); fmt.Sprint(after) != fmt.Sprint(all) {
		t.Error("a sweep with nothing left to do changed files")
	}

	code, stdout, _ = cli(context.Background(), "sweep", "status", e.file)
	if code != 0 || strings.Count(stdout, " done ") != 4 || !strings.HasSuffix(stdout, "4 runs: 4 done\n") {
		t.Errorf("status: exit %d\n%s", code, stdout)
	}
	code, stdout, stderr = cli(context.Background(), "collect", e.out, "--csv", filepath.Join(e.out, "table.csv"))
	if code != 0 || !strings.Contains(stdout, "4 runs in 2 configurations") || !strings.Contains(stdout, "Every run: ") ||
		strings.Count(stdout, "| mnist-strong-dfc | 0.0") != 2 || !strings.Contains(stdout, "| 2 |") {
		t.Errorf("collect: exit %d\n%s%s", code, stdout, stderr)
	}
	if b, err := os.ReadFile(filepath.Join(e.out, "table.csv")); err != nil || strings.Count(string(b), "\n") != 3 {
		t.Errorf("table.csv: %v\n%s", err, b)
	}
}

// fakeSlurm puts an sbatch and an squeue on PATH: sbatch records its
// arguments in the returned file and prints job IDs 101, 102, ...;
// squeue lists every job it is asked about (all still queued).
func fakeSlurm(t *testing.T) (calls string) {
	dir := t.TempDir()
	calls = filepath.Join(dir, "calls")
	os.WriteFile(filepath.Join(dir, "sbatch"), []byte(fmt.Sprintf(`#!/bin/sh
echo "$*" >> %[1]q
echo $(( 100 + $(wc -l < %[1]q) ))
`, calls)), 0o755)
	os.WriteFile(filepath.Join(dir, "squeue"), []byte(`#!/bin/sh
while [ $# -gt 0 ]; do [ "$1" = -j ] && echo "$2" | tr , '\n'; shift; done
`), 0o755)
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return calls
}

// TestSweepSlurm: --slurm writes the script and task file and submits
// throttled, chained arrays; its tasks (run here as Slurm would) bring
// the runs to their end; a task run again (requeued) redoes nothing; a
// second submission while jobs are queued is refused; when all is done
// nothing is submitted.
func TestSweepSlurm(t *testing.T) {
	e := newSweepEnv(t, 1)
	calls := fakeSlurm(t)
	args := []string{"sweep", "run", e.file, "--slurm", "--program", os.Args[0], "--data", e.data,
		"--throttle", "1", "--max-array", "3", "--cpus", "1", "--mem", "200M", "--time", "10", "--sbatch-arg=--qos=short"}
	code, stdout, stderr := cli(context.Background(), args...)
	if code != 0 || !strings.Contains(stdout, "submitted job 101: tasks 0–2") || !strings.Contains(stdout, "submitted job 102: tasks 3–3") {
		t.Fatalf("submit: exit %d\n%s%s", code, stdout, stderr)
	}
	subs, _ := filepath.Glob(filepath.Join(e.out, ".sweep", "slurm", "*"))
	if len(subs) != 1 {
		t.Fatalf("submission folders %v", subs)
	}
	script, taskFile := filepath.Join(subs[0], "job.sh"), filepath.Join(subs[0], "tasks.json")
	b, _ := os.ReadFile(calls)
	want := fmt.Sprintf("--parsable --array=0-2%%1 --qos=short %s 0\n--parsable --array=0-0%%1 --qos=short --dependency=afterany:101 %s 3\n", script, script)
	if string(b) != want {
		t.Errorf("sbatch calls\n%s\nwant\n%s", b, want)
	}
	js, _ := os.ReadFile(script)
	for _, w := range []string{"#SBATCH --cpus-per-task=1", "#SBATCH --mem=200M", "#SBATCH --time=10", "sweep exec " + taskFile} {
		if !strings.Contains(string(js), w) {
			t.Errorf("job.sh lacks %q:\n%s", w, js)
		}
	}
	if tf, _ := os.ReadFile(taskFile); !strings.Contains(string(tf), `"data": {`) || !strings.Contains(string(tf), e.data) {
		t.Errorf("the task file does not say where the data are:\n%.300s", tf)
	}
	// Submitting again while the jobs are queued is refused.
	code, _, stderr = cli(context.Background(), args...)
	if code != 1 || !strings.Contains(stderr, "jobs 101, 102") || !strings.Contains(stderr, "--again") {
		t.Errorf("second submission: exit %d\n%s", code, stderr)
	}
	// The tasks, as Slurm runs them: sweep exec TASKFILE --task I.
	for task := range 4 {
		code, stdout, stderr := cli(context.Background(), "sweep", "exec", taskFile, "--task", fmt.Sprint(task))
		var sum runner.Summary
		if code != 0 || json.Unmarshal([]byte(stdout), &sum) != nil || sum.Status != "done" || sum.RunDir != e.runs[task].Dir {
			t.Fatalf("task %d: exit %d %q\n%s", task, code, stdout, stderr)
		}
	}
	// A requeued task finds its run done and touches nothing.
	before := snapshotTree(t, e.out)
	code, stdout, stderr = cli(context.Background(), "sweep", "exec", taskFile, "--task", "2")
	if code != 0 || stdout != "" || !strings.Contains(stderr, "already done") {
		t.Errorf("requeued task: exit %d %q\n%s", code, stdout, stderr)
	}
	if after := snapshotTree(t, e.out); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Error("a requeued task changed files")
	}
	code, _, stderr = cli(context.Background(), args...)
	if b2, _ := os.ReadFile(calls); code != 0 || !strings.Contains(stderr, "4 runs: 4 done; 0 to run") || len(b2) != len(b) {
		t.Errorf("all done: exit %d, sbatch called again: %v\n%s", code, len(b2) != len(b), stderr)
	}
	// --dry-run prints the commands and submits nothing.
	os.RemoveAll(e.runs[3].Dir)
	code, stdout, _ = cli(context.Background(), append(args, "--dry-run")...)
	if b2, _ := os.ReadFile(calls); code != 0 || !strings.HasPrefix(stdout, "sbatch --parsable --array=0-0%1 --qos=short ") || len(b2) != len(b) {
		t.Errorf("dry run: exit %d %q", code, stdout)
	}
}

// TestSweepBadInput: a bad sweep file, or run folders that hold another
// configuration, stop `sweep run` before anything is written or
// submitted.
func TestSweepBadInput(t *testing.T) {
	e := newSweepEnv(t, 2)
	calls := fakeSlurm(t)
	bad := func(text string) string {
		p := filepath.Join(t.TempDir(), "bad.yaml")
		os.WriteFile(p, []byte(fmt.Sprintf("out: %s\nconfig: %s\n%s", e.out, e.cfg, text)), 0o644)
		return p
	}
	slurm := []string{"--slurm", "--program", "/p"}
	for _, tc := range []struct {
		file string
		args []string
		code int
		want []string
	}{
		{bad("grid: {forward.lr: [0.01]}\nsedes: 2\n"), slurm, 1, []string{"bad.yaml", "line 4", `unknown key "sedes"`}},
		{bad("grid: {}\n"), slurm, 1, []string{"bad.yaml", "grid is empty"}},
		{bad("grid: {forward.lr: [0.01, -1]}\n"), slurm, 1, []string{"bad.yaml", "forward.lr=-1", "lr"}},
		{bad("grid: {dynamics.stpes: [10]}\n"), slurm, 1, []string{"bad.yaml", "dynamics.stpes", "unknown key"}},
		{bad("grid: {forward.lr: [0.01]}\n"), []string{"--local", "1", "--data", t.TempDir()}, 1, []string{"--data", "IDX"}},
		{bad("grid: {dataset: [mnist, fashion-mnist]}\n"), slurm, 1, []string{"--data mnist=DIR --data fashion-mnist=DIR"}},
		{e.file, []string{"--local", "1", "--data", "mnist="}, 2, []string{"NAME=DIR"}},
		{e.file, []string{"--local", "0"}, 2, []string{"--local"}},
		{e.file, []string{"--local", "2", "--slurm"}, 2, []string{"--local N", "--slurm"}},
		{e.file, []string{}, 2, []string{"--local N", "--slurm"}},
		{e.file, append(slurm, "--mem", "lots"), 1, []string{"--mem"}},
	} {
		args := append([]string{"sweep", "run", tc.file}, tc.args...)
		if !slices.Contains(tc.args, "--data") {
			args = append(args, "--data", e.data)
		}
		code, _, stderr := cli(context.Background(), args...)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d\n%s", tc.args, code, tc.code, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr does not mention %q:\n%s", tc.args, w, stderr)
			}
		}
	}
	if exists(e.out) || exists(calls) {
		t.Fatal("bad input wrote run folders or called sbatch")
	}
	// A run folder that holds another configuration (the sweep file
	// changed after it ran) is named, and nothing starts.
	e.mustTrain("--config", e.cfg, "--set", "epochs=1", "--set", "pretrain.epochs=0", "--set", "forward.lr=0.01", "--seed", "1")
	runs, _ := filepath.Glob(filepath.Join(e.env.out, "*"))
	os.MkdirAll(e.out, 0o755)
	if err := os.Rename(runs[0], e.runs[0].Dir); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := cli(context.Background(), "sweep", "run", e.file, "--slurm", "--program", "/p", "--data", e.data)
	if code != 1 || !strings.Contains(stderr, e.runs[0].Dir) || !strings.Contains(stderr, "epochs 1 → 2") || exists(calls) {
		t.Errorf("conflict: exit %d\n%s", code, stderr)
	}
	code, stdout, _ := cli(context.Background(), "sweep", "status", e.file)
	if code != 0 || !strings.Contains(stdout, "CONFIGURATION DIFFERS") {
		t.Errorf("status of a conflict: %s", stdout)
	}
}

// TestLockCLI: while a run trains, a second writer (train --resume) is
// refused with a message naming the first's PID; once the first is killed
// with SIGKILL the run resumes at once.
func TestLockCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the command in a child process")
	}
	e := newEnv(t)
	cmd, _ := cliProcess(t, "train", "--config", e.cfg, "--epochs", "200", "--data", e.data, "--out", e.out, "--name", "busy")
	dir := filepath.Join(e.out, "busy")
	waitUntil(t, "the run has a checkpoint", func() bool { return exists(filepath.Join(dir, runfolder.Checkpoint)) })
	code, _, stderr := cli(context.Background(), "train", "--resume", dir, "--data", e.data)
	if want := fmt.Sprintf("in use by process %d", cmd.Process.Pid); code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("second writer: exit %d, want 1 and %q:\n%s", code, want, stderr)
	}
	cmd.Process.Kill()
	cmd.Wait()
	// The resumed run stops itself after its first epoch (as Ctrl-C
	// would): it got the lock, and released it.
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { testHooks = nil }()
	testHooks = func(o *runner.Options) {
		o.OnEpoch = func(*train.Trainer, train.EpochResult) { cancel() }
	}
	code, _, stderr = cli(ctx, "train", "--resume", dir, "--data", e.data)
	if code != 130 {
		t.Errorf("resume after kill -9: exit %d, want 130 (stopped after an epoch)\n%s", code, stderr)
	}
	if exists(filepath.Join(dir, runfolder.LockFile)) {
		t.Error("the lock file is left after the run ended")
	}
}
