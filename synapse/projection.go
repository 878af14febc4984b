package synapse

import (
	"fmt"

	"gonum.org/v1/gonum/blas"

	"github.com/strongdfc/strongdfc/compute"
	"gonum.org/v1/gonum/mat"
)

// Param is one learnable array with its gradient, both views of contiguous
// storage. Optimizers and clipping work on Params.
type Param struct {
	Name  string
	Value []float64
	Grad  []float64
}

// Forward is a forward projection from a layer of In neurons to one of Out
// neurons: the basal input is v_ff = r·Wᵀ + b.
type Forward struct {
	// W is Out × In, B has Out entries.
	W *mat.Dense
	B *mat.VecDense
	// GradW and GradB are the gradients to be descended, shaped like W and B.
	GradW *mat.Dense
	GradB *mat.VecDense
}

// NewForward returns a projection with zero weights, bias and gradients.
func NewForward(out, in int) *Forward {
	if out <= 0 || in <= 0 {
		panic(fmt.Sprintf("synapse: NewForward(%d, %d): sizes must be positive", out, in))
	}
	return &Forward{
		W: mat.NewDense(out, in, nil), B: mat.NewVecDense(out, nil),
		GradW: mat.NewDense(out, in, nil), GradB: mat.NewVecDense(out, nil),
	}
}

// Dims returns the number of postsynaptic and presynaptic neurons.
func (f *Forward) Dims() (out, in int) { return f.W.Dims() }

// Drive sets dst = pre·Wᵀ + b, the basal voltage of a batch whose
// presynaptic rates are the rows of pre, computing on pool.
func (f *Forward) Drive(pool *compute.Pool, dst, pre *mat.Dense) {
	out, in := f.W.Dims()
	b, c := pre.Dims()
	if c != in {
		panic(fmt.Sprintf("synapse: Forward.Drive: pre has %d columns, W has %d", c, in))
	}
	if r, c := dst.Dims(); r != b || c != out {
		panic(fmt.Sprintf("synapse: Forward.Drive: dst is %d×%d, want %d×%d", r, c, b, out))
	}
	pool.Gemm(blas.NoTrans, blas.Trans, 1, pre.RawMatrix(), f.W.RawMatrix(), 0, dst.RawMatrix())
	AddRow(dst, f.B.RawVector().Data)
}

// Params returns W and b as learnable parameters.
func (f *Forward) Params(prefix string) []Param {
	return []Param{
		{Name: prefix + "W", Value: f.W.RawMatrix().Data, Grad: f.GradW.RawMatrix().Data},
		{Name: prefix + "b", Value: f.B.RawVector().Data, Grad: f.GradB.RawVector().Data},
	}
}

// Feedback is a feedback projection from the controller's n_L outputs to a
// layer's apical compartments: the apical drive is u·Qᵀ.
type Feedback struct {
	// Q is n × n_L; GradQ is its gradient.
	Q, GradQ *mat.Dense
}

// NewFeedback returns a projection with zero weights.
func NewFeedback(n, nOut int) *Feedback {
	if n <= 0 || nOut <= 0 {
		panic(fmt.Sprintf("synapse: NewFeedback(%d, %d): sizes must be positive", n, nOut))
	}
	return &Feedback{Q: mat.NewDense(n, nOut, nil), GradQ: mat.NewDense(n, nOut, nil)}
}

// Drive sets dst = u·Qᵀ, computing on pool.
func (f *Feedback) Drive(pool *compute.Pool, dst, u *mat.Dense) {
	n, nOut := f.Q.Dims()
	b, c := u.Dims()
	if c != nOut {
		panic(fmt.Sprintf("synapse: Feedback.Drive: u has %d columns, Q has %d", c, nOut))
	}
	if r, c := dst.Dims(); r != b || c != n {
		panic(fmt.Sprintf("synapse: Feedback.Drive: dst is %d×%d, want %d×%d", r, c, b, n))
	}
	pool.Gemm(blas.NoTrans, blas.Trans, 1, u.RawMatrix(), f.Q.RawMatrix(), 0, dst.RawMatrix())
}

// Params returns Q as a learnable parameter.
func (f *Feedback) Params(prefix string) []Param {
	return []Param{{Name: prefix + "Q", Value: f.Q.RawMatrix().Data, Grad: f.GradQ.RawMatrix().Data}}
}

// AddRow adds v to every row of m.
func AddRow(m *mat.Dense, v []float64) {
	raw := m.RawMatrix()
	if raw.Cols != len(v) {
		panic(fmt.Sprintf("synapse: AddRow: matrix has %d columns, vector %d entries", raw.Cols, len(v)))
	}
	for i := range raw.Rows {
		row := raw.Data[i*raw.Stride : i*raw.Stride+raw.Cols]
		for j, x := range v {
			row[j] += x
		}
	}
}
