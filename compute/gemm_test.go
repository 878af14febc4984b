package compute

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
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

// naive computes alpha·op(A)·op(B) + beta·C entry by entry (without
// reading C when beta is zero), row by row without gaps.
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
			out[i*c.Cols+j] = alpha * s
			if beta != 0 {
				out[i*c.Cols+j] += beta * c.Data[i*c.Stride+j]
			}
		}
	}
	return out
}

// implementations returns the implementations Gemm can run in this build
// on this CPU, by the value of useKernel: the package's own kernel (when
// there is one) and blas64.Gemm.
func implementations() []bool {
	if haveKernel {
		return []bool{true, false}
	}
	return []bool{false}
}

// withImpl runs f with Gemm switched to the package's kernel or not.
func withImpl(kernel bool, f func()) {
	saved := useKernel
	useKernel = kernel
	defer func() { useKernel = saved }()
	f()
}

func implName(kernel bool) string {
	if kernel {
		return "kernel"
	}
	return "blas64"
}

// rows returns C's rows without the gaps of its stride.
func rows(c blas64.General) []float64 {
	out := make([]float64, 0, c.Rows*c.Cols)
	for i := range c.Rows {
		out = append(out, c.Data[i*c.Stride:i*c.Stride+c.Cols]...)
	}
	return out
}

// gemmShape is the shape of a product C (m×n) = op(A)·op(B), k the inner
// dimension, and gemmCoef its α and β.
type gemmShape struct{ m, n, k int }
type gemmCoef struct{ alpha, beta float64 }

// gemmCases calls check for every shape, both transpositions of A and B
// and four pairs of α and β, on random operands whose strides are wider
// than their rows and a random C (NaN when β = 0, which must not be
// read); large products get one pair of coefficients per transposition.
func gemmCases(rng *rand.Rand, shapes []gemmShape, check func(s gemmShape, tA, tB blas.Transpose, a, b, c0 blas64.General, co gemmCoef)) {
	coefs := []gemmCoef{{1, 0}, {0.5, 2}, {-1.5, 1}, {1, -0.25}}
	for _, s := range shapes {
		for ta, tA := range []blas.Transpose{blas.NoTrans, blas.Trans} {
			for tb, tB := range []blas.Transpose{blas.NoTrans, blas.Trans} {
				ar, ac := s.m, s.k
				if tA == blas.Trans {
					ar, ac = s.k, s.m
				}
				br, bc := s.k, s.n
				if tB == blas.Trans {
					br, bc = s.n, s.k
				}
				a := randGeneral(rng, ar, ac, ac+rng.IntN(4))
				b := randGeneral(rng, br, bc, bc+rng.IntN(4))
				random := randGeneral(rng, s.m, s.n, s.n+1+rng.IntN(4))
				for ci, co := range coefs {
					if s.m*s.n*s.k > 1<<20 && ci != 2*ta+tb {
						continue // large products: one pair of coefficients per transposition
					}
					// Each pair gets its own copy of C: the NaN written
					// for beta = 0 must not reach the pairs that read C.
					c0 := random
					c0.Data = append([]float64(nil), random.Data...)
					if co.beta == 0 {
						for i := range c0.Rows {
							for j := range c0.Cols {
								c0.Data[i*c0.Stride+j] = math.NaN()
							}
						}
					}
					check(s, tA, tB, a, b, c0, co)
				}
			}
		}
	}
}

// sameBitsCase checks, for one case of gemmCases, that Gemm run inside
// with(…) on each of pools gives the bits of Gemm run inside ref(…) on
// no pool; what names the variant in the message.
func sameBitsCase(t *testing.T, what string, ref, with func(func()), pools []*Pool, s gemmShape, tA, tB blas.Transpose, a, b, c0 blas64.General, co gemmCoef) {
	t.Helper()
	run := func(in func(func()), p *Pool) blas64.General {
		c := c0
		c.Data = append([]float64(nil), c0.Data...)
		in(func() { p.Gemm(tA, tB, co.alpha, a, b, co.beta, c) })
		return c
	}
	want := run(ref, nil)
	for procs, p := range pools {
		got := run(with, p)
		for i := range got.Data {
			if math.Float64bits(got.Data[i]) != math.Float64bits(want.Data[i]) {
				t.Fatalf("%dx%dx%d %c%c alpha %g beta %g pool %d: C.Data[%d] = %v %s, %v without",
					s.m, s.n, s.k, tA, tB, co.alpha, co.beta, procs, i, got.Data[i], what, want.Data[i])
			}
		}
	}
}

