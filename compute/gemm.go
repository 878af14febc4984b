package compute

import (
	"fmt"
	"strings"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// Tile sizes of the BLAS path. gonum's kernel works on 64×64 blocks and
// computes a product of fewer than 4 blocks serially, so its tiles are
// 64×128. OpenBLAS runs best on large tiles: 128×128 gave the highest rates
// for the simulator's shapes (docs/performance.md). The package's own
// kernel has its own tiles (kernelTileRows × kernelTileCols). Tiles depend
// on the implementation, never on the number of workers.
var (
	tileRows = 64
	tileCols = 128
)

const (
	// minTiled is the number of multiply-adds below which a product runs
	// on the caller alone.
	minTiled = 1 << 16
)

// backend is what Backend reports; the files of the package's own kernel
// and of OpenBLAS change it in their init.
var backend = "gonum"

// useKernel says whether Gemm runs the package's own kernel (kernel.go)
// rather than blas64.Gemm. It is set at start-up, where the kernel is
// compiled in and the CPU can run it; tests switch it to compare.
var useKernel = false

// Backend names the matrix-product implementation in use: "go-avx512"
// (the package's own kernel with its AVX-512 micro-kernel, on amd64 CPUs
// with AVX-512F and DQ), "go-avx2" (the package's own AVX2/FMA kernel, on
// amd64 CPUs that have both but not AVX-512), "gonum"
// (gonum's pure-Go BLAS, everywhere else and with the build tag purego) or
// "openblas" (with the build tag openblas).
func Backend() string { return backend }

// SetBackend switches the matrix products to the named implementation, one
// of Backends(); the default is the first of them, the fastest this build
// and CPU allow. "go-avx512" and "go-avx2" give the same bits (the same
// chains of FMAs), "gonum" rounds differently. It is for measuring one
// against another (experiments/bench -backend) and for CPUs where the
// AVX-512 products slow the clock (other assembly, such as the tanh and
// the spike row addition, is not switched); call it before any product
// runs, never while one does.
// A name this build or CPU lacks is an error that lists what it has.
func SetBackend(name string) error {
	for _, b := range Backends() {
		if b == name {
			selectBackend(name)
			backend = name
			return nil
		}
	}
	return fmt.Errorf("compute: no matrix-product backend %q in this build on this CPU; it has %s", name, strings.Join(Backends(), ", "))
}

// Gemm computes C = alpha·op(A)·op(B) + beta·C on the pool's workers (on
// the caller alone for a nil pool; the tiles, and so the bits, are the
// same), with the meaning of blas64.Gemm: op(X) is X or Xᵀ as tX says, and
// when beta is zero C is only written, never read. Gemm panics with a
// message saying which if the shapes of op(A), op(B) and C do not agree or
// a matrix's stride or data cannot hold its shape.
func (p *Pool) Gemm(tA, tB blas.Transpose, alpha float64, a, b blas64.General, beta float64, c blas64.General) {
	m, n, k := gemmDims(tA, tB, a, b, c)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scale(c, beta)
		return
	}
	if !useKernel && (m*n*k < minTiled || (m <= tileRows && n <= tileCols)) {
		blas64.Gemm(tA, tB, alpha, a, b, beta, c)
		return
	}
	tr, tc := tileRows, tileCols
	if useKernel {
		tr, tc = kernelTileRows, kernelTileCols
	}
	t := tasks.Get().(*task)
	t.tA, t.tB, t.alpha, t.beta, t.a, t.b, t.c, t.k = tA, tB, alpha, beta, a, b, c, k
	t.tr, t.tc = tr, tc
	t.rt, t.ct = (m+tr-1)/tr, (n+tc-1)/tc
	if m*n*k < minTiled {
		t.Range(0, t.rt*t.ct) // the same tiles, on the caller
	} else {
		p.Run(t.rt*t.ct, 1, t)
	}
	t.a, t.b, t.c = blas64.General{}, blas64.General{}, blas64.General{}
	tasks.Put(t)
}

