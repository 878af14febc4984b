package train_test

import (
	"context"
	"math"
	"testing"

	"github.com/strongdfc/strongdfc/dataset"
	"github.com/strongdfc/strongdfc/internal/synth"
	"github.com/strongdfc/strongdfc/presets"
	"github.com/strongdfc/strongdfc/train"
)

// tinyConfig is the published MNIST configuration shrunk to a network and
// window that train in well under a second.
func tinyConfig() train.Config {
	c := presets.MNIST()
	c.Hidden = []int{12, 12}
	c.Epochs = 3
	c.Batch = 16
	c.Validation = 32
	c.Dynamics.Steps = 60
	c.Pretrain.Dynamics.Steps = 40
	c.Forward.LR = 1e-2
	return c
}

func tinyData(t testing.TB, c train.Config) *train.Data {
	t.Helper()
	d, err := synth.Data(c)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestTrainerLearns(t *testing.T) {
	c := tinyConfig()
	tr, err := train.New(c, tinyData(t, c))
	if err != nil {
		t.Fatal(err)
	}
	_, before := tr.Evaluate(tr.Data().Test)
	var last train.EpochResult
	for !tr.Done() {
		if last, err = tr.Next(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if pre, ep := tr.Epochs(); pre != 1 || ep != 3 {
		t.Errorf("ran %d pre-training and %d training epochs", pre, ep)
	}
	if last.TestAccuracy < 0.9 || last.TestAccuracy <= before {
		t.Errorf("test accuracy %.3f after training (%.3f before)", last.TestAccuracy, before)
	}
	// Every diagnostic is a known column, finite, and training records
	// all of them.
	known := map[string]bool{}
	for _, n := range train.DiagnosticNames(len(c.Hidden) + 1) {
		known[n] = true
	}
	for _, r := range tr.History() {
		for k, v := range r.Diagnostics {
			if !known[k] || math.IsNaN(v) {
				t.Errorf("%s epoch %d: diagnostic %s = %g", r.Phase, r.Epoch, k, v)
			}
		}
		if r.Phase == "train" && len(r.Diagnostics) != len(known) {
			t.Errorf("train epoch %d records %d diagnostics, want %d", r.Epoch, len(r.Diagnostics), len(known))
		}
	}
	if h := tr.History(); h[len(h)-1].Diagnostics["control"] >= h[1].Diagnostics["control"] {
		t.Errorf("the amount of control did not decrease: %g, then %g", h[1].Diagnostics["control"], h[len(h)-1].Diagnostics["control"])
	}
}

func TestTrainerCancel(t *testing.T) {
	c := tinyConfig()
	tr, err := train.New(c, tinyData(t, c))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := tr.Next(ctx, nil); err == nil {
		t.Error("a cancelled context did not stop the epoch")
	}
}

// TestEvaluatorRelease: an evaluator gives the same bits after Release
// (which a trainer calls after every epoch's evaluation) as before it, on
// a split of 1 100 samples: two full chunks of the evaluation, whose
// buffers the second call reuses, and a shorter one.
func TestEvaluatorRelease(t *testing.T) {
	c := tinyConfig()
	tr, err := train.New(c, tinyData(t, c))
	if err != nil {
		t.Fatal(err)
	}
	d := tr.Data()
	test := dataset.All(synth.Set(1100, 16, 3))
	ev := train.NewEvaluator(tr.Circuit().Network(), c, d.Norm, d.Classes)
	l1, a1 := ev.Evaluate(test)
	l2, a2 := ev.Evaluate(test) // buffers reused
	ev.Release()
	l3, a3 := ev.Evaluate(test) // made again
	if l1 != l2 || l1 != l3 || a1 != a2 || a1 != a3 || math.IsNaN(l1) {
		t.Errorf("loss %v, %v, %v; accuracy %v, %v, %v: want the same bits", l1, l2, l3, a1, a2, a3)
	}
}
