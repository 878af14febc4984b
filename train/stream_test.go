package train_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/presets"
	"github.com/strongdfc/strongdfc/train"
)

// TestStreamWindowLoss: the loss and accuracy a window reports are those
// of the network's feedforward output for the window's own input, also
// in a stream, where the circuit's state at the window's start is still
// the previous sample's (reported so, a stream's training accuracy was at
// chance while it learned).
func TestStreamWindowLoss(t *testing.T) {
	for _, stream := range []bool{false, true} {
		c := tinyConfig()
		c.Pretrain.Epochs = 0
		c.Stream, c.ApplyEvery = stream, 1
		c = c.Normalize()
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		m, err := c.MethodSpec()
		if err != nil {
			t.Fatal(err)
		}
		acts, _ := c.Acts()
		net, err := circuit.NewNetwork(c.Sizes(16, 4), acts)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(3, 4))
		net.Init(rng)
		env, err := train.NewEnv(c, m, net, c.Batch, c.Seed, nil)
		if err != nil {
			t.Fatal(err)
		}
		run, err := m.Phase("train").(train.Simulated).Start(env)
		if err != nil {
			t.Fatal(err)
		}
		x := mat.NewDense(c.Batch, 16, nil)
		tg := mat.NewDense(c.Batch, 4, nil)
		labels := make([]int, c.Batch)
		for w := range 3 {
			for i := range c.Batch {
				labels[i] = rng.IntN(4)
				for j := range 16 {
					x.Set(i, j, rng.NormFloat64()+float64(labels[i]))
				}
			}
			circuit.SetSoftTargets(tg, labels, c.TargetClassValue)
			want := env.Loss.Value(net.Predict(x), tg)
			got, err := run.Window(x, tg)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got.Loss-want) > 1e-12*want {
				t.Errorf("stream %v, window %d: loss %.15g, the feedforward output's %.15g", stream, w, got.Loss, want)
			}
		}
	}
}

// TestStreamReset: a stream that resets both its controller and its layers
// at every switch of sample is, bit for bit, the run whose windows reset
// (plasticity at every step in both); resetting only one of them, or
// nothing, ends elsewhere, each differently; and stream_reset without a
// stream, or an unknown value, is a configuration error.
func TestStreamReset(t *testing.T) {
	base := presets.Stream(resumeConfig())
	base.ForwardSettle = 4 // the preset's 40 steps do not fit these 20-step windows
	base.Pretrain.Epochs = 0
	base.Epochs = 1
	data := tinyData(t, base)
	end := func(c train.Config) *train.Snapshot { return finished(t, c, data) }
	windows := base
	windows.Stream = false
	want := end(windows)
	got := map[string]*train.Snapshot{}
	for _, r := range []string{"both", "controller", "layers", "none"} {
		c := base
		c.StreamReset = r
		got[r] = end(c)
	}
	// The stream's snapshot also says that it started and holds its
	// state, which windows that reset do not keep.
	both := *got["both"]
	both.Phases = slices.Clone(both.Phases)
	if !both.Phases[0].Started || both.Phases[0].Vars == nil {
		t.Fatal("the stream's snapshot holds no stream state")
	}
	both.Phases[0].Started, both.Phases[0].Vars = false, nil
	if d := sameBits(want, &both); d != "" {
		t.Errorf("a stream that resets controller and layers: %s differ from windows that reset", d)
	}
	for _, r := range []string{"controller", "layers", "none"} {
		if sameBits(want, got[r]) == "" {
			t.Errorf("stream_reset %s ends as windows that reset do", r)
		}
	}
	if sameBits(got["controller"], got["layers"]) == "" || sameBits(got["controller"], got["none"]) == "" || sameBits(got["layers"], got["none"]) == "" {
		t.Error("two of the partial resets end with the same bits")
	}
	for _, tc := range []struct {
		mod  func(c *train.Config)
		want string
	}{
		{func(c *train.Config) { c.StreamReset = "soma" }, "stream_reset"},
		{func(c *train.Config) { c.Stream = false; c.StreamReset = "controller" }, "stream: true"},
	} {
		c := base
		tc.mod(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("stream_reset %q, stream %v: error %v, want one naming %q", c.StreamReset, c.Stream, err, tc.want)
		}
	}
}
