package circuit

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/neuron"
)

// TestSteadyStateIdealFeedback sets Q̄ = Jᵀ (the ideal feedback) at the
// feedforward state, drives the output away from its feedforward value by
// δ_L and checks that the simulated controller settles at the analytic
// u_ss = (J·Q̄ + αI)⁻¹·δ_L, with the output moved by J·Q̄·u_ss. For a linear
// network the linearisation is exact; for tanh it holds to first order in
// |δ_L|.
func TestSteadyStateIdealFeedback(t *testing.T) {
	cases := []struct {
		name   string
		hidden neuron.Activation
		delta  float64
		tol    float64
	}{
		{"linear", neuron.Linear, 0.1, 1e-6},
		{"tanh", neuron.Tanh, 1e-3, 5e-3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 8))
			net, err := MLP([]int{4, 6, 5, 3}, tc.hidden)
			if err != nil {
				t.Fatal(err)
			}
			net.Init(rng)
			x := randDense(rng, 1, 4)
			pass := net.Feedforward(nil, x)
			J := net.Jacobian(pass, 0)
			net.SetQBar(J.T())
			const alpha = 1e-4
			deltaL := make([]float64, net.NOut())
			target := mat.NewDense(1, net.NOut(), nil)
			for j := range deltaL {
				deltaL[j] = tc.delta * rng.NormFloat64()
				target.Set(0, j, pass.Output().At(0, j)+deltaL[j])
			}
			uWant, dvWant, err := net.SteadyState(pass, 0, deltaL, alpha)
			if err != nil {
				t.Fatal(err)
			}
			p := spec{Params: Params{TauV: 1e-2, Alpha: alpha, KP: 1, Error: DifferenceError, Target: LabelTarget}, DT: 1e-3}
			c, err := build(net, p, 1, nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			c.Present(x, target, true)
			for range 200000 {
				c.Step()
			}
			u := c.Controller().U.RawRowView(0)
			if e := relErr(u, uWant); e > tc.tol {
				t.Errorf("u = %v, analytic u_ss = %v (relative error %.2g)", u, uWant, e)
			}
			// Somatic minus basal voltage equals Q̄·u_ss.
			var dv []float64
			for i := 1; i <= net.L(); i++ {
				st := c.State(i)
				for j := range net.Sizes[i] {
					dv = append(dv, st.Soma.At(0, j)-st.Basal.At(0, j))
				}
			}
			if e := relErr(dv, dvWant); e > tc.tol {
				t.Errorf("v − v_ff = %v, analytic Q̄u_ss = %v (relative error %.2g)", dv, dvWant, e)
			}
			// The output moved by J·Q̄·u_ss ≈ δ_L − α·u_ss.
			var moved []float64
			for j := range net.NOut() {
				moved = append(moved, c.Output().At(0, j)-pass.Output().At(0, j))
			}
			want := make([]float64, len(deltaL))
			for j := range want {
				want[j] = deltaL[j] - alpha*uWant[j]
			}
			if e := relErr(moved, want); e > tc.tol {
				t.Errorf("output moved by %v, want %v (relative error %.2g)", moved, want, e)
			}
		})
	}
}

func relErr(got, want []float64) float64 {
	var d, m float64
	for i := range got {
		d = math.Max(d, math.Abs(got[i]-want[i]))
		m = math.Max(m, math.Abs(want[i]))
	}
	return d / m
}