// TestGemm checks products of every transposition, awkward sizes, strides
// wider than the rows and several alpha and beta (beta = 0 with NaN in C)
// against a naive product, for each implementation; that the gaps between
// C's rows are left alone; and that results do not depend on the number
// of workers (a nil pool, 1, 2 or 3 workers), bit for bit.
func TestGemm(t *testing.T) {
	pools := []*Pool{nil, NewPool(1), NewPool(2), NewPool(3)}
	defer func() {
		for _, p := range pools {
			p.Close()
		}
	}()
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := []gemmShape{
		{1, 1, 1}, {3, 7, 5}, {7, 3, 1}, {6, 8, 4}, {1, 300, 70}, {300, 1, 70}, {2, 2, 600},
		{63, 65, 7}, {65, 63, 129}, {129, 130, 3}, {130, 129, 257}, {7, 9, 513},
		{128, 256, 256}, {130, 300, 70}, {10, 256, 1280}, {200, 10, 129}, {64, 128, 300}, {3, 4, 5},
	}
	gemmCases(rng, shapes, func(s gemmShape, tA, tB blas.Transpose, a, b, c0 blas64.General, co gemmCoef) {
		want := naive(tA, tB, co.alpha, a, b, co.beta, c0)
		for _, kernel := range implementations() {
			var first []float64
			for procs, pool := range pools {
				c := c0
				c.Data = append([]float64(nil), c0.Data...)
				withImpl(kernel, func() { pool.Gemm(tA, tB, co.alpha, a, b, co.beta, c) })
				what := fmt.Sprintf("%s %dx%dx%d %c%c alpha %g beta %g pool %d", implName(kernel), s.m, s.n, s.k, tA, tB, co.alpha, co.beta, procs)
				for i := range c.Data {
					if i%c.Stride >= c.Cols && c.Data[i] != c0.Data[i] {
						t.Fatalf("%s: wrote %g to the gap at %d", what, c.Data[i], i)
					}
				}
				got := rows(c)
				for i := range got {
					if math.Abs(got[i]-want[i]) > 1e-10*(1+math.Abs(want[i])) {
						t.Fatalf("%s: entry %d = %g, want %g", what, i, got[i], want[i])
					}
				}
				if first == nil {
					first = got
				}
				for i := range got {
					if math.Float64bits(got[i]) != math.Float64bits(first[i]) {
						t.Fatalf("%s: entry %d = %v, with a nil pool %v", what, i, got[i], first[i])
					}
				}
			}
		}
	})
}

