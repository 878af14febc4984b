package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/strongdfc/strongdfc/checkpoint"
	"github.com/strongdfc/strongdfc/checkpoint/npz"
	"github.com/strongdfc/strongdfc/dataset"
	"github.com/strongdfc/strongdfc/internal/config"
	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/internal/runner"
	"github.com/strongdfc/strongdfc/internal/synth"
	"github.com/strongdfc/strongdfc/train"
)

// TestMain lets the tests run this test binary as the command itself
// (STRONGDFC_CLI=1), to send it real signals.
func TestMain(m *testing.M) {
	if os.Getenv("STRONGDFC_CLI") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// idx encodes an unsigned-byte IDX file.
func idx(dims []int, data []byte) []byte { return synth.IDX(dims, data) }

// writeData writes a small MNIST-like data set (8×8 images, 10 classes,
// each a bright row and column at its own place) and returns its folder.
func writeData(t testing.TB, train, test int) string {
	t.Helper()
	dir := t.TempDir()
	if err := synth.WriteIDX(dir, train, test); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tinyYAML is a configuration that trains in a fraction of a second.
const tinyYAML = `hidden: [16, 16]
epochs: 3
batch: 16
validation: 32
dynamics: {steps: 16}
pretrain:
  dynamics: {steps: 12}
forward: {lr: 0.01}
`

type env struct {
	t    *testing.T
	data string // data folder
	out  string // --out
	cfg  string // tiny configuration file
}

func newEnv(t *testing.T) *env {
	e := &env{t: t, data: writeData(t, 128, 64), out: filepath.Join(t.TempDir(), "runs")}
	e.cfg = filepath.Join(t.TempDir(), "tiny.yaml")
	if err := os.WriteFile(e.cfg, []byte(tinyYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	return e
}

// cli runs the command in this process and returns its exit status,
// stdout and stderr.
func cli(ctx context.Context, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

func (e *env) train(ctx context.Context, args ...string) (int, string, string) {
	return cli(ctx, append([]string{"train", "--data", e.data, "--out", e.out}, args...)...)
}

// trainOneEpoch starts a run and interrupts it after its first epoch (of
// any phase), leaving a folder to resume.
func (e *env) trainOneEpoch(args ...string) {
	defer func() { testHooks = nil }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	testHooks = func(o *runner.Options) {
		o.OnEpoch = func(*train.Trainer, train.EpochResult) { cancel() }
	}
	e.train(ctx, args...)
}

func (e *env) mustTrain(args ...string) {
	e.t.Helper()
	if code, _, stderr := e.train(context.Background(), args...); code != 0 {
		e.t.Fatalf("train %v: exit %d\n%s", args, code, stderr)
	}
}

func (e *env) read(run, name string) []byte {
	e.t.Helper()
	b, err := os.ReadFile(filepath.Join(e.out, run, name))
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// metricsWithoutTimes returns metrics.csv without the timing columns.
func (e *env) metricsWithoutTimes(run string) [][]string {
	e.t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(e.read(run, runfolder.MetricsCSV))).ReadAll()
	if err != nil {
		e.t.Fatal(err)
	}
	header := rows[0]
	for i := range rows {
		var keep []string
		for j, v := range rows[i] {
			if h := header[j]; h != "seconds" && h != "eval_seconds" {
				keep = append(keep, v)
			}
		}
		rows[i] = keep
	}
	return rows
}

// TestResume: runs interrupted at an epoch's end or in the middle of an
// epoch (by a cancelled context, as SIGINT does) and resumed end with the
// same weights file, bit for bit, and the same metrics as an uninterrupted
// run; and `train --config RUN/config.yaml` repeats a run exactly.
func TestResume(t *testing.T) {
	e := newEnv(t)
	e.mustTrain("--config", e.cfg, "--name", "full")
	want := e.read("full", runfolder.Weights)

	e.mustTrain("--config", filepath.Join(e.out, "full", runfolder.Config), "--name", "again")
	if !bytes.Equal(e.read("again", runfolder.Weights), want) {
		t.Error("train --config RUN/config.yaml did not repeat the run")
	}

	defer func() { testHooks = nil }()
	cases := []struct {
		name     string
		progress func(p train.Progress) bool
		epoch    func(r train.EpochResult) bool
	}{
		{"mid-pretrain", func(p train.Progress) bool { return p.Phase == "pretrain" && p.Batch == 3 }, nil},
		{"after-epoch-1", nil, func(r train.EpochResult) bool { return r.Phase == "train" && r.Epoch == 1 }},
		{"mid-epoch-2", func(p train.Progress) bool { return p.Phase == "train" && p.Epoch == 2 && p.Batch == 4 }, nil},
	}
	if testing.Short() {
		cases = cases[2:] // the race detector makes every run slow
	}
	for _, tc := range cases {
		ctx, cancel := context.WithCancel(context.Background())
		testHooks = func(o *runner.Options) {
			if tc.progress != nil {
				o.OnProgress = func(p train.Progress) {
					if tc.progress(p) {
						cancel()
					}
				}
			}
			if tc.epoch != nil {
				o.OnEpoch = func(_ *train.Trainer, r train.EpochResult) {
					if tc.epoch(r) {
						cancel()
					}
				}
			}
		}
		code, stdout, stderr := e.train(ctx, "--config", e.cfg, "--name", tc.name)
		cancel()
		testHooks = nil
		if code != 130 || !strings.Contains(stderr, "--resume") {
			t.Fatalf("%s: exit %d, want 130 and a hint to resume\n%s", tc.name, code, stderr)
		}
		var sum runner.Summary
		lines := strings.Split(strings.TrimSpace(stdout), "\n")
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil || sum.Status != "interrupted" {
			t.Errorf("%s: summary %q (%v)", tc.name, stdout, err)
		}
		if _, err := os.Stat(filepath.Join(e.out, tc.name, runfolder.Weights)); err == nil {
			t.Errorf("%s: an interrupted run wrote final weights", tc.name)
		}
		if code, _, stderr := cli(context.Background(), "train", "--resume", filepath.Join(e.out, tc.name), "--data", e.data); code != 0 {
			t.Fatalf("%s: resume: exit %d\n%s", tc.name, code, stderr)
		}
		if !bytes.Equal(e.read(tc.name, runfolder.Weights), want) {
			t.Errorf("%s: the resumed run's weights differ from the uninterrupted run's", tc.name)
		}
		if got, w := e.metricsWithoutTimes(tc.name), e.metricsWithoutTimes("full"); fmt.Sprint(got) != fmt.Sprint(w) {
			t.Errorf("%s: metrics\n%v\nwant\n%v", tc.name, got, w)
		}
		if cmds := strings.Count(string(e.read(tc.name, runfolder.Command)), "\n"); cmds != 2 {
			t.Errorf("%s: command.txt has %d lines, want 2", tc.name, cmds)
		}
	}
	if testing.Short() {
		return
	}
	// Extending a finished run by --epochs equals a longer run.
	e.mustTrain("--config", e.cfg, "--epochs", "4", "--name", "four")
	if code, _, stderr := cli(context.Background(), "train", "--resume", filepath.Join(e.out, "full"), "--data", e.data, "--epochs", "4"); code != 0 {
		t.Fatalf("extend: exit %d\n%s", code, stderr)
	}
	if !bytes.Equal(e.read("full", runfolder.Weights), e.read("four", runfolder.Weights)) {
		t.Error("a run extended to 4 epochs differs from a 4-epoch run")
	}
	if !bytes.Contains(e.read("full", runfolder.Config), []byte("\nepochs: 4 ")) {
		t.Error("config.yaml does not record the extension")
	}
}

// TestRunFolder: the files of a run folder are there and say what they
// should.
func TestRunFolder(t *testing.T) {
	e := newEnv(t)
	testCommand = []string{"strongdfc", "train", "--name", "x"}
	defer func() { testCommand = nil }()
	e.mustTrain("--config", e.cfg, "--name", "x", "--seed", "7")
	for _, f := range []string{runfolder.Config, runfolder.Command, runfolder.Meta, runfolder.MetricsCSV, runfolder.MetricsJS,
		runfolder.Summary, runfolder.Log, runfolder.Checkpoint, runfolder.Weights,
		"plots/learning_curves.png", "plots/learning_curves.csv", "plots/diagnostics.png", "plots/diagnostics.csv"} {
		if st, err := os.Stat(filepath.Join(e.out, "x", f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	var meta runner.Meta
	if err := json.Unmarshal(e.read("x", runfolder.Meta), &meta); err != nil || meta.Seed != 7 || meta.Program.GoVersion == "" || meta.Program.Backend == "" {
		t.Errorf("meta.json: %+v, %v", meta, err)
	}
	if got := strings.TrimSpace(string(e.read("x", runfolder.Command))); got != "strongdfc train --name x" {
		t.Errorf("command.txt: %q", got)
	}
	jl := strings.Split(strings.TrimSpace(string(e.read("x", runfolder.MetricsJS))), "\n")
	if len(jl) != 4 {
		t.Fatalf("metrics.jsonl has %d rows, want 4 (1 pre-training + 3 training epochs)", len(jl))
	}
	var last train.EpochResult
	if err := json.Unmarshal([]byte(jl[3]), &last); err != nil || last.Phase != "train" || last.Epoch != 3 || last.Diagnostics["control"] <= 0 {
		t.Errorf("last row %+v, %v", last, err)
	}
	var sum runner.Summary
	if err := json.Unmarshal(e.read("x", runfolder.Summary), &sum); err != nil || sum.Status != "done" || sum.Epochs != 3 || sum.TestAccuracy != last.TestAccuracy {
		t.Errorf("summary %+v, %v", sum, err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(e.read("x", runfolder.Log))), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil || m["msg"] == nil {
			t.Fatalf("log.jsonl line %q: %v", l, err)
		}
	}
	// eval gives the accuracy the run reported.
	code, stdout, stderr := cli(context.Background(), "eval", filepath.Join(e.out, "x"), "--data", e.data, "--split", "test,validation")
	var r EvalResult
	if code != 0 || json.Unmarshal([]byte(strings.Split(stdout, "\n")[0]), &r) != nil || r.Accuracy == nil || *r.Accuracy != sum.TestAccuracy || r.Samples != 64 {
		t.Errorf("eval: exit %d, %q %s", code, stdout, stderr)
	}
	// trace writes its files into the run's traces folder.
	code, _, stderr = cli(context.Background(), "trace", "--from", filepath.Join(e.out, "x"), "--data", e.data, "--samples", "1,2", "--every", "3")
	traces, _ := filepath.Glob(filepath.Join(e.out, "x", "traces", "*", "trace.npz"))
	if code != 0 || len(traces) != 1 {
		t.Fatalf("trace: exit %d, %v\n%s", code, traces, stderr)
	}
	b, _ := os.ReadFile(traces[0])
	arrays, err := npz.Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := npz.NewSet("trace", arrays).Float64("u", 6, 2, 10); err != nil { // steps 0,3,...,15
		t.Error(err)
	}
	checkNumpy(t, filepath.Join(e.out, "x", runfolder.Weights), traces[0])
}

// checkNumpy loads the files with numpy.load when a Python with numpy is
// found.
func checkNumpy(t *testing.T, weights, trace string) {
	py := npz.FindNumpy()
	if py == "" {
		t.Log("no Python with numpy; numpy.load not checked")
		return
	}
	script := `
import sys, json, numpy as np
w = np.load(sys.argv[1])
assert w['layer1.W'].shape == (16, 64) and w['layer3.Q'].shape == (10, 10), w['layer1.W'].shape
assert json.loads(bytes(w['config.json']))['hidden'] == [16, 16]
t = np.load(sys.argv[2])
assert t['u'].shape == (6, 2, 10) and t['layer2.soma'].shape == (6, 2, 3) and list(t['samples']) == [1, 2]
print('ok')
`
	out, err := exec.Command(py, "-c", script, weights, trace).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Errorf("numpy: %v\n%s", err, out)
	}
}

// snapshotTree returns the content hash of every file under dir.
func snapshotTree(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	m := map[string][32]byte{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			m[p] = sha256.Sum256(b)
		}
		return nil
	})
	return m
}

// TestBadInput: each mistake gives a clear error naming the file or key,
// a non-zero exit, and changes nothing already written.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	e.mustTrain("--config", e.cfg, "--name", "good")
	good := filepath.Join(e.out, "good")

	// Damaged data sets, each in a copy of the data folder.
	damaged := func(file string, b []byte) string {
		dir := t.TempDir()
		for _, f := range []string{dataset.Files.TrainImages, dataset.Files.TrainLabels, dataset.Files.TestImages, dataset.Files.TestLabels} {
			src, _ := os.ReadFile(filepath.Join(e.data, f))
			if f == file {
				src = b
			}
			os.WriteFile(filepath.Join(dir, f), src, 0o644)
		}
		return dir
	}
	img, _ := os.ReadFile(filepath.Join(e.data, dataset.Files.TrainImages))
	lbl, _ := os.ReadFile(filepath.Join(e.data, dataset.Files.TestLabels))
	wrongMagic := append([]byte{0x12, 0x34}, img[2:]...)
	corruptCP := filepath.Join(t.TempDir(), "corrupt")
	os.MkdirAll(corruptCP, 0o755)
	for _, f := range []string{runfolder.Config, runfolder.Meta, runfolder.Checkpoint} {
		b, _ := os.ReadFile(filepath.Join(good, f))
		if f == runfolder.Checkpoint {
			b = b[:len(b)/2]
		}
		os.WriteFile(filepath.Join(corruptCP, f), b, 0o644)
	}
	badYAML := func(s string) string {
		p := filepath.Join(t.TempDir(), "bad.yaml")
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"corrupt IDX", []string{"--config", e.cfg, "--data", damaged(dataset.Files.TrainImages, []byte("not an idx file at all"))}, 1, []string{dataset.Files.TrainImages, "magic number"}},
		{"truncated IDX", []string{"--config", e.cfg, "--data", damaged(dataset.Files.TrainImages, img[:len(img)-100])}, 1, []string{dataset.Files.TrainImages, "truncated"}},
		{"wrong magic", []string{"--config", e.cfg, "--data", damaged(dataset.Files.TrainImages, wrongMagic)}, 1, []string{dataset.Files.TrainImages, "magic number"}},
		{"counts disagree", []string{"--config", e.cfg, "--data", damaged(dataset.Files.TestLabels, idx([]int{63}, lbl[8:8+63]))}, 1, []string{dataset.Files.TestLabels, "64 images but 63 labels"}},
		{"missing data", []string{"--config", e.cfg, "--data", t.TempDir()}, 1, []string{dataset.Files.TrainImages}},
		{"unknown key", []string{"--config", badYAML("epochs: 2\nforward:\n  learning_rate: 1\n")}, 1, []string{"bad.yaml", "line 3", "forward.learning_rate", "unknown key"}},
		{"wrong type", []string{"--config", badYAML("batch: many\n")}, 1, []string{"bad.yaml", "line 1", "batch", "integer"}},
		{"zero dt", []string{"--config", badYAML("dynamics: {dt: 0}\n")}, 1, []string{"dynamics.dt", "positive"}},
		{"negative dt", []string{"--config", e.cfg, "--set", "dynamics.dt=-0.001"}, 1, []string{"dynamics.dt", "positive"}},
		{"dt > tau_v", []string{"--config", e.cfg, "--set", "dynamics.dt=0.1"}, 1, []string{"dynamics.dt", "tau_v"}},
		{"negative sigma", []string{"--config", badYAML("dynamics: {sigma: -0.1}\n")}, 1, []string{"sigma", "non-negative"}},
		{"batch 0", []string{"--config", e.cfg, "--batch", "0"}, 1, []string{"batch = 0", "--batch"}},
		{"unknown preset", []string{"--preset", "cifar-10"}, 1, []string{`"cifar-10"`, "mnist-strong-dfc"}},
		{"existing run", []string{"--config", e.cfg, "--name", "good"}, 1, []string{"exists", "--resume"}},
		{"resume not a run", []string{"--resume", t.TempDir()}, 1, []string{"not a run folder"}},
		{"resume missing", []string{"--resume", filepath.Join(e.out, "nope")}, 1, []string{"nope"}},
		{"resume corrupt checkpoint", []string{"--resume", corruptCP}, 1, []string{filepath.Join(corruptCP, runfolder.Checkpoint), "not a valid file"}},
		{"resume with config", []string{"--resume", good, "--seed", "3"}, 2, []string{"--seed"}},
		{"resume with out", []string{"--resume", good, "--out", "elsewhere"}, 2, []string{"--out"}},
		{"unknown flag", []string{"--epoch", "3"}, 2, []string{"--epoch"}},
		{"serve elsewhere", []string{"--config", e.cfg, "--serve", "0.0.0.0:0"}, 1, []string{"--serve", "0.0.0.0 is not a loopback address", "--allow-remote"}},
		{"serve no port", []string{"--config", e.cfg, "--serve", "8040"}, 1, []string{"--serve", "HOST:PORT"}},
	}
	before := snapshotTree(t, filepath.Dir(e.out))
	beforeCP := snapshotTree(t, corruptCP)
	for _, tc := range cases {
		args := tc.args
		if !strings.HasPrefix(tc.name, "resume") {
			args = append([]string{"--out", e.out}, args...)
		}
		code, _, stderr := cli(context.Background(), append([]string{"train", "--data", e.data}, args...)...)
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d\n%s", tc.name, code, tc.code, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr does not mention %q:\n%s", tc.name, w, stderr)
			}
		}
	}
	if after := snapshotTree(t, filepath.Dir(e.out)); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("bad input changed the runs folder:\nbefore %v\nafter  %v", before, after)
	}
	if after := snapshotTree(t, corruptCP); fmt.Sprint(after) != fmt.Sprint(beforeCP) {
		t.Error("a failed resume changed the run folder")
	}
	// eval and trace name what is wrong too.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"eval", corruptCP, "--data", e.data}, "not a valid file"},
		{[]string{"eval", t.TempDir()}, "neither"},
		{[]string{"eval", good, "--data", e.data, "--split", "dev"}, "--split"},
		{[]string{"trace", "--from", good, "--data", e.data, "--samples", "999"}, "sample 999"},
		{[]string{"view"}, "one or more run folders"},
		{[]string{"view", t.TempDir()}, "not a run folder"},
		{[]string{"view", filepath.Join(good, runfolder.Config)}, "is a file"},
		{[]string{"view", good, "--addr", "0.0.0.0:0"}, "--allow-remote"},
	} {
		if code, _, stderr := cli(context.Background(), tc.args...); code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want it to mention %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestDiverged: a run that goes NaN stops with a message naming the epoch
// and the layer, exits non-zero, and keeps the last good checkpoint.
func TestDiverged(t *testing.T) {
	e := newEnv(t)
	defer func() { testHooks = nil }()
	var good []byte
	testHooks = func(o *runner.Options) {
		o.OnEpoch = func(tr *train.Trainer, r train.EpochResult) {
			if r.Phase == "train" && r.Epoch == 1 {
				good, _ = os.ReadFile(filepath.Join(e.out, "nan", runfolder.Checkpoint))
				tr.Net.Forward[1].W.Set(0, 0, math.Inf(1)) // the next window diverges
			}
		}
	}
	code, _, stderr := e.train(context.Background(), "--config", e.cfg, "--name", "nan")
	if code != 1 || !strings.Contains(stderr, "diverged") || !strings.Contains(stderr, "train epoch 2") || !strings.Contains(stderr, "layer 2") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	if got := e.read("nan", runfolder.Checkpoint); good == nil || !bytes.Equal(got, good) {
		t.Error("the checkpoint of the last good epoch was not kept")
	}
	var sum runner.Summary
	if err := json.Unmarshal(e.read("nan", runfolder.Summary), &sum); err != nil || sum.Status != "diverged" || !strings.Contains(sum.Error, "layer 2") {
		t.Errorf("summary %+v, %v", sum, err)
	}
	if s, err := checkpoint.Read(filepath.Join(e.out, "nan", runfolder.Checkpoint)); err != nil || epochsOf(s) != 1 {
		t.Errorf("checkpoint: %v", err)
	}
}

// cliProcess starts this test binary as the command.
func cliProcess(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "STRONGDFC_CLI=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stderr
}

// TestSignals: SIGINT and SIGTERM save the state and exit with 130 and
// 143; a kill (SIGKILL) at any moment leaves a checkpoint that reads back
// and resumes to the same bits as an uninterrupted run.
func TestSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the command in child processes")
	}
	e := newEnv(t)
	cfg := filepath.Join(t.TempDir(), "longer.yaml")
	os.WriteFile(cfg, []byte(strings.Replace(tinyYAML, "epochs: 3", "epochs: 8", 1)), 0o644)
	e.mustTrain("--config", cfg, "--name", "full")
	want := e.read("full", runfolder.Weights)
	args := func(name string) []string {
		return []string{"train", "--config", cfg, "--data", e.data, "--out", e.out, "--name", name}
	}
	waitFor := func(path string) {
		for start := time.Now(); time.Since(start) < 20*time.Second; time.Sleep(5 * time.Millisecond) {
			if _, err := os.Stat(path); err == nil {
				return
			}
		}
		t.Fatalf("%s did not appear", path)
	}
	for _, s := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		name := s.sig.String()
		cmd, stderr := cliProcess(t, args(name)...)
		waitFor(filepath.Join(e.out, name, runfolder.Checkpoint))
		cmd.Process.Signal(s.sig)
		err := cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != s.code {
			t.Errorf("%s: exit %v, want %d\n%s", name, err, s.code, stderr)
		}
		resumeAndCompare(t, e, name, want)
	}
	// Kills at pseudo-random moments, resuming after each.
	rng := rand.New(rand.NewPCG(3, 4))
	name := "killed"
	cmd, _ := cliProcess(t, args(name)...)
	for kill := 0; kill < 6; kill++ {
		time.Sleep(time.Duration(50+rng.IntN(250)) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		cp := filepath.Join(e.out, name, runfolder.Checkpoint)
		if _, err := os.Stat(cp); err != nil {
			// Killed before the first checkpoint: resuming starts the
			// run from its beginning (or, killed before it wrote its
			// configuration, starting it again under its name does).
			if _, err := os.Stat(filepath.Join(e.out, name, runfolder.Meta)); err == nil {
				cmd, _ = cliProcess(t, "train", "--resume", filepath.Join(e.out, name), "--data", e.data)
			} else {
				cmd, _ = cliProcess(t, args(name)...)
			}
			continue
		}
		snap, err := checkpoint.Read(cp)
		if err != nil {
			t.Fatalf("after kill %d the checkpoint is damaged: %v", kill, err)
		}
		pre, ep, _ := snap.Epochs()
		t.Logf("kill %d: checkpoint after %d+%d epochs", kill, pre, ep)
		if _, err := os.Stat(filepath.Join(e.out, name, runfolder.Weights)); err == nil {
			break // the run had finished
		}
		cmd, _ = cliProcess(t, "train", "--resume", filepath.Join(e.out, name), "--data", e.data)
	}
	cmd.Process.Kill()
	cmd.Wait()
	resumeAndCompare(t, e, name, want)
}