// gemmDims checks the operands of Gemm and returns the shape m×n of C and
// the inner dimension k.
func gemmDims(tA, tB blas.Transpose, a, b, c blas64.General) (m, n, k int) {
	trans := func(name string, t blas.Transpose) bool {
		switch t {
		case blas.NoTrans:
			return false
		case blas.Trans, blas.ConjTrans:
			return true
		}
		panic(fmt.Sprintf("compute: Gemm: bad transpose %d for %s", t, name))
	}
	check := func(name string, g blas64.General) {
		if g.Rows < 0 || g.Cols < 0 {
			panic(fmt.Sprintf("compute: Gemm: %s has negative shape %d×%d", name, g.Rows, g.Cols))
		}
		if g.Stride < max(1, g.Cols) {
			panic(fmt.Sprintf("compute: Gemm: %s is %d×%d with stride %d", name, g.Rows, g.Cols, g.Stride))
		}
		if g.Rows > 0 && g.Cols > 0 && len(g.Data) < (g.Rows-1)*g.Stride+g.Cols {
			panic(fmt.Sprintf("compute: Gemm: %s is %d×%d with stride %d but has only %d values", name, g.Rows, g.Cols, g.Stride, len(g.Data)))
		}
	}
	check("A", a)
	check("B", b)
	check("C", c)
	am, ak := a.Rows, a.Cols
	if trans("A", tA) {
		am, ak = ak, am
	}
	bk, bn := b.Rows, b.Cols
	if trans("B", tB) {
		bk, bn = bn, bk
	}
	if ak != bk || am != c.Rows || bn != c.Cols {
		panic(fmt.Sprintf("compute: Gemm: op(A) is %d×%d and op(B) is %d×%d, C is %d×%d", am, ak, bk, bn, c.Rows, c.Cols))
	}
	return c.Rows, c.Cols, ak
}

// scale sets C to beta·C (to zero when beta is zero, even where C holds
// NaN), as a product with alpha = 0 or an empty inner dimension does.
func scale(c blas64.General, beta float64) {
	for i := range c.Rows {
		row := c.Data[i*c.Stride:][:c.Cols]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

var tasks = sync.Pool{New: func() any { return new(task) }}

type task struct {
	tA, tB      blas.Transpose
	alpha, beta float64
	a, b, c     blas64.General
	k           int // inner dimension
	tr, tc      int // tile size
	rt, ct      int // tiles along rows and columns of C
}

// bounds returns the rows [i0, i1) and columns [j0, j1) of C in a tile.
func (t *task) bounds(tile int) (i0, i1, j0, j1 int) {
	i0 = (tile / t.ct) * t.tr
	j0 = (tile % t.ct) * t.tc
	return i0, min(i0+t.tr, t.c.Rows), j0, min(j0+t.tc, t.c.Cols)
}

// Range computes tiles [lo, hi) of C.
func (t *task) Range(lo, hi int) {
	if useKernel {
		t.kernelRange(lo, hi)
		return
	}
	for tile := lo; tile < hi; tile++ {
		i0, i1, j0, j1 := t.bounds(tile)
		a, b, c := t.a, t.b, t.c
		if t.tA == blas.NoTrans {
			a.Data, a.Rows = a.Data[i0*a.Stride:], i1-i0
		} else {
			a.Data, a.Cols = a.Data[i0:], i1-i0
		}
		if t.tB == blas.NoTrans {
			b.Data, b.Cols = b.Data[j0:], j1-j0
		} else {
			b.Data, b.Rows = b.Data[j0*b.Stride:], j1-j0
		}
		c.Data, c.Rows, c.Cols = c.Data[i0*c.Stride+j0:], i1-i0, j1-j0
		blas64.Gemm(t.tA, t.tB, t.alpha, a, b, t.beta, c)
	}
}
