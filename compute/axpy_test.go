package compute

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	gonumblas "gonum.org/v1/gonum/blas/gonum"
)

// TestAxpy checks Axpy bit for bit against gonum's Daxpy (the row addition
// event-driven transmission used before), and on amd64, where gonum's Daxpy
// is assembly that multiplies and then adds, its Go loop too: every length
// up to 70 (the vector loop and its tail), offsets that leave the rows
// unaligned, and the values of rounding's edge cases.
func TestAxpy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var ref gonumblas.Implementation
	for n := 0; n <= 70; n++ {
		for _, alpha := range []float64{1, -0.37, 1e-300, 3.0000000000000004} {
			for off := range 3 {
				x := make([]float64, n+off)
				y := make([]float64, n+off+2)
				for i := range x {
					x[i] = rng.NormFloat64() * math.Exp(4*rng.NormFloat64())
				}
				for i := range y {
					y[i] = rng.NormFloat64()
				}
				if n > 3 {
					x[1], y[1] = math.Inf(1), 1
					x[2], y[2] = math.MaxFloat64, math.MaxFloat64
					x[3], y[3] = -0.0, -0.0
				}
				want := append([]float64(nil), y...)
				ref.Daxpy(n, alpha, x[off:], 1, want[off:], 1)
				inGo := append([]float64(nil), y...)
				axpyGo(alpha, x[off:], inGo[off:])
				got := append([]float64(nil), y...)
				Axpy(alpha, x[off:], got[off:])
				for i := range got {
					goDiffers := runtime.GOARCH == "amd64" && math.Float64bits(inGo[i]) != math.Float64bits(want[i])
					if math.Float64bits(got[i]) != math.Float64bits(want[i]) || goDiffers {
						t.Fatalf("n %d, α %g, offset %d, element %d: Axpy %v, Go %v, gonum %v", n, alpha, off, i, got[i], inGo[i], want[i])
					}
				}
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("Axpy with y shorter than x did not panic")
		}
	}()
	Axpy(1, make([]float64, 3), make([]float64, 2))
}

// BenchmarkAxpy is one spike's row addition in the MNIST network's hidden
// layers (256 elements) against gonum's Daxpy.
func BenchmarkAxpy(b *testing.B) {
	x, y := make([]float64, 256), make([]float64, 256)
	for i := range x {
		x[i] = float64(i)
	}
	b.Run("compute", func(b *testing.B) {
		for b.Loop() {
			Axpy(1e-9, x, y)
		}
	})
	b.Run("gonum", func(b *testing.B) {
		var g gonumblas.Implementation
		for b.Loop() {
			g.Daxpy(len(x), 1e-9, x, 1, y, 1)
		}
	})
}