// resumeAndCompare resumes a run (unless it has finished) and compares its
// final weights with want.
func resumeAndCompare(t *testing.T, e *env, name string, want []byte) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(e.out, name, runfolder.Weights)); err != nil {
		if code, _, stderr := cli(context.Background(), "train", "--resume", filepath.Join(e.out, name), "--data", e.data); code != 0 {
			t.Fatalf("%s: resume: exit %d\n%s", name, code, stderr)
		}
	}
	if !bytes.Equal(e.read(name, runfolder.Weights), want) {
		t.Errorf("%s: the weights differ from the uninterrupted run's", name)
	}
}

// TestHelp: every command and flag is explained; --help exits 0.
func TestHelp(t *testing.T) {
	root := newRoot(&bytes.Buffer{}, &bytes.Buffer{})
	for _, c := range root.Commands() {
		if c.Short == "" {
			t.Errorf("%s has no description", c.Name())
		}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if len(f.Usage) < 15 {
				t.Errorf("%s --%s: usage %q explains too little", c.Name(), f.Name, f.Usage)
			}
		})
		code, stdout, _ := cli(context.Background(), c.Name(), "--help")
		if code != 0 || !strings.Contains(stdout, "Usage:") {
			t.Errorf("%s --help: exit %d", c.Name(), code)
		}
	}
	code, stdout, _ := cli(context.Background(), "presets")
	if code != 0 || !strings.Contains(stdout, "mnist-strong-dfc") || !strings.Contains(stdout, "fashion-mnist-strong-dfc") {
		t.Errorf("presets: %d %q", code, stdout)
	}
	code, stdout, _ = cli(context.Background(), "presets", "--show", "fashion-mnist-strong-dfc")
	if code != 0 || !strings.Contains(stdout, "dataset: fashion-mnist") {
		t.Errorf("presets --show: %d %q", code, stdout)
	}
	code, stdout, _ = cli(context.Background(), "version")
	if code != 0 || !strings.Contains(stdout, "go1.") || !strings.Contains(stdout, "blas") {
		t.Errorf("version: %d %q", code, stdout)
	}
	code, stdout, _ = cli(context.Background(), "train", "--preset", "fashion-mnist-strong-dfc", "--set", "forward.lr=0.5", "--dry-run")
	if code != 0 || !strings.Contains(stdout, "lr: 0.5") || !strings.Contains(stdout, "dataset: fashion-mnist") {
		t.Errorf("train --dry-run: %d %q", code, stdout)
	}
}

