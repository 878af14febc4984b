//go:build amd64 && !openblas && !purego

package compute

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// with512 runs f with the package's kernel in use and its 12×16
// micro-kernel switched on or off.
func with512(on bool, f func()) {
	saved, savedKernel := use512, useKernel
	use512, useKernel = on, true
	defer func() { use512, useKernel = saved, savedKernel }()
	f()
}

// guard is the value around the 12×16 tile in TestKern12x16, which the
// kernel must leave alone.
var guard = math.Float64frombits(0x7ff8dead0000beef)

// TestKern12x16 compares kern12x16 with kern6x8 on its four 6×8 sub-tiles,
// and both with a scalar FMA chain, on random packed micro-panels, for
// several k and alpha, beta (beta = ±0 with NaN in C, which must not be
// read): the bits must be equal, and C outside the tile (guard rows above
// and below, guard columns on both sides, ldc > 16) untouched.
func TestKern12x16(t *testing.T) {
	if !have512 {
		t.Skip("the CPU lacks AVX-512F or AVX-512DQ")
	}
	const (
		ldc = 16 + 5
		off = ldc + 2 // the tile starts on row 1, column 2 of the buffer
	)
	rng := rand.New(rand.NewPCG(5, 6))
	coefs := []struct{ alpha, beta float64 }{
		{1, 0}, {1, math.Copysign(0, -1)}, {-1.5, 0}, {1, 1}, {0.75, 1}, {1, -0.25}, {-2.5, 3}, {1e-3, 1e3},
	}
	for _, k := range []int{1, 2, 3, 4, 5, 7, 8, 64, 255, 256} {
		psA, psB := panelStride(mr, k), panelStride(nr, k)
		a, b := alignedFloats(2*psA), alignedFloats(2*psB)
		for i := range a {
			a[i] = rng.NormFloat64()
		}
		for i := range b {
			b[i] = rng.NormFloat64()
		}
		for _, co := range coefs {
			t.Run(fmt.Sprintf("k=%d/alpha=%g/beta=%g", k, co.alpha, co.beta), func(t *testing.T) {
				c0 := make([]float64, 14*ldc)
				for i := range c0 {
					c0[i] = guard
				}
				for r := range 12 {
					for j := range 16 {
						if co.beta == 0 {
							c0[off+r*ldc+j] = math.NaN()
						} else {
							c0[off+r*ldc+j] = rng.NormFloat64()
						}
					}
				}
				got := append([]float64(nil), c0...)
				kern12x16(k, &a[0], psA, &b[0], psB, &got[off], ldc, co.alpha, co.beta)
				want := append([]float64(nil), c0...)
				for _, s := range []struct{ r, j int }{{0, 0}, {0, nr}, {mr, 0}, {mr, nr}} {
					kern6x8(k, &a[s.r/mr*psA], &b[s.j/nr*psB], &want[off+s.r*ldc+s.j], ldc, co.alpha, co.beta)
				}
				for i := range got {
					r, j := i/ldc-1, i%ldc-2
					inside := r >= 0 && r < 12 && j >= 0 && j < 16
					if !inside {
						if math.Float64bits(got[i]) != math.Float64bits(guard) {
							t.Fatalf("wrote %v outside the tile, at row %d column %d", got[i], r, j)
						}
						continue
					}
					if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
						t.Fatalf("C[%d, %d] = %v (%#x), kern6x8 gives %v (%#x)", r, j, got[i], math.Float64bits(got[i]), want[i], math.Float64bits(want[i]))
					}
					// The same chain of FMAs in Go.
					pa, pb := a[r/mr*psA:], b[j/nr*psB:]
					var ab float64
					for p := range k {
						ab = math.FMA(pa[p*mr+r%mr], pb[p*nr+j%nr], ab)
					}
					x := co.alpha * ab
					if co.beta != 0 {
						x = math.FMA(co.alpha, ab, co.beta*c0[i])
					}
					if math.Float64bits(got[i]) != math.Float64bits(x) {
						t.Fatalf("C[%d, %d] = %v, the FMA chain gives %v", r, j, got[i], x)
					}
				}
			})
		}
	}
}

// TestGemm512 checks that the 12×16 micro-kernel does not change a bit of
// any product: Gemm with use512 on and off, on shapes that are not
// multiples of 12 or 16 (and some that are), every transposition, strides
// wider than the rows, several alpha and beta (beta = 0 with NaN in C), a
// nil pool and pools of 2 and 3 workers; the gaps between C's rows must
// stay as they were.
func TestGemm512(t *testing.T) {
	if !have512 {
		t.Skip("the CPU lacks AVX-512F or AVX-512DQ")
	}
	pools := []*Pool{nil, NewPool(2), NewPool(3)}
	defer func() {
		for _, p := range pools {
			p.Close()
		}
	}()
	rng := rand.New(rand.NewPCG(7, 8))
	shapes := []gemmShape{
		{12, 16, 1}, {13, 17, 5}, {11, 15, 7}, {24, 32, 3}, {25, 33, 257}, {18, 40, 64},
		{35, 47, 100}, {127, 129, 300}, {128, 256, 256}, {130, 300, 70}, {100, 250, 513},
		{256, 256, 1280}, {10, 256, 1280}, {140, 24, 9}, {30, 200, 2},
	}
	off := func(f func()) { with512(false, f) }
	on := func(f func()) { with512(true, f) }
	gemmCases(rng, shapes, func(s gemmShape, tA, tB blas.Transpose, a, b, c0 blas64.General, co gemmCoef) {
		sameBitsCase(t, "with kern12x16", off, on, pools, s, tA, tB, a, b, c0, co)
	})
}

