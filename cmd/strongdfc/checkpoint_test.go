package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/internal/runner"
	"github.com/strongdfc/strongdfc/train"
)

// TestCheckpointWithinEpoch: a run writes its checkpoint within epochs too
// (here after every minibatch), so a process killed with no warning in the
// middle of an epoch (the folder copied as it is then, which is what kill
// -9 leaves) resumes from that minibatch, not from the epoch's start, and
// ends with the weights of an uninterrupted run; the checkpoints within
// epochs change nothing.
func TestCheckpointWithinEpoch(t *testing.T) {
	e := newEnv(t)
	e.mustTrain("--config", e.cfg, "--name", "full")
	want := e.read("full", runfolder.Weights)

	killed := filepath.Join(t.TempDir(), "killed")
	defer func() { testHooks = nil }()
	testHooks = func(o *runner.Options) {
		o.CheckpointEvery = time.Nanosecond
		o.OnProgress = func(p train.Progress) {
			if p.Phase == "train" && p.Epoch == 2 && p.Batch == 4 {
				if err := os.CopyFS(killed, os.DirFS(filepath.Join(e.out, "often"))); err != nil {
					t.Error(err)
				}
			}
		}
	}
	e.mustTrain("--config", e.cfg, "--name", "often")
	testHooks = nil
	if !bytes.Equal(e.read("often", runfolder.Weights), want) {
		t.Error("checkpoints within epochs changed the run's weights")
	}
	code, _, stderr := cli(context.Background(), "train", "--resume", killed, "--data", e.data)
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s", code, stderr)
	}
	if !bytes.Contains([]byte(stderr), []byte("train epoch 2/3, minibatch 3/")) {
		t.Errorf("the copy did not resume from the middle of epoch 2:\n%s", stderr)
	}
	got, err := os.ReadFile(filepath.Join(killed, runfolder.Weights))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("the run resumed from a checkpoint within an epoch ends with other weights")
	}
}

// TestFrom: "train --from RUN" starts a new run folder from RUN's
// checkpoint. With nothing changed but --epochs it ends as RUN extended
// would; with a lower learning rate it ends elsewhere, its metrics start
// with RUN's and its meta.json names RUN; a change that the checkpoint's
// state cannot follow (the seed) is refused before anything is written;
// RUN itself is never touched.
func TestFrom(t *testing.T) {
	e := newEnv(t)
	e.mustTrain("--config", e.cfg, "--name", "parent")
	e.mustTrain("--config", e.cfg, "--epochs", "4", "--name", "longer")
	parent := filepath.Join(e.out, "parent")
	before := snapshotTree(t, parent)

	e.mustTrain("--from", parent, "--epochs", "4", "--name", "same")
	if !bytes.Equal(e.read("same", runfolder.Weights), e.read("longer", runfolder.Weights)) {
		t.Error("a run continued --from another with nothing changed differs from the longer run")
	}
	e.mustTrain("--from", parent, "--epochs", "4", "--set", "forward.lr=0.001", "--name", "slow")
	if bytes.Equal(e.read("slow", runfolder.Weights), e.read("longer", runfolder.Weights)) {
		t.Error("a run continued with a tenth of the learning rate ends with the same weights")
	}
	var meta runner.Meta
	if err := json.Unmarshal(e.read("slow", runfolder.Meta), &meta); err != nil || meta.From != parent || !strings.Contains(meta.FromAt, "train epoch 4/4, minibatch 0/") {
		t.Errorf("meta.json: from %q at %q (%v), want %q at the start of epoch 4", meta.From, meta.FromAt, err, parent)
	}
	got, want := e.metricsWithoutTimes("slow"), e.metricsWithoutTimes("parent")
	if len(got) != len(want)+1 || fmt.Sprint(got[:len(want)]) != fmt.Sprint(want) {
		t.Errorf("metrics of the continued run\n%v\ndo not start with the parent's\n%v", got, want)
	}
	if !bytes.Contains(e.read("slow", runfolder.Config), []byte("lr: 0.001 ")) {
		t.Error("config.yaml does not record the new learning rate")
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--seed", "7", "--epochs", "4"}, "seed"},
		{[]string{"--epochs", "3"}, "complete"},
		{[]string{"--resume", parent}, "--from"},
	} {
		name := "refused" + fmt.Sprint(len(tc.args))
		code, _, stderr := e.train(context.Background(), append([]string{"--from", parent, "--name", name}, tc.args...)...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("--from with %v: exit %d, want an error mentioning %q\n%s", tc.args, code, tc.want, stderr)
		}
		if _, err := os.Stat(filepath.Join(e.out, name)); err == nil {
			t.Errorf("--from with %v: refused, but wrote a run folder", tc.args)
		}
	}
	if after := snapshotTree(t, parent); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Error("continuing a run --from its folder changed the folder")
	}
}