// epochsOf returns the training epochs a snapshot has done.
func epochsOf(s *train.Snapshot) int {
	_, e, _ := s.Epochs()
	return e
}

// lastJSON returns the last line of stdout decoded as a summary.
func lastJSON(t *testing.T, stdout string) (runner.Summary, bool) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var s runner.Summary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &s); err != nil {
		return s, false
	}
	return s, true
}

// TestNoDeadEnd: a run that stopped before its first checkpoint (killed,
// or diverged) is resumed from its beginning with its recorded
// configuration, keeping what its folder holds; a diverged run's log
// says what is really kept.
func TestNoDeadEnd(t *testing.T) {
	e := newEnv(t)
	e.mustTrain("--config", e.cfg, "--name", "full")
	// A run with no checkpoint, as a kill before the first leaves it.
	e.mustTrain("--config", e.cfg, "--name", "killed")
	for _, f := range []string{runfolder.Checkpoint, runfolder.Weights, runfolder.Summary, runfolder.MetricsCSV, runfolder.MetricsJS, runfolder.Plots} {
		os.RemoveAll(filepath.Join(e.out, "killed", f))
	}
	logBefore := e.read("killed", runfolder.Log)
	code, stdout, stderr := cli(context.Background(), "train", "--resume", filepath.Join(e.out, "killed"), "--data", e.data)
	if code != 0 || !strings.Contains(stderr, "starts from its beginning") {
		t.Fatalf("resume without a checkpoint: exit %d\n%s", code, stderr)
	}
	if s, ok := lastJSON(t, stdout); !ok || s.Status != "done" {
		t.Errorf("summary %q", stdout)
	}
	if !bytes.Equal(e.read("killed", runfolder.Weights), e.read("full", runfolder.Weights)) {
		t.Error("the run started again differs from an uninterrupted one")
	}
	if !bytes.HasPrefix(e.read("killed", runfolder.Log), logBefore) {
		t.Error("the first session's log was lost")
	}
	var meta runner.Meta
	if err := json.Unmarshal(e.read("killed", runfolder.Meta), &meta); err != nil || len(meta.Resumed) != 1 || !strings.Contains(meta.Resumed[0].At, "beginning") {
		t.Errorf("meta.json: %+v %v", meta.Resumed, err)
	}
	// Killed before meta.json was written: resumed too; killed before
	// config.yaml was: started again under its name.
	os.Remove(filepath.Join(e.out, "killed", runfolder.Meta))
	for _, f := range []string{runfolder.Checkpoint, runfolder.Weights, runfolder.Summary} {
		os.Remove(filepath.Join(e.out, "killed", f))
	}
	if code, _, stderr := cli(context.Background(), "train", "--resume", filepath.Join(e.out, "killed"), "--data", e.data); code != 0 {
		t.Fatalf("resume without meta.json: exit %d\n%s", code, stderr)
	}
	if !bytes.Equal(e.read("killed", runfolder.Weights), e.read("full", runfolder.Weights)) {
		t.Error("the run resumed without meta.json differs")
	}
	os.MkdirAll(filepath.Join(e.out, "early"), 0o755)
	os.WriteFile(filepath.Join(e.out, "early", runfolder.Log), []byte("{}\n"), 0o644)
	e.mustTrain("--config", e.cfg, "--name", "early")
	if !bytes.Equal(e.read("early", runfolder.Weights), e.read("full", runfolder.Weights)) {
		t.Error("the run started in the folder of one killed early differs")
	}

	// A run that diverges before its first checkpoint (no pre-training).
	args := []string{"--config", e.cfg, "--pretrain-epochs", "0", "--set", "forward.lr=1e300", "--name", "nan", "--progress", "1ns"}
	code, stdout, stderr = e.train(context.Background(), args...)
	if code != 1 || !strings.Contains(stderr, "diverged") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if strings.Contains(stderr, "last good checkpoint") || !strings.Contains(stderr, "no checkpoint") {
		t.Errorf("the log claims a checkpoint that does not exist:\n%s", stderr)
	}
	if regexp.MustCompile(`\d{30}`).MatchString(stderr) {
		t.Errorf("a number of 30 digits on stderr:\n%s", stderr)
	}
	if s, ok := lastJSON(t, stdout); !ok || s.Status != "diverged" {
		t.Errorf("summary %q", stdout)
	}
	// Neither a dead end: resuming repeats it (and diverges again).
	code, _, stderr = cli(context.Background(), "train", "--resume", filepath.Join(e.out, "nan"), "--data", e.data)
	if code != 1 || !strings.Contains(stderr, "diverged") || strings.Contains(stderr, "start it again") {
		t.Errorf("resume of a diverged run without checkpoint: exit %d\n%s", code, stderr)
	}
	// With a checkpoint, the log names it.
	_, _, stderr = e.train(context.Background(), "--config", e.cfg, "--set", "forward.lr=1e300", "--name", "nan2")
	if !strings.Contains(stderr, runfolder.Checkpoint+": the last good state, at train epoch 1/3") {
		t.Errorf("the log does not name the kept checkpoint:\n%s", stderr)
	}
}

