package train_test

import (
	"testing"

	"github.com/strongdfc/strongdfc/presets"
	"github.com/strongdfc/strongdfc/train"
)

// TestSpikingLearns: a small network of spiking hidden neurons fed spike
// trains learns the synthetic task by single-phase Strong-DFC: its
// feedforward (mean-field) accuracy and the accuracy of its own spiking
// dynamics both rise well above chance.
func TestSpikingLearns(t *testing.T) {
	c := presets.Spiking(tinyConfig())
	c.Pretrain.Epochs = 0
	tr, err := train.New(c, tinyData(t, c))
	if err != nil {
		t.Fatal(err)
	}
	_, before := tr.Evaluate(tr.Data().Test)
	finish(t, tr)
	_, after := tr.Evaluate(tr.Data().Test)
	spk, rate, err := tr.SimulatedAccuracy(tr.Data().Test, 60, 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("mean-field accuracy %.3f (before %.3f), spiking %.3f at %.0f spikes per unit of time", after, before, spk, rate)
	if after < 0.8 || after <= before || spk < 0.7 {
		t.Errorf("spiking network: mean-field accuracy %.3f (before %.3f), spiking %.3f", after, before, spk)
	}
	if !(rate > 0 && rate < c.Spiking.RateMax) {
		t.Errorf("mean firing rate %g, want within (0, %g)", rate, c.Spiking.RateMax)
	}
}

// TestSimulatedAccuracies: several presentation times read from one
// simulation give the accuracies a window of each length gives on its own (an
// untrained spiking network, whose readouts after 3, 30 and 60 steps
// differ).
func TestSimulatedAccuracies(t *testing.T) {
	c := presets.Spiking(tinyConfig())
	c.Pretrain.Epochs = 0
	tr, err := train.New(c, tinyData(t, c))
	if err != nil {
		t.Fatal(err)
	}
	test := tr.Data().Test
	var one, rates [3]float64
	for m, steps := range []int{3, 60, 30} {
		if one[m], rates[m], err = tr.SimulatedAccuracy(test, steps, 64); err != nil {
			t.Fatal(err)
		}
	}
	rate := rates[1] // the rate is measured over the longest window
	accs, rate2, err := tr.SimulatedAccuracies(test, []int{3, 60, 30}, 64)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("accuracy after 3, 60 and 30 steps: %v (one window each: %v)", accs, one)
	if accs[0] != one[0] || accs[1] != one[1] || accs[2] != one[2] || rate2 != rate {
		t.Errorf("SimulatedAccuracies(3, 60, 30) = %v at rate %g; one window each gave %v at rate %g", accs, rate2, one, rate)
	}
	if one[0] == one[1] && one[1] == one[2] {
		t.Errorf("the three presentation times give the same accuracy %g: the test cannot tell them apart", one[0])
	}
	if _, _, err := tr.SimulatedAccuracies(test, []int{60, 1}, 64); err == nil {
		t.Error("a window of 1 step was accepted")
	}
}

// TestResumeExactSpikingStream: a spiking network on a stream resumes
// from a checkpoint mid-stream to the same bits (its spikes, traces and
// input trains travel in the checkpoint).
func TestResumeExactSpikingStream(t *testing.T) {
	c := presets.Spiking(presets.Stream(resumeConfig()))
	c.ForwardSettle = 4 // the preset's 40 steps do not fit these 20-step windows
	data := tinyData(t, c)
	want := finished(t, c, data)
	_, got := resumed(t, c, data, "train", 2, 3)
	if d := sameBits(want, got); d != "" {
		t.Errorf("%s differ from the uninterrupted spiking stream", d)
	}
}
