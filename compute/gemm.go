package compute

import (
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// Tile sizes. gonum's kernel works on 64×64 blocks and computes a product
// of fewer than 4 blocks serially, so its tiles are 64×128. OpenBLAS runs
// best on large tiles: 128×128 gave the highest rates for the simulator's
// shapes (docs/performance.md). Tiles depend on the backend, never on the
// number of workers.
var (
	tileRows = 64
	tileCols = 128
)

const (
	// minTiled is the number of multiply-adds below which a product runs as
	// one call.
	minTiled = 1 << 16
)

var backend = "gonum"

// Backend names the BLAS implementation in use: "gonum" (pure Go) or
// "openblas".
func Backend() string { return backend }

// Gemm computes C = alpha·op(A)·op(B) + beta·C on the pool's workers (on
// the caller alone for a nil pool; the tiles, and so the bits, are the
// same).
func (p *Pool) Gemm(tA, tB blas.Transpose, alpha float64, a, b blas64.General, beta float64, c blas64.General) {
	m, n := c.Rows, c.Cols
	k := a.Cols
	if tA != blas.NoTrans {
		k = a.Rows
	}
	if m*n*k < minTiled || (m <= tileRows && n <= tileCols) {
		blas64.Gemm(tA, tB, alpha, a, b, beta, c)
		return
	}
	t := tasks.Get().(*task)
	t.tA, t.tB, t.alpha, t.beta, t.a, t.b, t.c = tA, tB, alpha, beta, a, b, c
	t.rt, t.ct = (m+tileRows-1)/tileRows, (n+tileCols-1)/tileCols
	p.Run(t.rt*t.ct, 1, t)
	t.a, t.b, t.c = blas64.General{}, blas64.General{}, blas64.General{}
	tasks.Put(t)
}

var tasks = sync.Pool{New: func() any { return new(task) }}

type task struct {
	tA, tB      blas.Transpose
	alpha, beta float64
	a, b, c     blas64.General
	rt, ct      int // tiles along rows and columns of C
}

// Range computes tiles [lo, hi) of C.
func (t *task) Range(lo, hi int) {
	for tile := lo; tile < hi; tile++ {
		i0 := (tile / t.ct) * tileRows
		j0 := (tile % t.ct) * tileCols
		i1 := min(i0+tileRows, t.c.Rows)
		j1 := min(j0+tileCols, t.c.Cols)
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
