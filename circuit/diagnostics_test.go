package circuit

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/neuron"
)

// TestGNAlignmentKnown: ideal feedback Q̄ = Jᵀ is aligned (1); a Q̄ in the
// null space of J is not (0); half of each gives 1/√2 when the parts have
// equal norms.
func TestGNAlignmentKnown(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	net, err := MLP([]int{5, 6, 4, 3}, neuron.Tanh)
	if err != nil {
		t.Fatal(err)
	}
	net.Init(rng)
	p := net.Feedforward(nil, randDense(rng, 2, 5))
	J := net.Jacobian(p, 0)
	net.SetQBar(J.T())
	if a, err := net.GNAlignment(p, 0); err != nil || math.Abs(a-1) > 1e-12 {
		t.Errorf("alignment of Q̄ = Jᵀ: %v, %v; want 1", a, err)
	}
	// A Q̄ orthogonal to the row space of J: (I − P_J)·R for random R.
	var G, Ginv, P mat.Dense
	G.Mul(J, J.T())
	if err := Ginv.Inverse(&G); err != nil {
		t.Fatal(err)
	}
	var JtGinv mat.Dense
	JtGinv.Mul(J.T(), &Ginv)
	P.Mul(&JtGinv, J)
	N := net.Hidden()
	R := randDense(rng, N, 3)
	var PR, orth mat.Dense
	PR.Mul(&P, R)
	orth.Sub(R, &PR)
	net.SetQBar(&orth)
	if a, _ := net.GNAlignment(p, 0); math.Abs(a) > 1e-10 {
		t.Errorf("alignment of an orthogonal Q̄: %v, want 0", a)
	}
	// Equal-norm parts in and out of the row space: 1/√2.
	var in mat.Dense
	in.Scale(mat.Norm(&orth, 2)/mat.Norm(J, 2), J.T())
	var mix mat.Dense
	mix.Add(&in, &orth)
	net.SetQBar(&mix)
	if a, _ := net.GNAlignment(p, 0); math.Abs(a-1/math.Sqrt2) > 1e-10 {
		t.Errorf("alignment of an equal mix: %v, want %v", a, 1/math.Sqrt2)
	}
}

func TestControlH(t *testing.T) {
	net, _ := MLP([]int{2, 3, 2}, neuron.Tanh)
	// Q̄ stacked: Q_1 (3×2), Q_2 (2×2).
	Q := mat.NewDense(5, 2, []float64{1, 0, 0, 1, 1, 1, 2, 0, 0, 2})
	net.SetQBar(Q)
	U := mat.NewDense(2, 2, []float64{1, 0, 0, 0})
	// Q̄·u_0 = (1, 0, 1, 2, 0): squared norm 6; u_1 = 0. H = 6/(2·5).
	if h := net.ControlH(U); math.Abs(h-0.6) > 1e-15 {
		t.Errorf("H = %v, want 0.6", h)
	}
}

func TestUpdateAngles(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	net, _ := MLP([]int{3, 4, 2}, neuron.Tanh)
	net.Init(rng)
	g := NewGrads(net)
	for i, f := range net.Forward {
		for j := range f.GradW.RawMatrix().Data {
			v := rng.NormFloat64()
			f.GradW.RawMatrix().Data[j] = v
			g.W[i].RawMatrix().Data[j] = 3 * v // same direction
		}
	}
	per, total := UpdateAngles(net, g)
	for i, a := range append(per, total) {
		if a > 1e-5 {
			t.Errorf("angle %d of parallel updates = %v°", i, a)
		}
	}
	g.W[0].Scale(-1, g.W[0])
	per, _ = UpdateAngles(net, g)
	if math.Abs(per[0]-180) > 1e-5 {
		t.Errorf("angle of opposite updates = %v°", per[0])
	}
}