// TestOlderRunFolder: a run folder whose config.yaml predates a key (an
// older program wrote it) resumes, and is continued with --from, with the
// value its checkpoint was written with, not the preset's value of
// today. Here the key is second_moment, which the online preset sets to
// window; the run had step.
func TestOlderRunFolder(t *testing.T) {
	e := newEnv(t)
	e.trainOneEpoch("--preset", "mnist-strong-dfc-online", "--config", e.cfg, "--name", "old",
		"--set", "forward.second_moment=step", "--set", "feedback.second_moment=step")
	dir := filepath.Join(e.out, "old")
	path := filepath.Join(dir, runfolder.Config)
	b, _ := os.ReadFile(path)
	older := regexp.MustCompile(`(?m)^  second_moment:.*\n`).ReplaceAll(b, nil)
	if n := bytes.Count(b, []byte("second_moment:")); n != 2 || bytes.Contains(older, []byte("second_moment")) {
		t.Fatalf("config.yaml has %d second_moment keys, want 2 to remove:\n%s", n, b)
	}
	if err := os.WriteFile(path, older, 0o644); err != nil {
		t.Fatal(err)
	}
	// collect, too, shows the older folder as it ran (second_moment step,
	// a key its preset now sets to window). Stopped in its pre-training,
	// it has no learning curve yet: --plot says so.
	plot := filepath.Join(e.out, "curves.png")
	code, stdout, stderr := cli(context.Background(), "collect", dir, "--runs-csv", "-", "--md", filepath.Join(e.out, "table.md"), "--plot", plot)
	rows, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("collect: exit %d, %v\n%s%s", code, err, stdout, stderr)
	}
	col := slices.Index(rows[0], "forward.second_moment")
	if col < 0 || rows[1][col] != "step" {
		t.Errorf("collect shows the older run folder with today's preset values, not its own:\n%s", stdout)
	}
	if code == 0 || !strings.Contains(stderr, "no run has finished a training epoch") {
		t.Errorf("collect --plot of a run in its pre-training: exit %d, want an error that says why\n%s", code, stderr)
	}
	e.mustTrain("--from", dir, "--epochs", "4", "--name", "forked")
	if !bytes.Contains(e.read("forked", runfolder.Config), []byte("second_moment: step ")) {
		t.Error("the run continued --from the older folder does not record second_moment step")
	}
	if code, _, stderr := cli(context.Background(), "train", "--resume", dir, "--data", e.data); code != 0 {
		t.Fatalf("resuming the older run folder: exit %d\n%s", code, stderr)
	}
	if s := e.metricsWithoutTimes("old"); len(s) < 2 || s[len(s)-1][0] != "train" || s[len(s)-1][1] != "3" {
		t.Errorf("the resumed run's metrics do not end with training epoch 3:\n%v", s)
	}
	if code, _, stderr := cli(context.Background(), "collect", dir, "--md", filepath.Join(e.out, "table.md"), "--plot", plot); code != 0 {
		t.Fatalf("collect --plot: exit %d\n%s", code, stderr)
	}
	if pts, err := os.ReadFile(filepath.Join(e.out, "curves.csv")); err != nil || !bytes.Contains(pts, []byte("test accuracy after each epoch,old,3,")) {
		t.Errorf("collect --plot has no point of the run's third epoch: %v\n%s", err, pts)
	}
	// Editing a key the file has is still refused.
	b, _ = os.ReadFile(path)
	os.WriteFile(path, bytes.Replace(b, []byte("seed: 1 "), []byte("seed: 2 "), 1), 0o644)
	if code, _, stderr := cli(context.Background(), "train", "--resume", dir, "--data", e.data, "--epochs", "4"); code == 0 || !strings.Contains(stderr, "seed") {
		t.Errorf("resuming after editing seed: exit %d, want a refusal naming seed\n%s", code, stderr)
	}
}