// TestSummaryWholeRun: after a resume, summary.json describes the whole
// run (wall time over both sessions, speed over all training epochs);
// resuming a finished run without --epochs changes nothing.
func TestSummaryWholeRun(t *testing.T) {
	e := newEnv(t)
	defer func() { testHooks = nil }()
	ctx, cancel := context.WithCancel(context.Background())
	testHooks = func(o *runner.Options) {
		o.OnEpoch = func(_ *train.Trainer, r train.EpochResult) {
			if r.Phase == "train" && r.Epoch == 1 {
				time.Sleep(300 * time.Millisecond) // a first session of some length
				cancel()
			}
		}
	}
	if code, _, stderr := e.train(ctx, "--config", e.cfg, "--name", "x"); code != 130 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	testHooks = nil
	var first runner.Summary
	json.Unmarshal(e.read("x", runfolder.Summary), &first)
	code, stdout, stderr := cli(context.Background(), "train", "--resume", filepath.Join(e.out, "x"), "--data", e.data)
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s", code, stderr)
	}
	var sum runner.Summary
	if err := json.Unmarshal(e.read("x", runfolder.Summary), &sum); err != nil {
		t.Fatal(err)
	}
	if !(first.WallSeconds >= 0.3 && sum.WallSeconds > sum.SessionSeconds && math.Abs(sum.WallSeconds-first.WallSeconds-sum.SessionSeconds) < 0.5) {
		t.Errorf("wall %g s, session %g s, first session %g s: the wall time is not both sessions'", sum.WallSeconds, sum.SessionSeconds, first.WallSeconds)
	}
	var samples int
	var secs float64
	for _, l := range strings.Split(strings.TrimSpace(string(e.read("x", runfolder.MetricsJS))), "\n") {
		var r train.EpochResult
		json.Unmarshal([]byte(l), &r)
		if r.Phase == "train" {
			samples += r.Samples
			secs += r.Seconds
		}
	}
	if math.Abs(sum.SamplesPerSecond-float64(samples)/secs) > 1e-9*sum.SamplesPerSecond || sum.Epochs != 3 {
		t.Errorf("speed %g over %d epochs, want %g over all 3", sum.SamplesPerSecond, sum.Epochs, float64(samples)/secs)
	}
	// A finished run resumed without --epochs: nothing changes, and the
	// stored summary is printed.
	before := snapshotTree(t, filepath.Join(e.out, "x"))
	code, stdout, stderr = cli(context.Background(), "train", "--resume", filepath.Join(e.out, "x"), "--data", e.data)
	if code != 0 || !strings.Contains(stderr, "already complete") {
		t.Fatalf("resume of a finished run: exit %d\n%s", code, stderr)
	}
	if after := snapshotTree(t, filepath.Join(e.out, "x")); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Error("resuming a finished run changed its folder")
	}
	if s, ok := lastJSON(t, stdout); !ok || s.WallSeconds != sum.WallSeconds || s.Status != "done" {
		t.Errorf("printed %q, want the stored summary", stdout)
	}
}

