package circuit

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/scheduler"
	"github.com/strongdfc/strongdfc/synapse"
)

// TestOnlineFirstOrder: with SGD of learning rate η, applying the
// plasticity at every step (gradients normalised per window) and applying
// it at the window's end change the weights alike to first order in η:
// their difference, relative to the change, shrinks in proportion to η.
func TestOnlineFirstOrder(t *testing.T) {
	const T = 120
	rng := rand.New(rand.NewPCG(5, 6))
	base := smallNet(t, 7)
	x := randDense(rng, 3, 8)
	tg := SoftTargets([]int{0, 2, 3}, 4, 0.99)
	change := func(eta float64, every int) []float64 {
		net := base.Clone()
		fwd, _ := synapse.NewSGD(synapse.SGDConfig{LR: eta}, net.ForwardParams())
		// The feedback rule's scale is 1/max(σ, 0.01)² = 10⁴ without noise.
		fb, _ := synapse.NewSGD(synapse.SGDConfig{LR: eta * 1e-4}, net.FeedbackParams())
		p := smallParams()
		p.Sigma, p.SigmaOut = 0, 0
		perF, perB := 0, 0
		if every > 0 {
			perF, perB = T, T-1
		}
		clk, _ := scheduler.NewClock(p.DT)
		c, err := New(net, clk, 3, Config{Params: p.Params, Learning: []Learning{
			{Rule: ContinuousForward{PerWindow: perF}, Optimizer: fwd},
			{Rule: FeedbackRule{TauF: p.TauF, LayerScaling: true, PerWindow: perB}, Optimizer: fb},
		}})
		if err != nil {
			t.Fatal(err)
		}
		s, _ := scheduler.New(scheduler.Config{Steps: T, ApplyEvery: every}, clk)
		if err := s.Window(c, x, tg); err != nil {
			t.Fatal(err)
		}
		var d []float64
		for i := range net.Forward {
			var dw, dq mat.Dense
			dw.Sub(net.Forward[i].W, base.Forward[i].W)
			dq.Sub(net.Feedback[i].Q, base.Feedback[i].Q)
			d = append(append(d, dw.RawMatrix().Data...), dq.RawMatrix().Data...)
		}
		return d
	}
	var prev float64
	for k, eta := range []float64{1e-2, 1e-3, 1e-4} {
		end, online := change(eta, 0), change(eta, 1)
		e := relErr(online, end)
		t.Logf("η = %g: relative difference %.3g", eta, e)
		if e > 0.2 {
			t.Fatalf("η = %g: per-step and window-end changes differ by %.3g", eta, e)
		}
		if k > 0 && !(e < prev/5) {
			t.Errorf("η = %g: the difference %.3g did not shrink with η (%.3g at 10η)", eta, e, prev)
		}
		prev = e
	}
}

// TestStreamNeverResets: two windows of a stream are one long window whose
// input switches: the same bits as a hand-built run that presents the
// second sample without a reset, and different bits from windows that
// reset.
func TestStreamNeverResets(t *testing.T) {
	const T = 60
	rng := rand.New(rand.NewPCG(8, 9))
	x1, x2 := randDense(rng, 2, 8), randDense(rng, 2, 8)
	t1, t2 := SoftTargets([]int{0, 1}, 4, 0.99), SoftTargets([]int{2, 3}, 4, 0.99)
	run := func(kind string) []float64 {
		net := smallNet(t, 4)
		fwd, fb := newAdams(t, net)
		p := smallParams()
		p.Sigma, p.SigmaOut = 0, 0
		clk, _ := scheduler.NewClock(p.DT)
		c, err := New(net, clk, 2, Config{Params: p.Params, Learning: []Learning{
			{Rule: ContinuousForward{PerWindow: T}, Optimizer: fwd, ClipNorm: 1},
			{Rule: FeedbackRule{TauF: p.TauF, LayerScaling: true, PerWindow: T - 1}, Optimizer: fb, ClipNorm: 1},
		}})
		if err != nil {
			t.Fatal(err)
		}
		switch kind {
		case "stream", "windows":
			s, _ := scheduler.New(scheduler.Config{Steps: T, ApplyEvery: 1, Stream: kind == "stream"}, clk)
			for i, x := range []*mat.Dense{x1, x2} {
				if err := s.Window(c, x, []*mat.Dense{t1, t2}[i]); err != nil {
					t.Fatal(err)
				}
			}
		case "by hand":
			for i, x := range []*mat.Dense{x1, x2} {
				c.Present(x, []*mat.Dense{t1, t2}[i], i == 0)
				for range T - 1 {
					c.Step()
					if err := c.Apply(); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		var out []float64
		for i := 1; i <= net.L(); i++ {
			out = append(out, c.State(i).Soma.RawMatrix().Data...)
		}
		return append(append(out, c.Controller().U.RawMatrix().Data...), net.Forward[0].W.RawMatrix().Data...)
	}
	stream, hand, windows := run("stream"), run("by hand"), run("windows")
	if !sameBits(stream, hand) {
		t.Error("a stream of two samples differs from one long window whose input switches")
	}
	if sameBits(stream, windows) {
		t.Error("a stream and windows that reset give the same state")
	}
}

// TestForwardSettle: with Settle s the forward rule's window sum is the
// full window's sum minus that of its first s steps: the change of a
// window of T steps with Settle s, times T, equals the change of the same
// window without, times T, minus the change of a window of s+1 steps (the
// same trajectory's first s steps), times s+1 (plain SGD of rate 1, no
// noise, so the three windows follow one trajectory).
func TestForwardSettle(t *testing.T) {
	const T, s = 40, 12
	rng := rand.New(rand.NewPCG(9, 10))
	base := smallNet(t, 3)
	x := randDense(rng, 3, 8)
	tg := SoftTargets([]int{1, 0, 3}, 4, 0.99)
	change := func(steps, settle int) []float64 {
		net := base.Clone()
		fwd, _ := synapse.NewSGD(synapse.SGDConfig{LR: 1}, net.ForwardParams())
		p := smallParams()
		p.Sigma, p.SigmaOut = 0, 0
		clk, _ := scheduler.NewClock(p.DT)
		c, err := New(net, clk, 3, Config{Params: p.Params, Learning: []Learning{
			{Rule: ContinuousForward{Settle: settle}, Optimizer: fwd},
		}})
		if err != nil {
			t.Fatal(err)
		}
		sch, _ := scheduler.New(scheduler.Config{Steps: steps}, clk)
		if err := sch.Window(c, x, tg); err != nil {
			t.Fatal(err)
		}
		var d []float64
		for i := range net.Forward {
			var dw mat.Dense
			dw.Sub(net.Forward[i].W, base.Forward[i].W)
			d = append(d, dw.RawMatrix().Data...)
		}
		return d
	}
	full, first, settled := change(T, 0), change(s+1, 0), change(T, s)
	want := make([]float64, len(full))
	for i := range want {
		want[i] = (full[i]*T - first[i]*(s+1)) / T
	}
	if e := relErr(settled, want); e > 1e-10 {
		t.Errorf("settled window's change differs from the full one's minus its first %d steps by %.3g (relative)", s, e)
	}
	if e := relErr(settled, full); e < 1e-3 {
		t.Errorf("settling %d steps changed the update by only %.3g: the test shows nothing", s, e)
	}
	if _, err := (ContinuousForward{Settle: -1}).Bind(nil); err == nil {
		t.Error("a negative Settle was accepted")
	}
}
