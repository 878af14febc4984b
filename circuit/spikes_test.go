package circuit

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/neuron"
	"github.com/strongdfc/strongdfc/scheduler"
)

// spikingCircuit builds an 8-7-6-4 network with spiking hidden layers and
// spiking input on pool, without plasticity.
func spikingCircuit(t *testing.T, eventDriven bool, rmax float64, pool *compute.Pool, seed uint64) *Circuit {
	t.Helper()
	net := smallNet(t, 3)
	net.Pool = pool
	p := smallParams()
	p.Soma = neuron.SpikingSoma{RateMax: rmax, TauSyn: 0.01}
	p.Input = &PoissonInput{RateMax: rmax, TauSyn: 0.01}
	p.EventDriven = eventDriven
	clk, _ := scheduler.NewClock(p.DT)
	c, err := New(net, clk, 5, Config{Params: p.Params, Noise: neuron.NewGaussian(seed), Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func unitInput(rng *rand.Rand, b, n int) *mat.Dense {
	x := mat.NewDense(b, n, nil)
	for i := range x.RawMatrix().Data {
		x.RawMatrix().Data[i] = rng.Float64()
	}
	return x
}

// TestEventDrivenEqualsDense: the event-driven basal input of every layer
// equals the dense product of its presynaptic decoded traces with the
// weights, on the spike trains of the run (to rounding), step after step.
func TestEventDrivenEqualsDense(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	c := spikingCircuit(t, true, 300, nil, 4)
	x := unitInput(rng, 5, 8)
	c.Present(x, SoftTargets([]int{0, 1, 2, 3, 0}, 4, 0.99), true)
	spikes := 0.0
	for k := range 300 {
		c.Step()
		for i := 1; i <= c.Network().L(); i++ {
			if c.ev[i-1] == nil {
				t.Fatalf("layer %d has no event-driven input", i)
			}
			want := mat.NewDense(5, c.Network().Sizes[i], nil)
			c.Network().Forward[i-1].Drive(nil, want, c.Pre(i))
			if e := relErr(c.State(i).Basal.RawMatrix().Data, want.RawMatrix().Data); e > 1e-12 {
				t.Fatalf("step %d, layer %d: event-driven basal input differs from the dense product by %.3g", k+1, i, e)
			}
		}
		spikes += mat.Sum(c.InputSpikes())
	}
	if spikes == 0 {
		t.Fatal("the input never spiked")
	}
}

// TestSpikingMeanField: with the feedback weights at zero, the spiking
// network's hidden rates, averaged over time, approach the rate network's
// for the same weights as the rates (and so the spikes per time constant)
// grow.
func TestSpikingMeanField(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	x := unitInput(rng, 5, 8)
	var prev float64
	for k, rmax := range []float64{50, 200, 800} {
		c := spikingCircuit(t, true, rmax, nil, 5)
		for _, f := range c.Network().Feedback {
			f.Q.Zero()
		}
		c.Present(x, SoftTargets([]int{0, 1, 2, 3, 0}, 4, 0.99), true)
		ref := c.Network().Feedforward(nil, clampUnit(x))
		mean := mat.NewDense(5, 7, nil)
		const steps = 20000
		for range steps {
			c.Step()
			mean.Add(mean, c.State(1).Rate)
		}
		mean.Scale(1.0/steps, mean)
		e := relErr(mean.RawMatrix().Data, ref.R[1].RawMatrix().Data)
		t.Logf("rate %g: mean-field error of layer 1 %.3g", rmax, e)
		if k > 0 && !(e < prev) {
			t.Errorf("rate %g: error %.3g, not below %.3g at a lower rate", rmax, e, prev)
		}
		prev = e
	}
	if prev > 0.05 {
		t.Errorf("at the highest rate the spiking rates differ from the rate model's by %.3g", prev)
	}
}

func clampUnit(x *mat.Dense) *mat.Dense {
	y := mat.DenseCopyOf(x)
	for i, v := range y.RawMatrix().Data {
		y.RawMatrix().Data[i] = math.Min(1, math.Max(0, v))
	}
	return y
}

// TestSpikesIndependentOfWorkers: the same seed gives the same spikes with
// no pool and with pools of 2 and 3 workers.
func TestSpikesIndependentOfWorkers(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	x := unitInput(rng, 5, 8)
	run := func(pool *compute.Pool) []float64 {
		c := spikingCircuit(t, true, 300, pool, 9)
		c.Present(x, SoftTargets([]int{0, 1, 2, 3, 0}, 4, 0.99), true)
		var out []float64
		for range 200 {
			c.Step()
			for i := 1; i < c.Network().L(); i++ {
				out = append(out, c.State(i).Extra[0].RawMatrix().Data...)
			}
		}
		return out
	}
	ref := run(nil)
	for _, w := range []int{2, 3} {
		p := compute.NewPool(w)
		if !sameBits(ref, run(p)) {
			t.Errorf("%d workers change the spikes", w)
		}
		p.Close()
	}
}
