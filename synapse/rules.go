package synapse

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/strongdfc/strongdfc/internal/linalg"
	"gonum.org/v1/gonum/mat"
)

// Correlator accumulates Sum += Σ_k A[k]ᵀ·B[k] over time steps k, where A[k]
// (batch × na) and B[k] (batch × nb) are batch-major. It stacks up to depth
// steps and adds them with one matrix product whose inner dimension is
// depth·batch, which runs several times faster than depth products of
// inner dimension batch. Both are stacked neuron-major (Aᵀ is na ×
// depth·batch, one column per sample of a stacked step), so that the
// product Sum += Aᵀ·(Bᵀ)ᵀ is one of long dot products, the form gonum's
// pure-Go kernel runs fastest (docs/performance.md). The correlator can
// also keep the sum of A over steps and samples, which a bias needs.
type Correlator struct {
	na, nb, maxBatch, depth int
	ld                      int       // row stride of the buffers, depth·maxBatch
	aT, bT                  []float64 // na × ld and nb × ld
	sum                     *mat.Dense
	aSum                    []float64 // nil when not kept
	batch, filled, terms    int
}

// NewCorrelator returns an empty correlator for batches of up to maxBatch
// rows that stacks depth steps per product. keepSum makes it also sum A.
func NewCorrelator(na, nb, maxBatch, depth int, keepSum bool) *Correlator {
	if na <= 0 || nb <= 0 || maxBatch <= 0 || depth <= 0 {
		panic(fmt.Sprintf("synapse: NewCorrelator(%d, %d, %d, %d): sizes must be positive", na, nb, maxBatch, depth))
	}
	ld := depth * maxBatch
	c := &Correlator{
		na: na, nb: nb, maxBatch: maxBatch, depth: depth, ld: ld,
		aT: make([]float64, na*ld), bT: make([]float64, nb*ld),
		sum: mat.NewDense(na, nb, nil), batch: maxBatch,
	}
	if keepSum {
		c.aSum = make([]float64, na)
	}
	return c
}

// SetBatch sets the number of rows of the next steps' A and B. Steps
// already stacked are added to the sum first.
func (c *Correlator) SetBatch(batch int) {
	if batch <= 0 || batch > c.maxBatch {
		panic(fmt.Sprintf("synapse: Correlator batch %d out of range 1..%d", batch, c.maxBatch))
	}
	c.Flush()
	c.batch = batch
}

// Batch returns the current number of rows per step.
func (c *Correlator) Batch() int { return c.batch }

// Slot says where one step's values of a batch go: the value of sample i,
// unit j belongs at Data[i*RowStride + j*ColStride], added to what is there
// when Add is set. (It has the layout of neuron.Strided, to which it
// converts.)
type Slot struct {
	Data                 []float64
	RowStride, ColStride int
	Add                  bool
}

// SlotA returns where the next step's A goes.
func (c *Correlator) SlotA() Slot {
	return Slot{Data: c.aT[c.filled*c.batch:], RowStride: 1, ColStride: c.ld}
}

// SlotB returns where the next step's B goes.
func (c *Correlator) SlotB() Slot {
	return Slot{Data: c.bT[c.filled*c.batch:], RowStride: 1, ColStride: c.ld}
}

// SetA writes a (batch × na) as the next step's A.
func (c *Correlator) SetA(a *mat.Dense) { c.transposeIn(c.aT, c.na, a) }

// SetB writes b (batch × nb) as the next step's B.
func (c *Correlator) SetB(b *mat.Dense) { c.transposeIn(c.bT, c.nb, b) }

