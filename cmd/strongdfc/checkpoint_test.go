package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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
