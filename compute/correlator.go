package compute

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Correlator accumulates Sum += Σ_k A[k]ᵀ·B[k] over time steps k, where A[k]
// (batch × na) and B[k] (batch × nb) are batch-major. It stacks up to depth
// steps and adds them with one matrix product whose inner dimension is
// depth·batch, which runs several times faster than depth products of
// inner dimension batch.
//
// How the steps are stacked depends on the backend when the correlator is
// made. With the package's own kernel and with OpenBLAS they are stacked
// batch-major (A as depth·batch × na, each step's rows one contiguous
// block, and likewise B), so that writing a step is a copy of its rows and
// the product is Sum += Aᵀ·B. With gonum they are stacked neuron-major (Aᵀ
// as na × depth·batch, one column per sample of a stacked step), so that
// the product Sum += Aᵀ·(Bᵀ)ᵀ is one of long dot products, the form gonum's
// pure-Go kernel runs fastest (docs/performance.md). The package's kernel
// packs both layouts into the same micro-panels and gives every element of
// the sum the same chain of FMAs in both, so its bits do not depend on the
// layout (TestCorrelatorLayouts); OpenBLAS's may. The correlator can also
// keep the sum of A over steps and samples, which a bias needs.
type Correlator struct {
	pool                    *Pool
	na, nb, maxBatch, depth int
	rowMajor                bool      // stacked batch-major
	ld                      int       // neuron-major: row stride of the buffers, depth·maxBatch
	aT, bT                  []float64 // na·depth·maxBatch and nb·depth·maxBatch values
	sum                     *mat.Dense
	aSum, rowSum            []float64 // nil when not kept
	batch, filled, terms    int
}

// NewCorrelator returns an empty correlator for batches of up to maxBatch
// rows that stacks depth steps per product, computed on pool. keepSum
// makes it also sum A. Its layout follows the backend in use now
// (SetBackend).
func NewCorrelator(pool *Pool, na, nb, maxBatch, depth int, keepSum bool) *Correlator {
	return newCorrelator(pool, na, nb, maxBatch, depth, keepSum, backend != "gonum")
}

// newCorrelator is NewCorrelator with the layout given: batch-major when
// rowMajor.
func newCorrelator(pool *Pool, na, nb, maxBatch, depth int, keepSum, rowMajor bool) *Correlator {
	if na <= 0 || nb <= 0 || maxBatch <= 0 || depth <= 0 {
		panic(fmt.Sprintf("compute: NewCorrelator(%d, %d, %d, %d): sizes must be positive", na, nb, maxBatch, depth))
	}
	ld := depth * maxBatch
	c := &Correlator{
		pool: pool, na: na, nb: nb, maxBatch: maxBatch, depth: depth, ld: ld,
		aT: make([]float64, na*ld), bT: make([]float64, nb*ld),
		sum: mat.NewDense(na, nb, nil), batch: maxBatch, rowMajor: rowMajor,
	}
	if keepSum {
		c.aSum = make([]float64, na)
		if rowMajor {
			c.rowSum = make([]float64, na)
		}
	}
	return c
}

// SetBatch sets the number of rows of the next steps' A and B. Steps
// already stacked are added to the sum first.
func (c *Correlator) SetBatch(batch int) {
	if batch <= 0 || batch > c.maxBatch {
		panic(fmt.Sprintf("compute: Correlator batch %d out of range 1..%d", batch, c.maxBatch))
	}
	c.Flush()
	c.batch = batch
}

// Batch returns the current number of rows per step.
func (c *Correlator) Batch() int { return c.batch }

// SlotA returns where the next step's A goes.
func (c *Correlator) SlotA() Strided { return c.slot(c.aT, c.na) }

// SlotB returns where the next step's B goes.
func (c *Correlator) SlotB() Strided { return c.slot(c.bT, c.nb) }

// slot returns where the next step's n values per sample go in buf.
func (c *Correlator) slot(buf []float64, n int) Strided {
	if c.rowMajor {
		return Strided{Data: buf[c.filled*c.batch*n:], RowStride: n, ColStride: 1}
	}
	return Strided{Data: buf[c.filled*c.batch:], RowStride: 1, ColStride: c.ld}
}

// SetA writes a (batch × na) as the next step's A.
func (c *Correlator) SetA(a *mat.Dense) { c.transposeIn(c.aT, c.na, a) }

// SetB writes b (batch × nb) as the next step's B.
func (c *Correlator) SetB(b *mat.Dense) { c.transposeIn(c.bT, c.nb, b) }