// BenchmarkKern12x16 measures the 12×16 micro-kernel alone on packed
// panels that stay in L1 and L2 (k = kcMax), as BenchmarkKern6x8 does for
// the 6×8 one.
func BenchmarkKern12x16(b *testing.B) {
	if !have512 {
		b.Skip("the CPU lacks AVX-512F or AVX-512DQ")
	}
	benchKernel(b, 2, 2, 4, func(a, p []float64, psA, psB int, c *float64) {
		kern12x16(kcMax, &a[0], psA, &p[0], psB, c, 2*nr, 1, 1)
	})
}

// TestKern24x8 compares kern24x8 with kern6x8 (alpha 1, beta 0) on its
// four 6×8 sub-tiles, bit for bit, for several k, with the four panels of
// A psA apart as packA lays them out, and checks that nothing past the
// 24×8 tile is written.
func TestKern24x8(t *testing.T) {
	if !have512 {
		t.Skip("the CPU lacks AVX-512F or AVX-512DQ")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, k := range []int{1, 2, 3, 4, 5, 7, 8, 10, 64, 255, 256} {
		psA, psB := panelStride(mr, k), panelStride(nr, k)
		a, b := alignedFloats(4*psA), alignedFloats(psB)
		for i := range a {
			a[i] = rng.NormFloat64()
		}
		for i := range b {
			b[i] = rng.NormFloat64()
		}
		got := make([]float64, 24*nr+8)
		for i := range got {
			got[i] = guard
		}
		kern24x8(k, &a[0], psA, &b[0], &got[0])
		var want [mr * nr]float64
		for q := range 4 {
			kern6x8(k, &a[q*psA], &b[0], &want[0], nr, 1, 0)
			for i, w := range want {
				if g := got[q*mr*nr+i]; math.Float64bits(g) != math.Float64bits(w) {
					t.Fatalf("k=%d: T[%d][%d] = %v, kern6x8 gives %v", k, q*mr+i/nr, i%nr, g, w)
				}
			}
		}
		for i, g := range got[24*nr:] {
			if math.Float64bits(g) != math.Float64bits(guard) {
				t.Fatalf("k=%d: kern24x8 wrote %v past the tile (element %d)", k, g, 24*nr+i)
			}
		}
	}
}

// BenchmarkKern24x8 measures the 24×8 micro-kernel alone on packed panels
// that stay in L1 and L2 (k = kcMax), as BenchmarkKern12x16 does.
func BenchmarkKern24x8(b *testing.B) {
	if !have512 {
		b.Skip("the CPU lacks AVX-512F or AVX-512DQ")
	}
	benchKernel(b, 4, 1, 4, func(a, p []float64, psA, psB int, c *float64) {
		kern24x8(kcMax, &a[0], psA, &p[0], c)
	})
}

// TestKern24x8d compares kern24x8d, which reads the 24 rows of A in place,
// with kern24x8 on the same rows packed by packA, bit for bit, for several
// k and row strides, from a row and column offset inside the matrix.
func TestKern24x8d(t *testing.T) {
	if !have512 {
		t.Skip("the CPU lacks AVX-512F or AVX-512DQ")
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for _, k := range []int{1, 3, 4, 5, 8, 10, 64, 196, 256} {
		for _, extra := range []int{0, 1, 7} {
			const r0, p0 = 3, 2
			lda := p0 + k + extra
			a := randGeneral(rng, r0+24+1, lda, lda)
			psA, psB := panelStride(mr, k), panelStride(nr, k)
			packed, b := alignedFloats(4*psA), alignedFloats(psB)
			packA(packed, psA, false, a, r0, r0+24, p0, k)
			for i := range b {
				b[i] = rng.NormFloat64()
			}
			want, got := make([]float64, 24*nr), make([]float64, 24*nr+8)
			for i := range got {
				got[i] = guard
			}
			kern24x8(k, &packed[0], psA, &b[0], &want[0])
			kern24x8d(k, &a.Data[r0*lda+p0], lda, &b[0], &got[0])
			for i, w := range want {
				if math.Float64bits(got[i]) != math.Float64bits(w) {
					t.Fatalf("k=%d lda=%d: T[%d][%d] = %v, kern24x8 gives %v", k, lda, i/nr, i%nr, got[i], w)
				}
			}
			for i, g := range got[24*nr:] {
				if math.Float64bits(g) != math.Float64bits(guard) {
					t.Fatalf("k=%d: kern24x8d wrote %v past the tile (element %d)", k, g, 24*nr+i)
				}
			}
		}
	}
}

// TestCorrelatorLayouts512 is TestCorrelatorLayouts with the 12×16 and
// 24×8 micro-kernels switched off: the 6×8 kernel alone must also give
// both layouts the same bits.
func TestCorrelatorLayouts512(t *testing.T) {
	if !haveKernel {
		t.Skip("this CPU has no AVX2/FMA")
	}
	with512(false, func() {
		for _, c := range layoutCases {
			checkLayouts(t, c)
		}
	})
}