// TestEditedConfig: a resumed run whose config.yaml was edited is refused
// with the edited key, as a YAML key with both values.
func TestEditedConfig(t *testing.T) {
	e := newEnv(t)
	e.trainOneEpoch("--config", e.cfg, "--name", "x")
	path := filepath.Join(e.out, "x", runfolder.Config)
	b, _ := os.ReadFile(path)
	edited := regexp.MustCompile(`(?m)^(forward:.*\n(?:  .*\n)*?  lr:) 0\.01`).ReplaceAll(b, []byte("$1 0.5"))
	if bytes.Equal(edited, b) {
		t.Fatalf("no forward.lr in\n%s", b)
	}
	os.WriteFile(path, edited, 0o644)
	code, stdout, stderr := cli(context.Background(), "train", "--resume", filepath.Join(e.out, "x"), "--data", e.data, "--epochs", "4")
	if code != 1 || !strings.Contains(stderr, "forward.lr: 0.01 vs 0.5") || strings.Contains(stderr, "epochs:") || strings.Contains(stderr, "{") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
	if s, ok := lastJSON(t, stdout); !ok || s.Status != "failed" {
		t.Errorf("stdout %q", stdout)
	}
}

// TestJSONLast: the last line of train's stdout is a JSON summary for
// every error, configuration and usage errors included.
func TestJSONLast(t *testing.T) {
	e := newEnv(t)
	for _, args := range [][]string{
		{"--config", e.cfg, "--set", "forward.lr=abc"},
		{"--config", e.cfg, "--set", "dynamics.dt=-1"},
		{"--preset", "nope"},
		{"--epoch", "3"},
		{"--resume", e.out, "--seed", "2"},
		{"--config", e.cfg, "--data", t.TempDir()},
	} {
		code, stdout, stderr := e.train(context.Background(), args...)
		s, ok := lastJSON(t, stdout)
		if code == 0 || !ok || s.Status != "failed" || s.Error == "" {
			t.Errorf("%v: exit %d, stdout %q (stderr %s)", args, code, stdout, stderr)
		}
	}
}

