package train_test

import (
	"slices"
	"strings"
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
	for _, train := range []string{"poisson", "regular"} {
		c := presets.Spiking(presets.Stream(resumeConfig()))
		c.ForwardSettle = 4 // the preset's 40 steps do not fit these 20-step windows
		c.Spiking.InputTrain = train
		data := tinyData(t, c)
		want := finished(t, c, data)
		_, got := resumed(t, c, data, "train", 2, 3)
		if d := sameBits(want, got); d != "" {
			t.Errorf("%s input trains: %s differ from the uninterrupted spiking stream", train, d)
		}
	}
}

// TestForkSpikingRates: a spiking run's checkpoint continues with a higher
// maximal rate and longer traces (less spike noise from there on): the
// fork starts from the snapshot's exact state, then its mean firing rate
// follows the new bound. Switching the spikes off is refused and names
// the key, and so is a rate change on a stream.
func TestForkSpikingRates(t *testing.T) {
	c := presets.Spiking(resumeConfig())
	data := tinyData(t, c)
	a, err := train.New(c, data)
	if err != nil {
		t.Fatal(err)
	}
	stopAt(t, a, "train", 1, 2)
	snap := snapOf(a)

	fast := c
	fast.Spiking.RateMax, fast.Spiking.InputRateMax, fast.Spiking.TauSyn = 2*c.Spiking.RateMax, 2*c.Spiking.InputRateMax, 2*c.Spiking.TauSyn
	b, err := train.New(fast, data)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Fork(snap); err != nil {
		t.Fatal(err)
	}
	if d := sameBits(snap, snapOf(b)); d != "" {
		t.Errorf("right after the fork: %s differ", d)
	}
	_, rate, err := b.SimulatedAccuracy(b.Data().Test, 40, 64)
	if err != nil {
		t.Fatal(err)
	}
	_, rate0, err := a.SimulatedAccuracy(a.Data().Test, 40, 64)
	if err != nil {
		t.Fatal(err)
	}
	if !(rate > 1.5*rate0) {
		t.Errorf("mean rate %g after doubling the bound, %g before", rate, rate0)
	}
	finish(t, b)

	for _, tc := range []struct {
		name string
		mod  func(c *train.Config)
		want string
	}{
		{"hidden spikes off", func(c *train.Config) { c.Spiking.RateMax = 0; c.Spiking.LearnFrom = "" }, "spiking.rate_max"},
		{"input spikes off", func(c *train.Config) { c.Spiking.InputRateMax = 0 }, "spiking.input_rate_max"},
	} {
		other := c
		tc.mod(&other)
		o, err := train.New(other, data)
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Fork(snap); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %q", tc.name, err, tc.want)
		}
	}

	// On a stream the carried traces count the old rate's spikes: a
	// rate change is refused.
	sc := presets.Spiking(presets.Stream(resumeConfig()))
	sc.ForwardSettle = 4
	sdata := tinyData(t, sc)
	s, err := train.New(sc, sdata)
	if err != nil {
		t.Fatal(err)
	}
	stopAt(t, s, "train", 1, 2)
	faster := sc
	faster.Spiking.RateMax *= 2
	o, err := train.New(faster, sdata)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Fork(snapOf(s)); err == nil || !strings.Contains(err.Error(), "spiking.rate_max") {
		t.Errorf("a stream's rate changed in a fork: error %v, want one naming spiking.rate_max", err)
	}
}

// TestProbeAngles: at one set of weights, the forward updates of rate
// neurons point closer to backprop's gradient than those of neurons that
// spike at a low rate bound (whose updates carry more spike noise), and a
// probe with the learning rates at zero leaves the weights as they were.
// A position past the split's end is an error.
func TestProbeAngles(t *testing.T) {
	c := presets.Spiking(tinyConfig())
	c.Pretrain.Epochs = 0
	data := tinyData(t, c)
	a, err := train.New(c, data)
	if err != nil {
		t.Fatal(err)
	}
	finish(t, a)
	snap := snapOf(a)

	probe := func(mod func(c *train.Config)) float64 {
		t.Helper()
		p := c
		p.Forward.LR, p.Feedback.LR = 0, 0
		mod(&p)
		tr, err := train.New(p, data)
		if err != nil {
			t.Fatal(err)
		}
		if err := train.SetWeights(tr.Net, snap.W, snap.B, snap.Q); err != nil {
			t.Fatal(err)
		}
		var sum float64
		for k := range 4 {
			_, total, err := tr.ProbeAngles(data.Train, k*p.Batch)
			if err != nil {
				t.Fatal(err)
			}
			sum += total
		}
		after := snapOf(tr)
		for i := range snap.W {
			if !slices.Equal(after.W[i], snap.W[i]) {
				t.Errorf("layer %d's W changed in probes with no learning rate", i+1)
			}
		}
		if _, _, err := tr.ProbeAngles(data.Train, data.Train.Len()); err == nil {
			t.Error("a probe past the split's end: no error")
		}
		return sum / 4
	}
	rate := probe(func(c *train.Config) {
		c.Spiking = train.Spiking{}
	})
	sparse := probe(func(c *train.Config) {
		c.Spiking.RateMax, c.Spiking.InputRateMax = 20, 20
	})
	t.Logf("whole update's angle to backprop: rate neurons %.1f°, spiking at most 20 per unit of time %.1f°", rate, sparse)
	if !(rate < 90 && rate+5 < sparse) {
		t.Errorf("angle to backprop: rate neurons %.1f°, spiking at most 20 per unit of time %.1f°; want the rate neurons' clearly smaller", rate, sparse)
	}
}
