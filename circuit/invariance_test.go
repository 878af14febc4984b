package circuit

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/neuron"
	"github.com/strongdfc/strongdfc/scheduler"
	"github.com/strongdfc/strongdfc/synapse"
)

// smallParams are MNIST-like constants for a small network.
func smallParams() spec {
	return spec{
		Params: Params{
			TauV: 0.009268, Alpha: 7.6e-6, KP: 2,
			Sigma: 0.0043, SigmaOut: 0.0297, TauNoise: 0.07,
			Error: SoftmaxError, Target: LabelTarget,
		},
		DT: 0.001, LearnForward: true, LearnFeedback: true, TauF: 0.5, LayerScaling: true, ClipNorm: 1,
	}
}

func smallNet(t *testing.T, seed uint64) *Network {
	net, err := MLP([]int{8, 7, 6, 4}, neuron.Tanh)
	if err != nil {
		t.Fatal(err)
	}
	net.Init(rand.New(rand.NewPCG(seed, 0)))
	return net
}

func newAdams(t *testing.T, net *Network) (*synapse.Adam, *synapse.Adam) {
	f, err := synapse.NewAdam(synapse.AdamConfig{LR: 3e-4, Beta1: 0.9, Beta2: 0.99, Eps: 1.6e-5}, net.ForwardParams())
	if err != nil {
		t.Fatal(err)
	}
	b, err := synapse.NewAdam(synapse.AdamConfig{LR: 2e-8, Beta1: 0.99, Beta2: 0.999, Eps: 1.1e-11, WeightDecay: 0.5}, net.FeedbackParams())
	if err != nil {
		t.Fatal(err)
	}
	return f, b
}

// TestBatchInvariance: a batch of k samples gives the same per-sample
// trajectory as k batches of one, and its gradient is the mean of their
// gradients (noise replayed per sample).
func TestBatchInvariance(t *testing.T) {
	const k, T = 5, 60
	rng := rand.New(rand.NewPCG(3, 4))
	net := smallNet(t, 1)
	x := randDense(rng, k, 8)
	targets := SoftTargets([]int{0, 3, 1, 2, 3}, 4, 0.99)
	// draws[layer][t][row][j]
	draws := make([][][][]float64, net.L())
	for l := range draws {
		for range T {
			rows := make([][]float64, k)
			for r := range rows {
				rows[r] = make([]float64, net.Sizes[l+1])
				for j := range rows[r] {
					rows[r][j] = rng.NormFloat64()
				}
			}
			draws[l] = append(draws[l], rows)
		}
	}
	run := func(c *Circuit, x, tg *mat.Dense) {
		c.Present(x, tg, true)
		for range T - 1 {
			c.Step()
		}
		c.Gradients()
	}
	bigNet0 := net.Clone()
	fwd, fb := newAdams(t, bigNet0)
	big, err := build(bigNet0, smallParams(), k, neuron.NewReplay(draws), fwd, fb)
	if err != nil {
		t.Fatal(err)
	}
	run(big, x, targets)
	bigNet := big.Network()
	meanW := NewGrads(net)
	meanQ := make([]*mat.Dense, net.L())
	for i := range meanQ {
		meanQ[i] = mat.NewDense(net.Sizes[i+1], net.NOut(), nil)
	}
	for s := range k {
		one := make([][][][]float64, net.L())
		for l := range one {
			for tt := range T {
				one[l] = append(one[l], [][]float64{draws[l][tt][s]})
			}
		}
		n1 := net.Clone()
		f1, b1 := newAdams(t, n1)
		c, err := build(n1, smallParams(), 1, neuron.NewReplay(one), f1, b1)
		if err != nil {
			t.Fatal(err)
		}
		run(c, mat.DenseCopyOf(x.Slice(s, s+1, 0, 8)), mat.DenseCopyOf(targets.Slice(s, s+1, 0, 4)))
		for i := 1; i <= net.L(); i++ {
			got, want := big.State(i).Soma.RawRowView(s), c.State(i).Soma.RawRowView(0)
			if e := relErr(got, want); e > 1e-13 {
				t.Errorf("sample %d layer %d: batch state differs from single-sample state by %.2g", s, i, e)
			}
			meanW.W[i-1].Add(meanW.W[i-1], n1.Forward[i-1].GradW)
			meanW.B[i-1].AddVec(meanW.B[i-1], n1.Forward[i-1].GradB)
			meanQ[i-1].Add(meanQ[i-1], n1.Feedback[i-1].GradQ)
		}
	}
	for i := range net.L() {
		meanW.W[i].Scale(1.0/k, meanW.W[i])
		meanW.B[i].ScaleVec(1.0/k, meanW.B[i])
		meanQ[i].Scale(1.0/k, meanQ[i])
		if e := relErr(bigNet.Forward[i].GradW.RawMatrix().Data, meanW.W[i].RawMatrix().Data); e > 1e-12 {
			t.Errorf("layer %d: ∇W of the batch differs from the mean of single samples by %.2g", i+1, e)
		}
		if e := relErr(bigNet.Forward[i].GradB.RawVector().Data, meanW.B[i].RawVector().Data); e > 1e-12 {
			t.Errorf("layer %d: ∇b differs by %.2g", i+1, e)
		}
		if e := relErr(bigNet.Feedback[i].GradQ.RawMatrix().Data, meanQ[i].RawMatrix().Data); e > 1e-12 {
			t.Errorf("layer %d: ∇Q differs by %.2g", i+1, e)
		}
	}
}

