package circuit

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/internal/golden"
	"github.com/strongdfc/strongdfc/neuron"
)

// TestGoldenBackprop checks the backprop gradients and loss against
// bp_reference.json (autograd in the reference code), and the angles between
// the Strong-DFC update of the golden iteration and backprop.
func TestGoldenBackprop(t *testing.T) {
	var bc golden.BPCase
	golden.Load(t, "bp_reference.json", &bc)
	var gc golden.StrongCase
	golden.Load(t, "strong_single_phase_tiny.json", &gc)

	c, _, _ := goldenCircuit(t, &gc, replayNoise(&gc))
	net := c.Network()
	x, targets := bc.Inputs.X.Dense(), bc.Inputs.Targets.Dense()
	g := NewGrads(net)
	loss := net.Backprop(g, x, targets, CrossEntropy{})
	golden.Check(t, "loss", []float64{loss}, []float64{bc.Loss}, goldenTol)
	for i := range net.L() {
		golden.Check(t, fmt.Sprintf("bp grad_W[%d]", i+1), golden.Flat(g.W[i]), bc.BPGradients.Layers[i].GradW.Data, goldenTol)
		golden.Check(t, fmt.Sprintf("bp grad_b[%d]", i+1), g.B[i].RawVector().Data, bc.BPGradients.Layers[i].GradB.Data, goldenTol)
	}

	// The Strong-DFC gradient of the same minibatch, raw and clipped.
	c.Present(x, targets, true)
	for range gc.Config.Tmax - 1 {
		c.Step()
	}
	c.Gradients()
	check := func(stage string) {
		for i := range net.L() {
			want := bc.Angles.Layers[i]
			gotW := Angle(golden.Flat(g.W[i]), golden.Flat(net.Forward[i].GradW))
			gotB := Angle(g.B[i].RawVector().Data, net.Forward[i].GradB.RawVector().Data)
			if math.Abs(gotW-want.Weights) > 1e-9 || math.Abs(gotB-want.Bias) > 1e-9 {
				t.Errorf("%s angles of layer %d: W %.12f° b %.12f°, want %.12f° %.12f°", stage, i+1, gotW, gotB, want.Weights, want.Bias)
			}
		}
	}
	check("raw")
	c.ClipGradients()
	check("clipped")
}

// TestBackpropFiniteDifferences compares backprop with central differences
// of the loss, for every activation and both losses.
func TestBackpropFiniteDifferences(t *testing.T) {
	cases := []struct {
		name   string
		hidden neuron.Activation
		loss   Loss
	}{
		{"tanh/cross-entropy", neuron.Tanh, CrossEntropy{}},
		{"logistic/cross-entropy", neuron.Logistic, CrossEntropy{}},
		{"relu/mse", neuron.ReLU, MSE{}},
		{"linear/mse", neuron.Linear, MSE{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			net, err := MLP([]int{5, 7, 6, 4}, tc.hidden)
			if err != nil {
				t.Fatal(err)
			}
			net.Init(rng)
			for _, f := range net.Forward {
				for j := range f.B.Len() {
					f.B.SetVec(j, 0.1*rng.NormFloat64())
				}
			}
			x := randDense(rng, 3, 5)
			targets := SoftTargets([]int{0, 3, 1}, 4, 0.9)
			g := NewGrads(net)
			net.Backprop(g, x, targets, tc.loss)
			const h = 1e-6
			lossAt := func() float64 { return tc.loss.Value(net.Predict(x), targets) }
			for i, f := range net.Forward {
				for _, p := range []struct {
					name string
					val  []float64
					grad []float64
				}{
					{"W", f.W.RawMatrix().Data, g.W[i].RawMatrix().Data},
					{"b", f.B.RawVector().Data, g.B[i].RawVector().Data},
				} {
					for j := range p.val {
						old := p.val[j]
						p.val[j] = old + h
						up := lossAt()
						p.val[j] = old - h
						down := lossAt()
						p.val[j] = old
						fd := (up - down) / (2 * h)
						if d := math.Abs(fd - p.grad[j]); d > 1e-7*(1+math.Abs(fd)) {
							t.Errorf("layer %d %s[%d]: backprop %.10g, finite difference %.10g", i+1, p.name, j, p.grad[j], fd)
						}
					}
				}
			}
		})
	}
}

func randDense(rng *rand.Rand, r, c int) *mat.Dense {
	m := mat.NewDense(r, c, nil)
	for i := range r {
		for j := range c {
			m.Set(i, j, rng.NormFloat64())
		}
	}
	return m
}

func TestAngle(t *testing.T) {
	cases := []struct {
		a, b []float64
		want float64
	}{
		{[]float64{1, 0}, []float64{0, 2}, 90},
		{[]float64{1, 1}, []float64{2, 2}, 0},
		{[]float64{1, 0}, []float64{-3, 0}, 180},
		{[]float64{1, 0}, []float64{1, 1}, 45},
	}
	for _, tc := range cases {
		// acos near 1 amplifies a rounding of cos to ~1e-6 degrees, as in the reference.
		if got := Angle(tc.a, tc.b); math.Abs(got-tc.want) > 1e-5 {
			t.Errorf("Angle(%v, %v) = %g, want %g", tc.a, tc.b, got, tc.want)
		}
	}
}
