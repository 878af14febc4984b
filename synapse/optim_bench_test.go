package synapse

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkAdamStep: one Adam step over the 335 114 forward parameters of
// the MNIST network (784-256-256-256-10, weights and biases), plain and
// with the running average that feeds the window second moment
// (AdamConfig.Smooth), on the caller's goroutine. Applied at every step
// of a window, this is the optimizer's share of an online step.
func BenchmarkAdamStep(b *testing.B) {
	sizes := []int{784 * 256, 256, 256 * 256, 256, 256 * 256, 256, 256 * 10, 10}
	for _, bc := range []struct {
		name   string
		smooth float64
	}{{"plain", 0}, {"smoothed", 2.0 / 100}} {
		b.Run(bc.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 2))
			var params []Param
			for _, n := range sizes {
				p := Param{Value: make([]float64, n), Grad: make([]float64, n)}
				for i := range p.Grad {
					p.Grad[i] = rng.NormFloat64() * 1e-3
				}
				params = append(params, p)
			}
			a, err := NewAdam(AdamConfig{LR: 3e-6, Beta1: 0.999, Beta2: 0.9999, Eps: 1e-7, Smooth: bc.smooth}, params)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				a.Step()
			}
		})
	}
}