func (c *Correlator) transposeIn(dst []float64, n int, m *mat.Dense) {
	raw := m.RawMatrix()
	if raw.Rows != c.batch || raw.Cols != n {
		panic(fmt.Sprintf("compute: Correlator: got %d×%d, want %d×%d", raw.Rows, raw.Cols, c.batch, n))
	}
	if c.rowMajor {
		d := dst[c.filled*c.batch*n:]
		for i := range raw.Rows {
			copy(d[i*n:(i+1)*n], raw.Data[i*raw.Stride:])
		}
		return
	}
	off := c.filled * c.batch
	for i := range raw.Rows {
		d := dst[off+i:]
		for j, x := range raw.Data[i*raw.Stride : i*raw.Stride+n] {
			d[j*c.ld] = x
		}
	}
}

// Commit records the step whose A and B were written.
func (c *Correlator) Commit() {
	c.filled++
	c.terms++
	if c.filled == c.depth {
		c.Flush()
	}
}

// Push writes a and b as the next step and commits them.
func (c *Correlator) Push(a, b *mat.Dense) {
	c.SetA(a)
	c.SetB(b)
	c.Commit()
}

// Flush adds the stacked steps to the sum. A step already half written
// (a rule whose B runs one step ahead of its A) moves to the first slot,
// where the next step will find it.
func (c *Correlator) Flush() {
	if c.filled == 0 {
		return
	}
	cols := c.filled * c.batch
	if c.rowMajor {
		c.flushRows(cols)
		return
	}
	a := blas64.General{Rows: c.na, Cols: cols, Stride: c.ld, Data: c.aT}
	b := blas64.General{Rows: c.nb, Cols: cols, Stride: c.ld, Data: c.bT}
	c.pool.Gemm(blas.NoTrans, blas.Trans, 1, a, b, 1, c.sum.RawMatrix())
	if c.aSum != nil {
		for j := range c.na {
			var s float64
			for _, x := range c.aT[j*c.ld : j*c.ld+cols] {
				s += x
			}
			c.aSum[j] += s
		}
	}
	if c.filled < c.depth {
		carry(c.aT, c.na, c.ld, cols, c.batch)
		carry(c.bT, c.nb, c.ld, cols, c.batch)
	}
	c.filled = 0
}

// flushRows is Flush for batch-major stacks holding rows rows of stacked
// steps.
// The sum of A adds each unit's values in the order of the neuron-major
// layout (over the rows, then into aSum), so its bits do not depend on the
// layout either.
func (c *Correlator) flushRows(rows int) {
	a := blas64.General{Rows: rows, Cols: c.na, Stride: c.na, Data: c.aT}
	b := blas64.General{Rows: rows, Cols: c.nb, Stride: c.nb, Data: c.bT}
	c.pool.Gemm(blas.Trans, blas.NoTrans, 1, a, b, 1, c.sum.RawMatrix())
	if c.aSum != nil {
		s := c.rowSum
		clear(s)
		for r := range rows {
			for j, x := range c.aT[r*c.na : (r+1)*c.na] {
				s[j] += x
			}
		}
		for j, x := range s {
			c.aSum[j] += x
		}
	}
	if c.filled < c.depth {
		copy(c.aT[:c.batch*c.na], c.aT[rows*c.na:(rows+c.batch)*c.na])
		copy(c.bT[:c.batch*c.nb], c.bT[rows*c.nb:(rows+c.batch)*c.nb])
	}
	c.filled = 0
}

// carry moves the block of columns [from, from+n) of each of the rows of a
// neuron-major buffer to the first n columns.
func carry(buf []float64, rows, ld, from, n int) {
	for j := range rows {
		row := buf[j*ld:]
		copy(row[:n], row[from:from+n])
	}
}

// Terms returns the number of steps committed since the last Reset.
func (c *Correlator) Terms() int { return c.terms }

// Sum flushes and returns Σ_k A[k]ᵀ·B[k] (na × nb). The result is owned by
// the correlator.
func (c *Correlator) Sum() *mat.Dense {
	c.Flush()
	return c.sum
}

// ASum flushes and returns the sum of A over steps and rows (na), or nil
// when not kept.
func (c *Correlator) ASum() []float64 {
	c.Flush()
	return c.aSum
}

// Reset empties the stack and zeroes the sums.
func (c *Correlator) Reset() {
	c.filled, c.terms = 0, 0
	c.sum.Zero()
	clear(c.aSum)
}
