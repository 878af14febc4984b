package synapse

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// Correlator accumulates Sum += Σ_k A[k]ᵀ·B[k] over time steps k, where A[k]
// (batch × na) and B[k] (batch × nb) are batch-major. It stacks up to depth
// steps in a buffer and adds them with one matrix product whose inner
// dimension is depth·batch, which runs several times faster than depth
// products of inner dimension batch. It can also keep the column sums of A
// (the sum over steps and samples), which a bias needs.
type Correlator struct {
	na, nb, maxBatch, depth int
	aBuf, bBuf              []float64
	aSlot, bSlot            []*mat.Dense
	sum                     *mat.Dense
	colSum                  []float64 // nil when not kept
	batch, filled, terms    int
}

// NewCorrelator returns an empty correlator for batches of up to maxBatch
// rows that stacks depth steps per product. keepColSum makes it also sum the
// rows of A.
func NewCorrelator(na, nb, maxBatch, depth int, keepColSum bool) *Correlator {
	if na <= 0 || nb <= 0 || maxBatch <= 0 || depth <= 0 {
		panic(fmt.Sprintf("synapse: NewCorrelator(%d, %d, %d, %d): sizes must be positive", na, nb, maxBatch, depth))
	}
	c := &Correlator{
		na: na, nb: nb, maxBatch: maxBatch, depth: depth,
		aBuf: make([]float64, depth*maxBatch*na),
		bBuf: make([]float64, depth*maxBatch*nb),
		sum:  mat.NewDense(na, nb, nil),
	}
	if keepColSum {
		c.colSum = make([]float64, na)
	}
	c.SetBatch(maxBatch)
	return c
}

// SetBatch sets the number of rows of the next steps' A and B. Steps
// already pushed are added to the sum first.
func (c *Correlator) SetBatch(batch int) {
	if batch <= 0 || batch > c.maxBatch {
		panic(fmt.Sprintf("synapse: Correlator batch %d out of range 1..%d", batch, c.maxBatch))
	}
	if batch == c.batch {
		return
	}
	c.Flush()
	c.batch = batch
	c.aSlot = c.aSlot[:0]
	c.bSlot = c.bSlot[:0]
	for k := range c.depth {
		c.aSlot = append(c.aSlot, mat.NewDense(batch, c.na, c.aBuf[k*batch*c.na:(k+1)*batch*c.na]))
		c.bSlot = append(c.bSlot, mat.NewDense(batch, c.nb, c.bBuf[k*batch*c.nb:(k+1)*batch*c.nb]))
	}
}

// Batch returns the current number of rows per step.
func (c *Correlator) Batch() int { return c.batch }

// Next returns the buffers for the next step's A and B, to be filled by the
// caller before Commit.
func (c *Correlator) Next() (a, b *mat.Dense) { return c.aSlot[c.filled], c.bSlot[c.filled] }

// Commit records the step whose A and B were written into Next's buffers.
func (c *Correlator) Commit() {
	c.filled++
	c.terms++
	if c.filled == c.depth {
		c.Flush()
	}
}

// Push copies a and b into the next step's buffers and commits them.
func (c *Correlator) Push(a, b *mat.Dense) {
	ra, ca := a.Dims()
	rb, cb := b.Dims()
	if ra != c.batch || rb != c.batch || ca != c.na || cb != c.nb {
		panic(fmt.Sprintf("synapse: Correlator.Push: got %d×%d and %d×%d, want %d×%d and %d×%d",
			ra, ca, rb, cb, c.batch, c.na, c.batch, c.nb))
	}
	sa, sb := c.Next()
	sa.Copy(a)
	sb.Copy(b)
	c.Commit()
}

// Flush adds the stacked steps to the sum.
func (c *Correlator) Flush() {
	if c.filled == 0 {
		return
	}
	rows := c.filled * c.batch
	a := blas64.General{Rows: rows, Cols: c.na, Stride: c.na, Data: c.aBuf[:rows*c.na]}
	b := blas64.General{Rows: rows, Cols: c.nb, Stride: c.nb, Data: c.bBuf[:rows*c.nb]}
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, a, b, 1, c.sum.RawMatrix())
	if c.colSum != nil {
		addColSums(c.colSum, a)
	}
	c.filled = 0
}

// Terms returns the number of steps committed since the last Reset.
func (c *Correlator) Terms() int { return c.terms }

// Sum flushes and returns Σ_k A[k]ᵀ·B[k] (na × nb). The result is owned by
// the correlator.
func (c *Correlator) Sum() *mat.Dense {
	c.Flush()
	return c.sum
}

// ColSum flushes and returns the sum of A over steps and rows, or nil when
// not kept.
func (c *Correlator) ColSum() []float64 {
	c.Flush()
	return c.colSum
}

// Reset empties the stack and zeroes the sums.
func (c *Correlator) Reset() {
	c.filled, c.terms = 0, 0
	c.sum.Zero()
	clear(c.colSum)
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

// Slot returns the buffer into which the postsynaptic layer writes this
// step's δ, and whether it must add to it rather than overwrite it.
func (r *ForwardRule) Slot() (diff *mat.Dense, add bool) {
	if r.constPre {
		return r.dsumV, true
	}
	d, _ := r.corr.Next()
	return d, false
}

// Commit records the step whose δ was written into Slot, with presynaptic
// rates pre.
func (r *ForwardRule) Commit(pre *mat.Dense) {
	r.terms++
	if r.constPre {
		r.pre = pre
		return
	}
	_, p := r.corr.Next()
	p.Copy(pre)
	r.corr.Commit()
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
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, r.dsumV.RawMatrix(), r.pre.RawMatrix(), 1, r.sumW.RawMatrix())
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
		sum, colSum = r.corr.Sum(), r.corr.ColSum()
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
type FeedbackRule struct {
	corr  *Correlator
	scale float64
}

// NewFeedbackRule returns the rule for an n × nOut feedback projection.
func NewFeedbackRule(n, nOut, maxBatch, depth int, scale float64) *FeedbackRule {
	return &FeedbackRule{corr: NewCorrelator(n, nOut, maxBatch, depth, false), scale: scale}
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

// Accumulate adds the pair (v_fb[k], u_hp[k+1]).
func (r *FeedbackRule) Accumulate(vfb, uhp *mat.Dense) { r.corr.Push(vfb, uhp) }

// Terms returns the number of pairs accumulated since the last Reset.
func (r *FeedbackRule) Terms() int { return r.corr.Terms() }

// Gradient sets f.GradQ from what has been accumulated and resets the rule.
func (r *FeedbackRule) Gradient(f *Feedback) {
	sum := r.corr.Sum()
	if t := r.corr.Terms(); t > 0 {
		f.GradQ.Scale(r.scale/(float64(r.corr.Batch())*float64(t)), sum)
	} else {
		f.GradQ.Zero()
	}
	r.corr.Reset()
}
