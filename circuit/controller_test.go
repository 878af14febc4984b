package circuit

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestControllerIntegralLeak checks the controller's integral leak β
// against the closed forms of its recursion (docs/online.md): with no
// error and α = 0 the integral decays as (1 − dt·β)^k, the proportional
// part contributing nothing; under a constant error it settles where
// e − α·u − β·u_int = 0, i.e. u_int = e·(1 − α·k_p)/(α + β); and with
// β = 0 it is the published controller bit for bit.
func TestControllerIntegralLeak(t *testing.T) {
	const dt, kp = 0.001, 2.0
	for _, tc := range []struct {
		name        string
		alpha, beta float64
	}{
		{"integral leak only", 0, 10},
		{"both leaks", 2, 10},
		{"published", 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// No error: rL equals the target (difference error).
			c := newController(2, 3, dt, tc.alpha, tc.beta, kp, DifferenceError)
			y := mat.NewDense(2, 3, []float64{0.1, -0.2, 0.3, 0.5, 0, -0.5})
			c.UInt.Copy(mat.NewDense(2, 3, []float64{1, -2, 3, 0.5, 0, -1}))
			c.U.Copy(c.UInt)
			x0 := c.UInt.At(1, 2)
			const k = 200
			for range k {
				c.Step(y, y)
			}
			if tc.alpha == 0 {
				want := x0 * math.Pow(1-dt*tc.beta, k)
				if got := c.UInt.At(1, 2); math.Abs(got-want) > 1e-12 {
					t.Errorf("without error the integral is %.15g after %d steps, want %.15g", got, k, want)
				}
				if c.U.At(1, 2) != c.UInt.At(1, 2) {
					t.Errorf("without error u = %g differs from its integral %g", c.U.At(1, 2), c.UInt.At(1, 2))
				}
			}
			// A constant error e = 0.3: the steady state.
			c.Reset()
			tg := mat.DenseCopyOf(y)
			tg.Apply(func(_, _ int, v float64) float64 { return v + 0.3 }, y)
			ref := newController(2, 3, dt, tc.alpha, 0, kp, DifferenceError)
			var ui, u float64 // the published recursion by hand, for β = 0
			for range 40000 {
				c.Step(y, tg)
				ref.Step(y, tg)
				ui += dt * (0.3 - tc.alpha*u)
				u = ui + kp*0.3
			}
			want := 0.3 * (1 - tc.alpha*kp) / (tc.alpha + tc.beta)
			if got := c.UInt.At(0, 1); math.Abs(got-want) > 1e-9 {
				t.Errorf("under a constant error the integral settles at %.12g, want %.12g", got, want)
			}
			if tc.beta == 0 && (c.UInt.At(0, 1) != ui || c.U.At(0, 1) != u || !mat.Equal(c.U, ref.U)) {
				t.Errorf("with β = 0: u = %.17g, want the published recursion's %.17g", c.U.At(0, 1), u)
			}
			if tc.beta != 0 && mat.Equal(c.U, ref.U) {
				t.Error("the integral leak changes nothing")
			}
		})
	}
}