// TestFlagStyles: the one-dash flags of the experiments work here too.
func TestFlagStyles(t *testing.T) {
	e := newEnv(t)
	code, _, stderr := cli(context.Background(), "train", "-data", e.data, "-out="+e.out, "-config", e.cfg, "-epochs", "1", "-train-limit", "32", "-name", "one", "-pretrain-epochs=0", "-steps", "6")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	// --steps sets every window's steps (here training and pre-training).
	cfg, err := config.Decode(runfolder.Config, e.read("one", runfolder.Config), train.Config{})
	if err != nil || cfg.Dynamics.Steps != 6 || cfg.Pretrain.Dynamics.Steps != 6 {
		t.Errorf("--steps 6: steps %d and %d in config.yaml (%v)", cfg.Dynamics.Steps, cfg.Pretrain.Dynamics.Steps, err)
	}
	if code, _, stderr := cli(context.Background(), "train", "--resume", filepath.Join(e.out, "one"), "--steps", "7"); code != 2 || !strings.Contains(stderr, "--steps cannot change it") {
		t.Errorf("--resume with --steps: exit %d\n%s", code, stderr)
	}
	var s runner.Summary
	if err := json.Unmarshal(e.read("one", runfolder.Summary), &s); err != nil || s.Epochs != 1 || s.TrainSamples != 32 || s.PretrainEpochs != 0 {
		t.Errorf("summary %+v %v", s, err)
	}
	// A value that looks like a flag is left alone after --.
	if got := longFlags(newRoot(&bytes.Buffer{}, &bytes.Buffer{}), []string{"-h", "-epochs", "2", "--", "-seed"}); fmt.Sprint(got) != "[-h --epochs 2 -- -seed]" {
		t.Errorf("longFlags: %v", got)
	}
	// A flag's value is never rewritten, a switch takes none, and an
	// unknown -word becomes an unknown --word.
	got := longFlags(newRoot(&bytes.Buffer{}, &bytes.Buffer{}), []string{"--name", "-odd", "-dry-run", "-epoch", "-1", "-name=-x", "-set", "-y"})
	if fmt.Sprint(got) != "[--name -odd --dry-run --epoch -1 --name=-x --set -y]" {
		t.Errorf("longFlags: %v", got)
	}
	// A mistyped flag, in either style, is named with the flag meant
	// (not as "unknown shorthand flag: 'e' in -epoch").
	for _, bad := range []string{"-epoch", "--epoch"} {
		code, stdout, stderr := cli(context.Background(), "train", bad, "3")
		s, ok := lastJSON(t, stdout)
		if code != 2 || !strings.Contains(stderr, "unknown flag: --epoch; did you mean --epochs?") || !ok || s.Status != "failed" {
			t.Errorf("%s: exit %d\n%s", bad, code, stderr)
		}
	}
}

