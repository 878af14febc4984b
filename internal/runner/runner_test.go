package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/strongdfc/strongdfc/internal/synth"
	"github.com/strongdfc/strongdfc/presets"
	"github.com/strongdfc/strongdfc/train"
)

// TestETAPretraining: while feedback pre-training runs, the estimate of
// the run's remaining time counts the training epochs at the pace their
// windows will have (here 25 times as many steps, both rules), not at
// pre-training's.
func TestETAPretraining(t *testing.T) {
	c := presets.MNIST()
	c.Hidden = []int{32, 32}
	c.Epochs, c.Batch, c.Validation = 2, 16, 32
	c.Pretrain.Epochs = 1
	c.Pretrain.Dynamics.Steps = 8
	c.Dynamics.Steps = 200
	data, err := synth.Data(c)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := train.New(c, data)
	if err != nil {
		t.Fatal(err)
	}
	m := tr.Method()
	ratio := windowCost(m, tr.Net.Sizes, m.Phase("train")) / windowCost(m, tr.Net.Sizes, m.Phase("pretrain"))
	if ratio < 25 {
		t.Fatalf("a training window costs %g pre-training windows, want more than the 25 times the steps", ratio)
	}
	pc := newPace(tr)
	B := tr.Position().Batches
	// Half of pre-training done, at a second per minibatch.
	p := train.Progress{Phase: "pretrain", Epoch: 1, Epochs: 1, Batch: B / 2, Batches: B, Elapsed: time.Duration(B/2) * time.Second}
	got := pc.remaining(tr, p, 0).Seconds()
	want := float64(B-B/2) + 2*float64(B)*ratio
	naive := float64(B-B/2) + 2*float64(B)
	if math.Abs(got-want) > 1e-6*want || got < 10*naive {
		t.Errorf("estimate %.1f s in pre-training, want %.1f s (the old estimate was %.1f s)", got, want, naive)
	}
	// In training, at 4 s per minibatch, after an epoch timed at 3 s
	// with 2 s of evaluation: the current pace counts for the phase under
	// way, the evaluation as timed.
	r, err := tr.Next(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	pc.add(r, B)
	pc.add(train.EpochResult{Phase: "train", Epoch: 1, Seconds: 3 * float64(B), EvalSeconds: 2}, B)
	p = train.Progress{Phase: "train", Epoch: 1, Epochs: 2, Batch: B / 2, Batches: B, Elapsed: time.Duration(B/2) * 4 * time.Second}
	got = pc.remaining(tr, p, 0).Seconds()
	if want := 4*float64(B-B/2) + 2 + 4*float64(B) + 2; math.Abs(got-want) > 1e-6*want {
		t.Errorf("estimate %.1f s in training, want %.1f s", got, want)
	}
}

// TestWindowCost: a training window of both rules costs more per step
// than a pre-training window of the feedback rule alone, and in
// proportion to the steps.
func TestWindowCost(t *testing.T) {
	c := presets.MNIST()
	c.Pretrain.Dynamics.Steps = c.Dynamics.Steps
	m, err := c.MethodSpec()
	if err != nil {
		t.Fatal(err)
	}
	sizes := []int{784, 256, 256, 256, 10}
	tr, pre := windowCost(m, sizes, m.Phase("train")), windowCost(m, sizes, m.Phase("pretrain"))
	if !(tr > 1.5*pre && tr < 2.5*pre) {
		t.Errorf("training window %g, pre-training window %g: want about twice", tr, pre)
	}
	c.Dynamics.Steps = 2*c.Dynamics.Steps - 1
	m, _ = c.MethodSpec()
	if got := windowCost(m, sizes, m.Phase("train")); got != 2*tr {
		t.Errorf("twice the steps cost %g, want %g", got, 2*tr)
	}
	bp, _ := presets.BPMNIST().MethodSpec()
	if got := windowCost(bp, sizes, bp.Phase("train")); got != 0 {
		t.Errorf("backprop's cost %g, want 0 (not modelled)", got)
	}
}

// TestProgressLine: a diverging loss is printed with an exponent, never
// as hundreds of digits.
func TestProgressLine(t *testing.T) {
	var b bytes.Buffer
	d := NewDisplay(&b, false, time.Nanosecond)
	d.update(train.Progress{Phase: "train", Epoch: 1, Epochs: 1, Batch: 2, Batches: 2, Loss: 1.5e304, Accuracy: 0.1}, 0, time.Second)
	d.update(train.Progress{Phase: "train", Epoch: 1, Epochs: 1, Batch: 2, Batches: 2, Loss: 2.3025, Accuracy: 0.1}, 0, time.Second)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "loss 1.5e+304") || !strings.Contains(lines[1], "loss 2.3025 ") {
		t.Errorf("progress lines:\n%s", b.String())
	}
	if regexp.MustCompile(`\d{20}`).MatchString(b.String()) {
		t.Errorf("a number of 20 digits or more:\n%s", b.String())
	}
}