// TestGemmMatchesBLAS compares the package's kernel with blas64.Gemm on the
// simulator's shapes and a few others: the normwise relative difference
// must be at rounding level.
func TestGemmMatchesBLAS(t *testing.T) {
	if !haveKernel {
		t.Skip("no kernel of our own in this build or on this CPU")
	}
	pool := NewPool(2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range []struct {
		m, n, k int
		tA, tB  blas.Transpose
		beta    float64
	}{
		{128, 256, 256, blas.NoTrans, blas.Trans, 0},
		{128, 256, 10, blas.NoTrans, blas.Trans, 0},
		{128, 256, 784, blas.NoTrans, blas.Trans, 0},
		{128, 10, 256, blas.NoTrans, blas.Trans, 0},
		{256, 256, 1280, blas.NoTrans, blas.Trans, 1},
		{10, 256, 1280, blas.NoTrans, blas.Trans, 1},
		{256, 784, 128, blas.Trans, blas.NoTrans, 1},
		{256, 256, 1280, blas.NoTrans, blas.NoTrans, 0.5},
		{97, 301, 1000, blas.Trans, blas.Trans, -1},
	} {
		ar, ac := s.m, s.k
		if s.tA == blas.Trans {
			ar, ac = s.k, s.m
		}
		br, bc := s.k, s.n
		if s.tB == blas.Trans {
			br, bc = s.n, s.k
		}
		a, b := randGeneral(rng, ar, ac, ac), randGeneral(rng, br, bc, bc)
		c := randGeneral(rng, s.m, s.n, s.n)
		ref := c
		ref.Data = append([]float64(nil), c.Data...)
		blas64.Gemm(s.tA, s.tB, 1.25, a, b, s.beta, ref)
		withImpl(true, func() { pool.Gemm(s.tA, s.tB, 1.25, a, b, s.beta, c) })
		var diff, norm float64
		for i := range c.Data {
			diff += (c.Data[i] - ref.Data[i]) * (c.Data[i] - ref.Data[i])
			norm += ref.Data[i] * ref.Data[i]
		}
		if r := math.Sqrt(diff / norm); r > 1e-14 || math.IsNaN(r) {
			t.Errorf("%dx%dx%d %c%c: relative difference %g from blas64.Gemm", s.m, s.n, s.k, s.tA, s.tB, r)
		}
	}
}

// TestGemmDegenerate: alpha = 0 and k = 0 scale C by beta without reading
// A and B (which hold NaN here), beta = 0 then clears NaN from C, and
// empty products do nothing.
func TestGemmDegenerate(t *testing.T) {
	nan := math.NaN()
	for _, kernel := range implementations() {
		for _, s := range []struct {
			m, n, k int
			alpha   float64
		}{{150, 140, 0, 1}, {150, 140, 70, 0}, {3, 4, 0, 2}, {3, 4, 5, 0}} {
			for _, beta := range []float64{0, 3} {
				a := blas64.General{Rows: s.m, Cols: s.k, Stride: max(1, s.k), Data: make([]float64, s.m*s.k)}
				b := blas64.General{Rows: s.k, Cols: s.n, Stride: s.n, Data: make([]float64, s.k*s.n)}
				for i := range a.Data {
					a.Data[i] = nan
				}
				for i := range b.Data {
					b.Data[i] = nan
				}
				c := blas64.General{Rows: s.m, Cols: s.n, Stride: s.n, Data: make([]float64, s.m*s.n)}
				for i := range c.Data {
					c.Data[i] = 2
					if beta == 0 {
						c.Data[i] = nan
					}
				}
				withImpl(kernel, func() { (*Pool)(nil).Gemm(blas.NoTrans, blas.NoTrans, s.alpha, a, b, beta, c) })
				for i, x := range c.Data {
					if want := 2 * beta; x != want {
						t.Fatalf("%s %v beta %g: C[%d] = %g, want %g", implName(kernel), s, beta, i, x, want)
					}
				}
			}
		}
		withImpl(kernel, func() {
			(*Pool)(nil).Gemm(blas.NoTrans, blas.NoTrans, 1, blas64.General{Rows: 0, Cols: 3, Stride: 3},
				blas64.General{Rows: 3, Cols: 2, Stride: 2, Data: make([]float64, 6)}, 0, blas64.General{Rows: 0, Cols: 2, Stride: 2})
		})
	}
}

// TestGemmPanics: operands that do not fit panic with a message that
// names the problem.
func TestGemmPanics(t *testing.T) {
	g := func(r, c, stride, n int) blas64.General {
		return blas64.General{Rows: r, Cols: c, Stride: stride, Data: make([]float64, n)}
	}
	for _, s := range []struct {
		name    string
		tA, tB  blas.Transpose
		a, b, c blas64.General
		want    string
	}{
		{"inner", blas.NoTrans, blas.NoTrans, g(2, 3, 3, 6), g(4, 5, 5, 20), g(2, 5, 5, 10), "op(A) is 2×3 and op(B) is 4×5, C is 2×5"},
		{"rows of C", blas.Trans, blas.NoTrans, g(2, 3, 3, 6), g(2, 5, 5, 10), g(2, 5, 5, 10), "op(A) is 3×2 and op(B) is 2×5, C is 2×5"},
		{"columns of C", blas.NoTrans, blas.Trans, g(2, 3, 3, 6), g(5, 3, 3, 15), g(2, 4, 4, 8), "op(A) is 2×3 and op(B) is 3×5, C is 2×4"},
		{"stride", blas.NoTrans, blas.NoTrans, g(2, 3, 2, 6), g(3, 5, 5, 15), g(2, 5, 5, 10), "A is 2×3 with stride 2"},
		{"short data", blas.NoTrans, blas.NoTrans, g(2, 3, 3, 6), g(3, 5, 5, 15), g(2, 5, 6, 10), "C is 2×5 with stride 6 but has only 10 values"},
		{"transpose", blas.Transpose('x'), blas.NoTrans, g(2, 3, 3, 6), g(3, 5, 5, 15), g(2, 5, 5, 10), "bad transpose"},
	} {
		func() {
			defer func() {
				r := recover()
				msg, _ := r.(string)
				if !strings.Contains(msg, s.want) {
					t.Errorf("%s: panic %v, want one that says %q", s.name, r, s.want)
				}
			}()
			(*Pool)(nil).Gemm(s.tA, s.tB, 1, s.a, s.b, 0, s.c)
		}()
	}
}

// TestBackend: Backend names the implementation Gemm runs: "go-avx512"
// where the kernel's AVX-512 micro-kernel runs, "go-avx2" where only the
// AVX2 one does.
func TestBackend(t *testing.T) {
	switch b := Backend(); {
	case useKernel != haveKernel:
		t.Errorf("useKernel = %v, but the kernel can run: %v", useKernel, haveKernel)
	case have512 && b != "go-avx512":
		t.Errorf("Backend() = %q with the AVX-512 kernel in use", b)
	case haveKernel && !have512 && b != "go-avx2":
		t.Errorf("Backend() = %q with the kernel in use", b)
	case !haveKernel && b != "gonum" && b != "openblas":
		t.Errorf("Backend() = %q without the kernel", b)
	}
}

func TestGemmAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	a, b, c := randGeneral(rng, 128, 256, 256), randGeneral(rng, 256, 256, 256), randGeneral(rng, 128, 256, 256)
	small := randGeneral(rng, 10, 10, 10)
	pool := NewPool(2)
	defer pool.Close()
	for _, kernel := range implementations() {
		withImpl(kernel, func() {
			pool.Gemm(blas.NoTrans, blas.Trans, 1, a, b, 0, c)
			if n := testing.AllocsPerRun(20, func() { pool.Gemm(blas.NoTrans, blas.Trans, 1, a, b, 0, c) }); n != 0 {
				t.Errorf("%s: tiled Gemm allocates %v times per call", implName(kernel), n)
			}
			if n := testing.AllocsPerRun(20, func() { pool.Gemm(blas.Trans, blas.NoTrans, 1, small, small, 1, small) }); n != 0 {
				t.Errorf("%s: small Gemm allocates %v times per call", implName(kernel), n)
			}
		})
	}
}

