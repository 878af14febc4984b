package compute

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// BenchmarkGemm measures the products of one MNIST time step (batch 128,
// 256-neuron layers, 10-step stacks), through Gemm (tiled on the pool) and
// as one direct blas64.Gemm call.
func BenchmarkGemm(b *testing.B) {
	pool := NewPool(0)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range []struct {
		name    string
		m, n, k int
		tA, tB  blas.Transpose
	}{
		{"basal", 128, 256, 256, blas.NoTrans, blas.Trans},
		{"apical", 128, 256, 10, blas.NoTrans, blas.Trans},
		{"update", 256, 256, 1280, blas.NoTrans, blas.NoTrans},
		{"updateNT", 256, 256, 1280, blas.NoTrans, blas.Trans},
		{"updateTN", 256, 256, 1280, blas.Trans, blas.NoTrans},
		{"first", 128, 256, 784, blas.NoTrans, blas.Trans},
	} {
		ar, ac := s.m, s.k
		if s.tA == blas.Trans {
			ar, ac = s.k, s.m
		}
		br, bc := s.k, s.n
		if s.tB == blas.Trans {
			br, bc = s.n, s.k
		}
		a, bm, c := randGeneral(rng, ar, ac, ac), randGeneral(rng, br, bc, bc), randGeneral(rng, s.m, s.n, s.n)
		for _, direct := range []bool{false, true} {
			name := fmt.Sprintf("%s_%dx%dx%d/tiled", s.name, s.m, s.n, s.k)
			if direct {
				name = fmt.Sprintf("%s_%dx%dx%d/direct", s.name, s.m, s.n, s.k)
			}
			b.Run(name, func(b *testing.B) {
				for range b.N {
					if direct {
						blas64.Gemm(s.tA, s.tB, 1, a, bm, 0, c)
					} else {
						pool.Gemm(s.tA, s.tB, 1, a, bm, 0, c)
					}
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
