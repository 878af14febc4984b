package compute

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

func randGeneral(rng *rand.Rand, r, c, stride int) blas64.General {
	g := blas64.General{Rows: r, Cols: c, Stride: stride, Data: make([]float64, (r-1)*stride+c)}
	for i := range g.Data {
		g.Data[i] = rng.NormFloat64()
	}
	return g
}

// naive computes alpha·op(A)·op(B) + beta·C entry by entry.
func naive(tA, tB blas.Transpose, alpha float64, a, b blas64.General, beta float64, c blas64.General) []float64 {
	at := func(g blas64.General, t blas.Transpose, i, j int) float64 {
		if t == blas.NoTrans {
			return g.Data[i*g.Stride+j]
		}
		return g.Data[j*g.Stride+i]
	}
	k := a.Cols
	if tA != blas.NoTrans {
		k = a.Rows
	}
	out := make([]float64, c.Rows*c.Cols)
	for i := range c.Rows {
		for j := range c.Cols {
			var s float64
			for l := range k {
				s += at(a, tA, i, l) * at(b, tB, l, j)
			}
			out[i*c.Cols+j] = alpha*s + beta*c.Data[i*c.Stride+j]
		}
	}
	return out
}

// TestGemm checks tiled products of every transposition and awkward sizes
// and strides against a naive product, and that results do not depend on
// the number of workers (a nil pool, 1, 2 or 3 workers).
func TestGemm(t *testing.T) {
	pools := []*Pool{nil, NewPool(1), NewPool(2), NewPool(3)}
	defer func() {
		for _, p := range pools {
			p.Close()
		}
	}()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range []struct{ m, n, k int }{{128, 256, 256}, {130, 300, 70}, {10, 256, 1280}, {200, 10, 129}, {3, 4, 5}} {
		for _, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for _, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				ar, ac := s.m, s.k
				if tA == blas.Trans {
					ar, ac = s.k, s.m
				}
				br, bc := s.k, s.n
				if tB == blas.Trans {
					br, bc = s.n, s.k
				}
				a := randGeneral(rng, ar, ac, ac+3)
				b := randGeneral(rng, br, bc, bc+1)
				c0 := randGeneral(rng, s.m, s.n, s.n+2)
				want := naive(tA, tB, 0.5, a, b, 2, c0)
				var first []float64
				for procs, pool := range pools {
					c := c0
					c.Data = append([]float64(nil), c0.Data...)
					pool.Gemm(tA, tB, 0.5, a, b, 2, c)
					got := make([]float64, 0, s.m*s.n)
					for i := range s.m {
						got = append(got, c.Data[i*c.Stride:i*c.Stride+s.n]...)
					}
					for i := range got {
						if math.Abs(got[i]-want[i]) > 1e-10*(1+math.Abs(want[i])) {
							t.Fatalf("%v %c%c: entry %d = %g, want %g", s, tA, tB, i, got[i], want[i])
						}
					}
					if first == nil {
						first = got
					}
					for i := range got {
						if math.Float64bits(got[i]) != math.Float64bits(first[i]) {
							t.Fatalf("%v %c%c: pool %d changes entry %d", s, tA, tB, procs, i)
						}
					}
				}
			}
		}
	}
}

func TestGemmAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	a, b, c := randGeneral(rng, 128, 256, 256), randGeneral(rng, 256, 256, 256), randGeneral(rng, 128, 256, 256)
	pool := NewPool(2)
	defer pool.Close()
	pool.Gemm(blas.NoTrans, blas.Trans, 1, a, b, 0, c)
	if n := testing.AllocsPerRun(20, func() { pool.Gemm(blas.NoTrans, blas.Trans, 1, a, b, 0, c) }); n != 0 {
		t.Errorf("tiled Gemm allocates %v times per call", n)
	}
}