// TestSetBackend switches to every backend the build lists and back: each
// reports its name and computes a product that agrees with blas64.Gemm; an
// unknown name is refused with the list.
func TestSetBackend(t *testing.T) {
	saved := Backend()
	defer func() {
		if err := SetBackend(saved); err != nil {
			t.Fatal(err)
		}
	}()
	list := Backends()
	if len(list) == 0 || list[0] != saved {
		t.Fatalf("Backends() = %v, want the default %q first", list, saved)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	a, b := randGeneral(rng, 37, 70, 70), randGeneral(rng, 70, 41, 41)
	want := randGeneral(rng, 37, 41, 41)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, a, b, 0, want)
	for _, name := range list {
		if err := SetBackend(name); err != nil {
			t.Fatalf("SetBackend(%q): %v", name, err)
		}
		if got := Backend(); got != name {
			t.Errorf("after SetBackend(%q) Backend() = %q", name, got)
		}
		c := randGeneral(rng, 37, 41, 41)
		(*Pool)(nil).Gemm(blas.NoTrans, blas.NoTrans, 1, a, b, 0, c)
		for i, x := range rows(c) {
			if w := rows(want)[i]; math.Abs(x-w) > 1e-12*(1+math.Abs(w)) {
				t.Fatalf("%s: element %d is %g, want %g", name, i, x, w)
			}
		}
	}
	err := SetBackend("no-such-kernel")
	if err == nil || !strings.Contains(err.Error(), list[0]) {
		t.Errorf("SetBackend of an unknown name: %v, want an error that lists %v", err, list)
	}
	if Backend() != list[len(list)-1] {
		t.Errorf("a refused SetBackend changed the backend to %q", Backend())
	}
}