func (c *Correlator) transposeIn(dst []float64, n int, m *mat.Dense) {
	raw := m.RawMatrix()
	if raw.Rows != c.batch || raw.Cols != n {
		panic(fmt.Sprintf("synapse: Correlator: got %d×%d, want %d×%d", raw.Rows, raw.Cols, c.batch, n))
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
	a := blas64.General{Rows: c.na, Cols: cols, Stride: c.ld, Data: c.aT}
	b := blas64.General{Rows: c.nb, Cols: cols, Stride: c.ld, Data: c.bT}
	linalg.Gemm(blas.NoTrans, blas.Trans, 1, a, b, 1, c.sum.RawMatrix())
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

func addColSums(dst []float64, a blas64.General) {
	for i := range a.Rows {
		row := a.Data[i*a.Stride : i*a.Stride+a.Cols]
		for j, x := range row {
			dst[j] += x
		}
	}
}

// ForwardRule is the plasticity of a forward projection: it accumulates
// Σ_k δ[k]ᵀ·r_pre[k], where δ = φ(v) − φ(v_ff) is the postsynaptic
// somatic-minus-basal rate difference, and at the end of a window sets the
// projection's gradient
//
//	∇W = −(2/(B·T)) Σ_k δ[k]ᵀ r_pre[k],   ∇b = −(2/(B·T)) Σ_k Σ_batch δ[k],
//
// T being the number of steps accumulated (the factor 2 and the sign are the
// published convention, which the published learning rates assume).
//
// When the presynaptic rate is constant over the window (the input layer,
// r_0 = x), the rule sums δ alone and needs one product per window.
type ForwardRule struct {
	out, in  int
	constPre bool
	corr     *Correlator // time-varying presynaptic rates
	// constant presynaptic rates:
	dsum   *mat.Dense // Σ_k δ[k] for the current pre
	dsumV  *mat.Dense // dsum's view for the current batch
	pre    *mat.Dense
	sumW   *mat.Dense // Σ over earlier values of pre
	colSum []float64
	terms  int
}

// NewForwardRule returns a rule for a projection of out × in weights, for
// batches of up to maxBatch samples, stacking depth steps per product.
// constPre declares that the presynaptic rate is constant within a window.
func NewForwardRule(out, in, maxBatch, depth int, constPre bool) *ForwardRule {
	r := &ForwardRule{out: out, in: in, constPre: constPre}
	if constPre {
		r.dsum = mat.NewDense(maxBatch, out, nil)
		r.sumW = mat.NewDense(out, in, nil)
		r.colSum = make([]float64, out)
		r.SetBatch(maxBatch)
	} else {
		r.corr = NewCorrelator(out, in, maxBatch, depth, true)
	}
	return r
}

// SetBatch sets the number of samples of the next steps and empties the
// rule (it is called at the start of a window).
func (r *ForwardRule) SetBatch(batch int) {
	if r.constPre {
		rows, _ := r.dsum.Dims()
		if batch <= 0 || batch > rows {
			panic(fmt.Sprintf("synapse: ForwardRule batch %d out of range 1..%d", batch, rows))
		}
		r.dsumV = r.dsum.Slice(0, batch, 0, r.out).(*mat.Dense)
	} else {
		r.corr.SetBatch(batch)
	}
	r.Reset()
}

// Reset discards what has been accumulated.
func (r *ForwardRule) Reset() {
	r.terms = 0
	if r.constPre {
		r.dsum.Zero()
		r.sumW.Zero()
		clear(r.colSum)
		r.pre = nil
		return
	}
	r.corr.Reset()
}

// DiffSlot returns where the postsynaptic layer writes this step's δ.
func (r *ForwardRule) DiffSlot() Slot {
	if r.constPre {
		raw := r.dsumV.RawMatrix()
		return Slot{Data: raw.Data, RowStride: raw.Stride, ColStride: 1, Add: true}
	}
	return r.corr.SlotA()
}

// PreSlot returns where the presynaptic layer writes this step's rates
// (not for a rule with a constant presynaptic rate).
func (r *ForwardRule) PreSlot() Slot {
	if r.constPre {
		panic("synapse: PreSlot of a rule with a constant presynaptic rate")
	}
	return r.corr.SlotB()
}

// Commit records the step whose δ was written into DiffSlot. For a rule
// with a constant presynaptic rate, pre is that rate; otherwise pre is nil
// and the rates were written into PreSlot.
func (r *ForwardRule) Commit(pre *mat.Dense) {
	r.terms++
	if r.constPre {
		r.pre = pre
		return
	}
	r.corr.Commit()
}

// Push adds one term δ[k]ᵀ·pre[k] given as batch-major matrices (the
// steady-state updates, which take one term per window).
func (r *ForwardRule) Push(delta, pre *mat.Dense) {
	r.terms++
	if r.constPre {
		r.dsumV.Add(r.dsumV, delta)
		r.pre = pre
		return
	}
	r.corr.Push(delta, pre)
}

// CountZero counts a step whose δ is exactly zero (the first step of a
// window that starts at the feedforward state) without any arithmetic.
func (r *ForwardRule) CountZero() { r.terms++ }

// Terms returns the number of steps counted since the last Reset.
func (r *ForwardRule) Terms() int { return r.terms }

// Fold adds what was accumulated with the current constant presynaptic rate
// to the sum, so that the rate may change (a new input in a continuous
// stream). It does nothing for a rule with time-varying presynaptic rates.
func (r *ForwardRule) Fold() {
	if r.constPre {
		r.foldConst()
	}
}

// foldConst adds dsumᵀ·pre to sumW and restarts dsum.
func (r *ForwardRule) foldConst() {
	if r.pre == nil {
		return
	}
	linalg.Gemm(blas.Trans, blas.NoTrans, 1, r.dsumV.RawMatrix(), r.pre.RawMatrix(), 1, r.sumW.RawMatrix())
	addColSums(r.colSum, r.dsumV.RawMatrix())
	r.dsumV.Zero()
}

// Gradient sets f.GradW and f.GradB from what has been accumulated and
// resets the rule. With nothing accumulated the gradients are zero.
func (r *ForwardRule) Gradient(f *Forward) {
	if out, in := f.Dims(); out != r.out || in != r.in {
		panic(fmt.Sprintf("synapse: ForwardRule is %d×%d, projection %d×%d", r.out, r.in, out, in))
	}
	var sum *mat.Dense
	var colSum []float64
	var batch int
	if r.constPre {
		r.foldConst()
		sum, colSum = r.sumW, r.colSum
		batch, _ = r.dsumV.Dims()
	} else {
		sum, colSum = r.corr.Sum(), r.corr.ASum()
		batch = r.corr.Batch()
	}
	if r.terms == 0 {
		f.GradW.Zero()
		f.GradB.Zero()
		r.Reset()
		return
	}
	scale := -2 / (float64(batch) * float64(r.terms))
	f.GradW.Scale(scale, sum)
	gb := f.GradB.RawVector().Data
	for j, x := range colSum {
		gb[j] = scale * x
	}
	r.Reset()
}

// FeedbackRule is the plasticity of a feedback projection: it accumulates
// Σ_k v_fb[k]ᵀ·u_hp[k+1], the correlation of the (noisy) apical voltage with
// the high-passed control one step later, and sets
//
//	∇Q = (s/(B·T)) Σ_k v_fb[k]ᵀ u_hp[k+1],
//
// which the optimizer descends. s is the rule's scale (see FeedbackScale).
// It stacks the narrow u_hp as the correlator's A and v_fb as its B, and
// transposes the sum at the end.
type FeedbackRule struct {
	corr  *Correlator
	scale float64
}

// NewFeedbackRule returns the rule for an n × nOut feedback projection.
func NewFeedbackRule(n, nOut, maxBatch, depth int, scale float64) *FeedbackRule {
	return &FeedbackRule{corr: NewCorrelator(nOut, n, maxBatch, depth, false), scale: scale}
}

// FeedbackScale is the published scale of the feedback rule of a layer:
// 1/max(σ, 0.01)² times the layer scaling factor.
func FeedbackScale(sigma, layerScaling float64) float64 {
	s := math.Max(sigma, 0.01)
	return layerScaling / (s * s)
}

// Scale returns the rule's scale s.
func (r *FeedbackRule) Scale() float64 { return r.scale }

// SetBatch sets the number of samples and empties the rule.
func (r *FeedbackRule) SetBatch(batch int) {
	r.corr.SetBatch(batch)
	r.corr.Reset()
}

// Reset discards what has been accumulated.
func (r *FeedbackRule) Reset() { r.corr.Reset() }

// Begin records v_fb[k], the apical voltage at the start of a window, as
// the first half of the next pair.
func (r *FeedbackRule) Begin(vfb *mat.Dense) { r.corr.SetB(vfb) }

// ApicalSlot returns where the layer writes its new apical voltage, the
// first half of the next pair.
func (r *FeedbackRule) ApicalSlot() Slot { return r.corr.SlotB() }

// Accumulate completes the pair whose apical voltage v_fb[k] was written
// (by Begin or into ApicalSlot) with u_hp[k+1], and adds it.
func (r *FeedbackRule) Accumulate(uhp *mat.Dense) {
	r.corr.SetA(uhp)
	r.corr.Commit()
}

// Terms returns the number of pairs accumulated since the last Reset.
func (r *FeedbackRule) Terms() int { return r.corr.Terms() }

// Gradient sets f.GradQ from what has been accumulated and resets the rule.
func (r *FeedbackRule) Gradient(f *Feedback) {
	sum := r.corr.Sum()
	if t := r.corr.Terms(); t > 0 {
		f.GradQ.Scale(r.scale/(float64(r.corr.Batch())*float64(t)), sum.T())
	} else {
		f.GradQ.Zero()
	}
	r.corr.Reset()
}
