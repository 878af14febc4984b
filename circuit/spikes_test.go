package circuit

import (
	"math"
	"math/rand/v2"
	"slices"
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
	return spikingCircuitInput(t, eventDriven, rmax, pool, seed, SpikeInput{})
}

// spikingCircuitInput is spikingCircuit with the input trains' kind and
// normalisation of in.
func spikingCircuitInput(t *testing.T, eventDriven bool, rmax float64, pool *compute.Pool, seed uint64, in SpikeInput) *Circuit {
	t.Helper()
	net := smallNet(t, 3)
	net.Pool = pool
	p := smallParams()
	p.Soma = neuron.SpikingSoma{RateMax: rmax, TauSyn: 0.01}
	in.RateMax, in.TauSyn = rmax, 0.01
	p.Input = &in
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
	for _, in := range []SpikeInput{{}, {Regular: true}, {Mean: 0.1307, Std: 0.3081}} {
		eventDrivenEqualsDense(t, in)
	}
}

func eventDrivenEqualsDense(t *testing.T, in SpikeInput) {
	rng := rand.New(rand.NewPCG(1, 1))
	c := spikingCircuitInput(t, true, 300, nil, 4, in)
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

// TestRegularInput: a regular input train spikes RateMax·dt·x times per
// step on average, each input within one spike of it over any stretch
// (a clock, whatever its phase), from phases that differ between inputs
// and between presentations; its decoded trace fluctuates far less than a
// Poisson train's of the same rate (8 times less here, where the
// dimmest inputs spike more rarely than the trace decays).
func TestRegularInput(t *testing.T) {
	const rmax, steps, burn = 300, 3000, 100
	x := mat.NewDense(5, 8, nil)
	for i := range x.RawMatrix().Data {
		x.RawMatrix().Data[i] = float64(i%8) / 7 // 0 (silent) to 1
	}
	x.Set(4, 7, 1.5) // clamped to 1
	targets := SoftTargets([]int{0, 1, 2, 3, 0}, 4, 0.99)
	variance := map[bool]float64{}
	for _, regular := range []bool{false, true} {
		c := spikingCircuitInput(t, true, rmax, nil, 7, SpikeInput{Regular: regular})
		c.Present(x, targets, true)
		count := mat.NewDense(5, 8, nil)
		var sum, sumSq float64
		for k := range steps {
			c.Step()
			count.Add(count, c.InputSpikes())
			if k >= burn {
				for i, v := range c.Pre(1).RawMatrix().Data {
					d := v - clampOne(x.RawMatrix().Data[i])
					sum, sumSq = sum+d, sumSq+d*d
				}
			}
		}
		n := float64((steps - burn) * 40)
		variance[regular] = sumSq/n - (sum/n)*(sum/n)
		if !regular {
			continue
		}
		dt := c.clock.DT()
		for i := range 5 {
			for j := range 8 {
				want := rmax * dt * clampOne(x.At(i, j)) * steps
				if got := count.At(i, j); math.Abs(got-want) > 1 {
					t.Errorf("regular train (%d, %d) at x = %g: %g spikes in %d steps, want %g ± 1", i, j, x.At(i, j), got, steps, want)
				}
			}
		}
		// The phases are drawn anew at every presentation: the first
		// spikes come at other steps.
		first := func() []float64 {
			c.Present(x, targets, true)
			c.Step()
			return append([]float64(nil), c.InputSpikes().RawMatrix().Data...)
		}
		a, b := first(), first()
		if slices.Equal(a, b) {
			t.Error("two presentations of a regular train spike alike in their first step")
		}
	}
	t.Logf("variance of the decoded input trace about x: Poisson %.3g, regular %.3g", variance[false], variance[true])
	if !(variance[true] < variance[false]/5) {
		t.Errorf("decoded trace's variance: regular %.3g, Poisson %.3g; want the regular's below a fifth", variance[true], variance[false])
	}
}

// TestSpikeInputNorm: with a normalisation, the trains spike at the rates
// of the pixels (the same spikes as unnormalised input of those pixels,
// from the same draws) and layer 1's decoded trace is the normalised
// input: its time average approaches x (a regular train's closely), and
// it stays (s̃/RateMax −
// Mean)/Std of the unnormalised trace at every step.
func TestSpikeInputNorm(t *testing.T) {
	const mean, std, rmax, steps = 0.1307, 0.3081, 300, 4000
	rng := rand.New(rand.NewPCG(5, 5))
	pixels := unitInput(rng, 5, 8)
	x := mat.NewDense(5, 8, nil)
	for i, p := range pixels.RawMatrix().Data {
		x.RawMatrix().Data[i] = (p - mean) / std
	}
	targets := SoftTargets([]int{0, 1, 2, 3, 0}, 4, 0.99)
	for _, regular := range []bool{false, true} {
		plain := spikingCircuitInput(t, true, rmax, nil, 8, SpikeInput{Regular: regular})
		norm := spikingCircuitInput(t, true, rmax, nil, 8, SpikeInput{Regular: regular, Mean: mean, Std: std})
		plain.Present(pixels, targets, true)
		norm.Present(x, targets, true)
		avg := mat.NewDense(5, 8, nil)
		worst := 0.0
		for k := range steps {
			plain.Step()
			norm.Step()
			if !mat.Equal(plain.InputSpikes(), norm.InputSpikes()) {
				t.Fatalf("regular %v, step %d: the normalised input's spikes differ from its pixels'", regular, k+1)
			}
			avg.Add(avg, norm.Pre(1))
			for i, v := range norm.Pre(1).RawMatrix().Data {
				want := (plain.Pre(1).RawMatrix().Data[i] - mean) / std
				worst = math.Max(worst, math.Abs(v-want))
			}
		}
		avg.Scale(1.0/steps, avg)
		if worst > 1e-9 {
			t.Errorf("regular %v: decoded trace differs from the unnormalised one normalised by up to %.3g", regular, worst)
		}
		// Regular trains average out to rounding of their phases; Poisson
		// trains to their sampling error (about 0.1 here).
		if e, tol := relErr(avg.RawMatrix().Data, x.RawMatrix().Data), map[bool]float64{false: 0.2, true: 0.02}[regular]; e > tol {
			t.Errorf("regular %v: the decoded trace's time average differs from x by %.3g", regular, e)
		}
	}
}
