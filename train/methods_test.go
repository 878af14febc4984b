package train_test

import (
	"context"
	"slices"
	"testing"

	"github.com/strongdfc/strongdfc/presets"
	"github.com/strongdfc/strongdfc/train"
)

// withMethod returns c with another method (DFC-SS and DFC-SSA share
// DFC's constants).
func withMethod(c train.Config, m string) train.Config {
	c.Method = m
	return c
}

// tinyMethod shrinks a method's published MNIST configuration to the
// synthetic task of tinyConfig: a small network, short windows, a few
// epochs.
func tinyMethod(c train.Config) train.Config {
	tiny := tinyConfig()
	c.Hidden, c.Epochs, c.Batch, c.Validation = tiny.Hidden, tiny.Epochs, tiny.Batch, tiny.Validation
	c.Forward.LR = 1e-2
	if c.Dynamics.Steps > 0 {
		c.Dynamics.Steps = 60
	}
	if c.Sleep.Dynamics.Steps > 0 {
		c.Sleep.Dynamics.Steps = min(c.Sleep.Dynamics.Steps, 30)
	}
	if c.Pretrain.Epochs > 0 {
		c.Pretrain.Epochs = 1
		c.Pretrain.Dynamics.Steps = min(c.Pretrain.Dynamics.Steps, 30)
	}
	return c
}

// TestMethodsLearn: every method learns the synthetic task, and runs the
// phases its schedule gives, in order.
func TestMethodsLearn(t *testing.T) {
	cases := []struct {
		name   string
		cfg    train.Config
		phases []string
	}{
		{"strong-dfc", presets.MNIST(), []string{"pretrain", "train", "train", "train"}},
		{"strong-dfc-2phase", presets.StrongDFC2MNIST(), []string{"pretrain", "sleep", "train", "sleep", "train", "sleep", "train"}},
		{"dfc", presets.DFCMNIST(), []string{"pretrain", "sleep", "train", "sleep", "train", "sleep", "train"}},
		{"dfc-ss", withMethod(presets.DFCMNIST(), train.MethodDFCSS), nil},
		{"dfc-ssa", withMethod(presets.DFCMNIST(), train.MethodDFCSSA), nil},
		{"bp", presets.BPMNIST(), []string{"train", "train", "train"}},
		{"strong-dfc-2phase, sleep after", func() train.Config { c := presets.StrongDFC2FashionMNIST(); c.Dataset = "mnist"; return c }(),
			[]string{"pretrain", "sleep", "train", "sleep", "sleep", "sleep", "train", "sleep", "sleep", "sleep", "train", "sleep", "sleep"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.name != "strong-dfc-2phase" && tc.name != "dfc-ssa" {
				t.Skip("the other methods' phases are covered by the two kept in -short mode")
			}
			c := tinyMethod(tc.cfg)
			tr, err := train.New(c, tinyData(t, c))
			if err != nil {
				t.Fatal(err)
			}
			_, before := tr.Evaluate(tr.Data().Test)
			var phases []string
			var last train.EpochResult
			for !tr.Done() {
				r, err := tr.Next(context.Background(), nil)
				if err != nil {
					t.Fatal(err)
				}
				phases = append(phases, r.Phase)
				last = r
			}
			if tc.phases != nil && !slices.Equal(phases, tc.phases) {
				t.Errorf("phases %v, want %v", phases, tc.phases)
			}
			_, acc := tr.Evaluate(tr.Data().Test)
			if acc < 0.8 || acc <= before {
				t.Errorf("test accuracy %.3f after training (%.3f before)", acc, before)
			}
			if c.Method != train.MethodBP {
				if _, ok := last.Diagnostics["gn_alignment"]; !ok {
					t.Errorf("no GN alignment in the last epoch's diagnostics %v", last.Diagnostics)
				}
			}
		})
	}
}

// TestResumeExactTwoPhase: a two-phase run stopped in a sleep phase, or
// between a sleep phase and its training phase, resumes from a checkpoint
// file to the same bits as an uninterrupted run.
func TestResumeExactTwoPhase(t *testing.T) {
	for _, base := range []train.Config{presets.StrongDFC2MNIST(), presets.DFCMNIST()} {
		c := tinyMethod(base)
		c.TrainLimit = 90
		c.Epochs = 2
		data := tinyData(t, c)
		ref, err := train.New(c, data)
		if err != nil {
			t.Fatal(err)
		}
		finish(t, ref)
		want, _ := ref.Snapshot()
		for _, stop := range []struct {
			phase        string
			epoch, batch int
		}{
			{"sleep", 2, 3}, // in the second epoch's sleep phase
			{"train", 1, 1}, // after the first sleep phase, before training
			{"train", 2, 4}, // in the second training phase
		} {
			_, got := resumed(t, c, data, stop.phase, stop.epoch, stop.batch)
			if d := sameBits(want, got); d != "" {
				t.Errorf("%s: stopped at %s epoch %d minibatch %d: %s differ", c.Method, stop.phase, stop.epoch, stop.batch, d)
			}
		}
	}
}

// TestRestorePretrained: DFC-SS continued from DFC's pre-training is the
// DFC-SS run made from the start, bit for bit.
func TestRestorePretrained(t *testing.T) {
	base := tinyMethod(presets.DFCMNIST())
	base.TrainLimit = 90
	data := tinyData(t, base)
	ss := withMethod(base, train.MethodDFCSS)
	want := finished(t, ss, data)

	dfc, err := train.New(base, data)
	if err != nil {
		t.Fatal(err)
	}
	for !dfc.PretrainDone() {
		if _, err := dfc.Next(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := dfc.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := train.New(ss, data)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.RestorePretrained(snap); err != nil {
		t.Fatal(err)
	}
	finish(t, b)
	got, _ := b.Snapshot()
	if d := sameBits(want, got); d != "" {
		t.Errorf("DFC-SS from DFC's pre-training: %s differ from a DFC-SS run from the start", d)
	}
	// Not at the end of pre-training, or a method that pre-trains otherwise.
	finish(t, dfc)
	late, _ := dfc.Snapshot()
	if err := b.RestorePretrained(late); err == nil {
		t.Error("a snapshot after training epochs was accepted")
	}
	sd, err := train.New(tinyMethod(presets.StrongDFC2MNIST()), data)
	if err != nil {
		t.Fatal(err)
	}
	if err := sd.RestorePretrained(snap); err == nil {
		t.Error("two-phase Strong-DFC accepted DFC's pre-training")
	}
}
