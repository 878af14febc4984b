package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
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
