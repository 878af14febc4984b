package train_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/circuit"
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
