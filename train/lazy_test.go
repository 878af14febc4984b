package train_test

import (
	"context"
	"testing"

	"github.com/strongdfc/strongdfc/train"
)

// TestPhasesStartLazily: a phase builds its circuits when it first runs,
// so the training's circuits do not exist during the feedback
// pre-training; a checkpoint taken before the training starts restores
// without starting it; and the run ends with the same bits either way
// (TestResumeExact covers resuming at every stage).
func TestPhasesStartLazily(t *testing.T) {
	c := tinyConfig()
	c.Epochs = 1
	data := tinyData(t, c)
	tr, err := train.New(c, data)
	if err != nil {
		t.Fatal(err)
	}
	started := func(tr *train.Trainer) [2]bool {
		return [2]bool{train.PhaseStarted(tr, "pretrain"), train.PhaseStarted(tr, "train")}
	}
	if got := started(tr); got != [2]bool{false, false} {
		t.Fatalf("after New, started (pretrain, train) = %v, want neither", got)
	}
	if _, err := tr.Next(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if got := started(tr); got != [2]bool{true, false} {
		t.Fatalf("after the pre-training epoch, started = %v, want only the pre-training", got)
	}
	back := throughFile(t, tr, c, data)
	if got := train.PhaseStarted(back, "train"); got {
		t.Error("restoring a checkpoint from before the training started the training phase")
	}
	for _, r := range []*train.Trainer{tr, back} {
		if _, err := r.Next(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		if !train.PhaseStarted(r, "train") {
			t.Error("the training epoch ran without starting the training phase")
		}
	}
	a, _ := tr.Snapshot()
	b, _ := back.Snapshot()
	if d := sameBits(a, b); d != "" {
		t.Errorf("restored before the training started: %s differ from the uninterrupted run", d)
	}
}
