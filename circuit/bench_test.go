package circuit

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/neuron"
	"github.com/strongdfc/strongdfc/scheduler"
	"github.com/strongdfc/strongdfc/synapse"
)

// mnistCircuit builds the published MNIST configuration (784-256-256-256-10,
// batch 128) on random data.
func mnistCircuit(b *testing.B) (*Circuit, *mat.Dense, *mat.Dense) {
	b.Helper()
	net, err := MLP([]int{784, 256, 256, 256, 10}, neuron.Tanh)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	net.Init(rng)
	fwd, _ := synapse.NewAdam(synapse.AdamConfig{LR: 3.0959e-4, Beta1: 0.9, Beta2: 0.99, Eps: 1.629e-5}, net.ForwardParams())
	fb, _ := synapse.NewAdam(synapse.AdamConfig{LR: 2.009e-8, Beta1: 0.99, Beta2: 0.999, Eps: 1.102e-11, WeightDecay: 0.5}, net.FeedbackParams())
	p := spec{
		Params: Params{
			TauV: 0.009268288409004458, Alpha: 7.608673370995652e-06, KP: 2,
			Sigma: 0.004278964325349612, SigmaOut: 0.029713880264874388, TauNoise: 0.07,
			Error: SoftmaxError, Target: LabelTarget,
		},
		DT: 0.001, LearnForward: true, LearnFeedback: true, TauF: 0.5, LayerScaling: true, ClipNorm: 1,
	}
	pool := compute.NewPool(0)
	b.Cleanup(pool.Close)
	net.Pool = pool
	clk, _ := scheduler.NewClock(p.DT)
	c, err := New(net, clk, 128, Config{Params: p.Params, Noise: neuron.NewGaussian(1), Pool: pool, Learning: []Learning{
		{Rule: ContinuousForward{}, Optimizer: fwd, ClipNorm: 1},
		{Rule: FeedbackRule{TauF: p.TauF, LayerScaling: true}, Optimizer: fb, ClipNorm: 1},
	}})
	if err != nil {
		b.Fatal(err)
	}
	x := randDense(rng, 128, 784)
	labels := make([]int, 128)
	for i := range labels {
		labels[i] = rng.IntN(10)
	}
	return c, x, SoftTargets(labels, 10, 0.99)
}

// BenchmarkStep is one time step of the published MNIST configuration.
func BenchmarkStep(b *testing.B) {
	c, x, tg := mnistCircuit(b)
	c.Present(x, tg, true)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		c.Step()
	}
}

// BenchmarkWindow is one whole window (T = 500) with its update.
func BenchmarkWindow(b *testing.B) {
	c, x, tg := mnistCircuit(b)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		c.Present(x, tg, true)
		for range 499 {
			c.Step()
		}
		if err := c.Apply(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(128*b.N)/b.Elapsed().Seconds(), "samples/s")
}