// TestFeedbackRatio: with Q = 0 the ratio is 0; with Q·u equal to the
// forward input it is 1.
func TestFeedbackRatio(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	net := smallNet(t, 4)
	for _, f := range net.Feedback {
		f.Q.Zero()
	}
	p := smallParams()
	p.Sigma, p.SigmaOut, p.LearnForward, p.LearnFeedback = 0, 0, false, false
	c, err := build(net, p, 3, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Present(randDense(rng, 3, 8), SoftTargets([]int{0, 1, 2}, 4, 0.99), true)
	for range 5 {
		c.Step()
	}
	for i, r := range c.FeedbackRatio() {
		if r != 0 {
			t.Errorf("layer %d: ratio %v with Q = 0", i+1, r)
		}
	}
	// Put the forward input into the feedback drive by hand.
	for i := 1; i <= net.L(); i++ {
		st := c.State(i)
		st.Feedback.Copy(st.Basal)
		for b := range 3 {
			row := st.Feedback.RawRowView(b)
			for j, x := range net.Forward[i-1].B.RawVector().Data {
				row[j] -= x
			}
		}
	}
	for i, r := range c.FeedbackRatio() {
		if math.Abs(r-1) > 1e-12 {
			t.Errorf("layer %d: ratio %v, want 1", i+1, r)
		}
	}
}

// TestSteadyStateUpdate: the LastStepForward update is the rule's term
// of the last state, −(2/B)·δᵀ·r_pre.
func TestSteadyStateUpdate(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	net := smallNet(t, 5)
	fwd, fb := newAdams(t, net)
	p := smallParams()
	p.Sigma, p.SigmaOut, p.LearnFeedback = 0, 0, false
	p.Forward = LastStepForward{}
	c, err := build(net, p, 3, nil, fwd, fb)
	if err != nil {
		t.Fatal(err)
	}
	x := randDense(rng, 3, 8)
	c.Present(x, SoftTargets([]int{0, 1, 3}, 4, 0.99), true)
	for range 40 {
		c.Step()
	}
	// Expected gradient of layer 2 from the state.
	st, pre := c.State(2), c.State(1).Rate
	var d mat.Dense
	d.Apply(func(i, j int, v float64) float64 { return math.Tanh(v) - math.Tanh(st.Basal.At(i, j)) }, st.Soma)
	var want mat.Dense
	want.Mul(d.T(), pre)
	want.Scale(-2.0/3, &want)
	c.Gradients()
	if e := relErr(net.Forward[1].GradW.RawMatrix().Data, want.RawMatrix().Data); e > 1e-14 {
		t.Errorf("steady-state ∇W_2 differs by %.2g", e)
	}
}

// TestAnalyticUpdate: with ideal feedback and a tiny nudge, the analytic
// (DFC-SSA) update equals the steady-state update of a long simulation.
func TestAnalyticUpdate(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	net, err := MLP([]int{4, 6, 5, 3}, neuron.Tanh)
	if err != nil {
		t.Fatal(err)
	}
	net.Init(rng)
	x := randDense(rng, 1, 4)
	net.SetQBar(net.Jacobian(net.Feedforward(nil, x), 0).T())
	grads := func(upd Rule, steps int) []float64 {
		n := net.Clone()
		fwd, fb := newAdams(t, n)
		p := spec{Params: Params{TauV: 1e-2, Alpha: 1e-4, KP: 1, Error: DifferenceError,
			Target: WeakTarget, TargetStep: 1e-3}, DT: 1e-3, LearnForward: true, Forward: upd}
		c, err := build(n, p, 1, nil, fwd, fb)
		if err != nil {
			t.Fatal(err)
		}
		c.Present(x, SoftTargets([]int{1}, 3, 1), true)
		for range steps {
			c.Step()
		}
		c.Gradients()
		var out []float64
		for _, f := range n.Forward {
			out = append(out, f.GradW.RawMatrix().Data...)
		}
		return out
	}
	sim, ana := grads(LastStepForward{}, 200000), grads(AnalyticForward{}, 0)
	if e := relErr(ana, sim); e > 5e-3 {
		t.Errorf("analytic update differs from the simulated steady state by %.2g", e)
	}
}