// TestTraceOut: trace never writes into a folder that holds files.
func TestTraceOut(t *testing.T) {
	e := newEnv(t)
	e.mustTrain("--config", e.cfg, "--name", "x", "--epochs", "1")
	dir := filepath.Join(t.TempDir(), "t")
	args := []string{"trace", "--from", filepath.Join(e.out, "x"), "--data", e.data, "--out", dir}
	if code, _, stderr := cli(context.Background(), args...); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	before := snapshotTree(t, dir)
	code, _, stderr := cli(context.Background(), append(args, "--samples", "3")...)
	if code == 0 || !strings.Contains(stderr, "never overwrites") {
		t.Errorf("trace into an existing trace: exit %d\n%s", code, stderr)
	}
	if after := snapshotTree(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Error("the earlier trace changed")
	}
}

// TestFirstRun: what a newcomer meets: presets say how many pre-training
// epochs run, the log says what will run, metrics say which evaluations
// were reused, and meta.json records the data folder.
func TestFirstRun(t *testing.T) {
	code, stdout, _ := cli(context.Background(), "presets")
	if code != 0 || !regexp.MustCompile(`(?m)^mnist-dfc +20 \+ 40 `).MatchString(stdout) || !strings.Contains(stdout, "--pretrain-epochs") {
		t.Errorf("presets:\n%s", stdout)
	}
	e := newEnv(t)
	rel, err := filepath.Rel(must(os.Getwd()), e.data)
	if err != nil {
		t.Fatal(err)
	}
	code, _, stderr := cli(context.Background(), "train", "--data", rel, "--out", e.out, "--config", e.cfg, "--preset", "mnist-strong-dfc-2phase",
		"--name", "x", "--epochs", "1", "--set", "sleep.dynamics.steps=8")
	if code != 0 || !strings.Contains(stderr, "1 epoch of feedback pre-training (--pretrain-epochs") || !strings.Contains(stderr, "1 sleep epoch before") {
		t.Errorf("exit %d, the log does not give the plan:\n%s", code, stderr)
	}
	if strings.Contains(stderr, "WARN\tplan") {
		t.Errorf("a warning for 1 pre-training epoch before 1 training epoch:\n%s", stderr)
	}
	// More pre-training than training (mnist-dfc --epochs 1 runs 20
	// epochs of pre-training first): a warning, with the flag to change it.
	code, _, stderr = e.train(context.Background(), "--config", e.cfg, "--name", "pre", "--epochs", "1", "--pretrain-epochs", "2")
	if code != 0 || !regexp.MustCompile(`WARN\tplan: more epochs of feedback pre-training than of training.*2 epochs of feedback pre-training \(--pretrain-epochs N changes it\), then 1 training epoch`).MatchString(stderr) {
		t.Errorf("exit %d, no warning:\n%s", code, stderr)
	}
	var meta runner.Meta
	json.Unmarshal(e.read("x", runfolder.Meta), &meta)
	if meta.DataDir != e.data {
		t.Errorf("meta.json data_dir %q, want %q", meta.DataDir, e.data)
	}
	rows, _ := csv.NewReader(bytes.NewReader(e.read("x", runfolder.MetricsCSV))).ReadAll()
	col := slices.Index(rows[0], "eval_reused")
	if col < 0 || len(rows) != 4 || rows[1][col] != "false" || rows[2][col] != "true" || rows[3][col] != "false" {
		t.Errorf("metrics.csv: %v", rows)
	}
	// Without --data, the default place is recorded (MNIST from the
	// module cache, when it is there).
	if dir, err := dataset.MNISTDir(); err == nil {
		code, _, stderr := cli(context.Background(), "train", "--out", e.out, "--preset", "mnist-bp", "--name", "m", "--epochs", "1",
			"--train-limit", "64", "--set", "hidden=[8]", "--set", "validation=100")
		json.Unmarshal(e.read("m", runfolder.Meta), &meta)
		if code != 0 || meta.DataDir != dir {
			t.Errorf("exit %d, data_dir %q, want %q\n%s", code, meta.DataDir, dir, stderr)
		}
	}
	// Fashion-MNIST's not-found message names a flag this command has.
	if _, err := os.Stat(dataset.FashionMNISTDefaultDir); err != nil {
		code, _, stderr := cli(context.Background(), "train", "--out", e.out, "--preset", "fashion-mnist-bp")
		if code != 1 || !strings.Contains(stderr, "--data DIR") || strings.Contains(stderr, " -data") {
			t.Errorf("exit %d\n%s", code, stderr)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestCIFAR10: CIFAR-10 is a data set like the others (here small files
// in its binary format), and its absence is a clear error.
func TestCIFAR10(t *testing.T) {
	dir := t.TempDir()
	if err := synth.WriteCIFAR10(dir, 20, 30); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	args := []string{"train", "--out", out, "--preset", "mnist-bp", "--set", "dataset=cifar10", "--set", "hidden=[16]", "--set", "validation=20", "--epochs", "1", "--batch", "16"}
	code, stdout, stderr := cli(context.Background(), append(args, "--data", dir, "--name", "c")...)
	s, _ := lastJSON(t, stdout)
	if code != 0 || s.Dataset != "cifar10" || s.TrainSamples != 80 {
		t.Fatalf("exit %d, %+v\n%s", code, s, stderr)
	}
	if _, net, err := checkpoint.ReadNetwork(filepath.Join(out, "c", runfolder.Weights)); err != nil || net.NIn() != 3072 {
		t.Errorf("weights: %v", err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "CIFAR-10 has no default folder"},
		{[]string{"--data", t.TempDir()}, dataset.CIFAR10Files.Train[0]},
	} {
		code, stdout, stderr := cli(context.Background(), append(args, tc.args...)...)
		if s, _ := lastJSON(t, stdout); code != 1 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "--data") || s.Status != "failed" {
			t.Errorf("%v: exit %d\n%s", tc.args, code, stderr)
		}
	}
}