// trainBits trains a small network for a few windows with Gaussian noise
// from seed and returns all its weights.
func trainBits(t *testing.T, seed uint64, batch, stackDepth int, pool *compute.Pool) []float64 {
	net := smallNet(t, 2)
	net.Pool = pool
	fwd, fb := newAdams(t, net)
	p := smallParams()
	p.StackDepth = stackDepth
	clk, _ := scheduler.NewClock(p.DT)
	c, err := New(net, clk, batch, Config{Params: p.Params, Noise: neuron.NewGaussian(seed), Pool: pool, Learning: []Learning{
		{Rule: ContinuousForward{Depth: stackDepth}, Optimizer: fwd, ClipNorm: p.ClipNorm},
		{Rule: FeedbackRule{TauF: p.TauF, LayerScaling: true, Depth: stackDepth}, Optimizer: fb, ClipNorm: p.ClipNorm},
	}})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 9))
	for range 3 {
		x := randDense(rng, batch, 8)
		labels := make([]int, batch)
		for i := range labels {
			labels[i] = rng.IntN(4)
		}
		c.Present(x, SoftTargets(labels, 4, 0.99), true)
		for range 80 {
			c.Step()
		}
		if err := c.Apply(); err != nil {
			t.Fatal(err)
		}
	}
	var out []float64
	for _, p := range append(net.ForwardParams(), net.FeedbackParams()...) {
		out = append(out, p.Value...)
	}
	return out
}