// TestResumeHint: an interrupted run saves its state and names the
// command that continues it: the CLI's by default, the program's own when
// Options.ResumeCommand says so.
func TestResumeHint(t *testing.T) {
	data := t.TempDir()
	if err := synth.WriteIDX(data, 64, 16); err != nil {
		t.Fatal(err)
	}
	cfg := presets.MNIST()
	cfg.Hidden, cfg.Epochs, cfg.Batch, cfg.Validation = []int{8}, 1, 16, 16
	cfg.Dynamics.Steps, cfg.Pretrain.Dynamics.Steps, cfg.Pretrain.Epochs = 12, 12, 0
	for _, tc := range []struct{ command, want string }{
		{"", "strongdfc train --resume %s"},
		{"go run ./experiments/spiking -resume %s", "go run ./experiments/spiking -resume %s"},
	} {
		core, logs := observer.New(zap.InfoLevel)
		ctx, cancel := context.WithCancel(context.Background())
		out := t.TempDir()
		opt := Options{DataDir: data, Out: out, Name: "run", Log: zap.New(core), ResumeCommand: tc.command,
			OnProgress: func(train.Progress) { cancel() }}
		_, err := Run(ctx, cfg, opt)
		cancel()
		var in *train.Interrupted
		if !errors.As(err, &in) {
			t.Fatalf("ResumeCommand %q: error %v, want an interruption", tc.command, err)
		}
		saved := logs.FilterMessage("interrupted; the state is saved").All()
		if len(saved) != 1 {
			t.Fatalf("ResumeCommand %q: %d records of the saved state, want 1", tc.command, len(saved))
		}
		want := fmt.Sprintf(tc.want, filepath.Join(out, "run"))
		if got := saved[0].ContextMap()["resume with"]; got != want {
			t.Errorf("ResumeCommand %q: resume with %q, want %q", tc.command, got, want)
		}
		if _, err := os.Stat(filepath.Join(out, "run", "checkpoint.npz")); err != nil {
			t.Errorf("ResumeCommand %q: no checkpoint: %v", tc.command, err)
		}
	}
}

// TestOpenTrainer: a trainer opened from a finished run folder has the
// run's weights (its feedforward accuracy is the run's last test
// accuracy), and a folder without a checkpoint is an error that says so.
func TestOpenTrainer(t *testing.T) {
	data := t.TempDir()
	if err := synth.WriteIDX(data, 64, 32); err != nil {
		t.Fatal(err)
	}
	cfg := presets.MNIST()
	cfg.Hidden, cfg.Epochs, cfg.Batch, cfg.Validation = []int{8}, 1, 16, 16
	cfg.Dynamics.Steps, cfg.Pretrain.Dynamics.Steps, cfg.Pretrain.Epochs = 12, 12, 0
	out := t.TempDir()
	sum, err := Run(context.Background(), cfg, Options{DataDir: data, Out: out, Name: "run"})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := OpenTrainer(filepath.Join(out, "run"), data)
	if err != nil {
		t.Fatal(err)
	}
	if _, acc := tr.Evaluate(tr.Data().Test); acc != sum.TestAccuracy {
		t.Errorf("opened run's test accuracy %g, the run's %g", acc, sum.TestAccuracy)
	}
	if !tr.Done() {
		t.Error("the opened trainer is not at the run's end")
	}
	empty := filepath.Join(out, "empty")
	if err := os.MkdirAll(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenTrainer(empty, data); err == nil {
		t.Error("a folder without a run opened")
	}
	// A run folder whose checkpoint is missing.
	if err := os.Remove(filepath.Join(out, "run", "checkpoint.npz")); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenTrainer(filepath.Join(out, "run"), data); err == nil || !strings.Contains(err.Error(), "no checkpoint") {
		t.Errorf("a run without a checkpoint: %v, want an error that says it has none", err)
	}
}