func sameBits(a, b []float64) bool {
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

func TestSameSeedSameBits(t *testing.T) {
	a, b := trainBits(t, 11, 6, 0, nil), trainBits(t, 11, 6, 0, nil)
	if !sameBits(a, b) {
		t.Error("the same seed gave different weights")
	}
	if c := trainBits(t, 12, 6, 0, nil); sameBits(a, c) {
		t.Error("a different seed gave the same weights")
	}
}

// TestWorkersInvariance: the number of workers of the pool (none, 1, 2, 4)
// and GOMAXPROCS do not change a bit.
func TestWorkersInvariance(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	// A batch large enough that the products are tiled.
	runtime.GOMAXPROCS(1)
	a := trainBits(t, 5, 300, 0, nil)
	for _, procs := range []int{1, 2, 4} {
		runtime.GOMAXPROCS(procs)
		pool := compute.NewPool(procs)
		if b := trainBits(t, 5, 300, 0, pool); !sameBits(a, b) {
			t.Errorf("%d workers give different weights than none", procs)
		}
		pool.Close()
	}
}

// TestStackDepth: stacking time steps changes only the order of additions.
func TestStackDepth(t *testing.T) {
	a := trainBits(t, 5, 6, 1, nil)
	for _, d := range []int{3, 10, 100} {
		if e := relErr(trainBits(t, 5, 6, d, nil), a); e > 1e-12 {
			t.Errorf("stack depth %d changes the weights by %.2g", d, e)
		}
	}
}

// TestPartialBatch: a batch smaller than the circuit's capacity gives the
// same result as a circuit built for exactly that batch.
func TestPartialBatch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := randDense(rng, 3, 8)
	tg := SoftTargets([]int{1, 2, 3}, 4, 0.99)
	run := func(capacity int) []float64 {
		net := smallNet(t, 3)
		fwd, fb := newAdams(t, net)
		p := smallParams()
		p.Sigma, p.SigmaOut = 0, 0
		c, err := build(net, p, capacity, nil, fwd, fb)
		if err != nil {
			t.Fatal(err)
		}
		c.Present(x, tg, true)
		for range 30 {
			c.Step()
		}
		if err := c.Apply(); err != nil {
			t.Fatal(err)
		}
		return net.Forward[0].W.RawMatrix().Data
	}
	if !sameBits(run(3), run(8)) {
		t.Error("a partial batch differs from an exact one")
	}
}

func TestParamsValidate(t *testing.T) {
	cases := map[string]func(*spec){
		"zero dt":            func(p *spec) { p.DT = 0 },
		"negative dt":        func(p *spec) { p.DT = -1 },
		"dt > tau_v":         func(p *spec) { p.DT = 0.1 },
		"negative sigma":     func(p *spec) { p.Sigma = -0.01 },
		"negative sigma_out": func(p *spec) { p.SigmaOut = -0.01 },
		"tau_noise > tau_f":  func(p *spec) { p.TauNoise = 0.6 },
		"negative alpha":     func(p *spec) { p.Alpha = -1 },
		"NaN k_p":            func(p *spec) { p.KP = math.NaN() },
		"weak without step":  func(p *spec) { p.Target = WeakTarget },
		"negative clip":      func(p *spec) { p.ClipNorm = -1 },
	}
	for name, mod := range cases {
		p := smallParams()
		mod(&p)
		net := smallNet(t, 1)
		fwd, fb := newAdams(t, net)
		if _, err := build(net, p, 2, neuron.NewGaussian(1), fwd, fb); err == nil {
			t.Errorf("%s: New accepted", name)
		}
	}
	net0 := smallNet(t, 1)
	fwd0, fb0 := newAdams(t, net0)
	p0 := smallParams()
	p0.LearnFeedback = false
	if _, err := build(net0, p0, 2, neuron.NewGaussian(1), fb0, nil); err == nil {
		t.Error("a forward rule with the feedback optimizer accepted")
	}
	if _, err := build(net0, p0, 2, neuron.NewGaussian(1), fwd0, nil); err != nil {
		t.Errorf("forward learning alone refused: %v", err)
	}
	net := smallNet(t, 1)
	if _, err := build(net, smallParams(), 2, nil, nil, nil); err == nil {
		t.Error("learning without optimizers accepted")
	}
}

// TestDivergenceStops: a gradient that is not finite stops Apply with an
// error naming the layer and leaves the weights untouched.
func TestDivergenceStops(t *testing.T) {
	net := smallNet(t, 1)
	fwd, fb := newAdams(t, net)
	p := smallParams()
	p.Sigma, p.SigmaOut = 0, 0
	c, err := build(net, p, 2, nil, fwd, fb)
	if err != nil {
		t.Fatal(err)
	}
	before := mat.DenseCopyOf(net.Forward[1].W)
	x := mat.NewDense(2, 8, nil)
	x.Set(0, 0, math.Inf(1))
	c.Present(x, SoftTargets([]int{0, 1}, 4, 0.99), true)
	for range 5 {
		c.Step()
	}
	err = c.Apply()
	if err == nil {
		t.Fatal("a NaN gradient was applied")
	}
	if !mat.Equal(before, net.Forward[1].W) {
		t.Error("weights changed by a failed Apply")
	}
	t.Log(err)
}
