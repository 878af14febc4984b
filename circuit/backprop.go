package circuit

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Grads are gradients of every layer's forward weights and biases.
type Grads struct {
	W []*mat.Dense
	B []*mat.VecDense
}

// NewGrads returns zero gradients shaped like net's forward weights.
func NewGrads(net *Network) Grads {
	var g Grads
	for _, f := range net.Forward {
		out, in := f.Dims()
		g.W = append(g.W, mat.NewDense(out, in, nil))
		g.B = append(g.B, mat.NewVecDense(out, nil))
	}
	return g
}

// Backprop computes, by backpropagation through the feedforward network,
// the gradient of the batch-mean loss of the rows of x against targets with
// respect to every W_i and b_i, writing it into g (see NewGrads). It returns
// the loss.
func (n *Network) Backprop(g Grads, x, targets *mat.Dense, loss Loss) float64 {
	p := n.Feedforward(nil, x)
	out := p.Output()
	value := loss.Value(out, targets)
	b, _ := x.Dims()
	L := n.L()
	// delta = ∂Loss/∂v_i, batch × n_i.
	delta := mat.NewDense(b, n.NOut(), nil)
	loss.Grad(delta, out, targets)
	for i := L; i >= 1; i-- {
		n.layerDeriv(delta, p.V[i], i)
		g.W[i-1].Mul(delta.T(), p.R[i-1])
		sumRows(g.B[i-1].RawVector().Data, delta)
		if i > 1 {
			next := mat.NewDense(b, n.Sizes[i-1], nil)
			next.Mul(delta, n.Forward[i-1].W)
			delta = next
		}
	}
	return value
}

// layerDeriv multiplies d elementwise by φ_i'(v).
func (n *Network) layerDeriv(d, v *mat.Dense, i int) {
	act := n.Acts[i-1]
	dd, vv := d.RawMatrix(), v.RawMatrix()
	for r := range dd.Rows {
		dr := dd.Data[r*dd.Stride : r*dd.Stride+dd.Cols]
		vr := vv.Data[r*vv.Stride : r*vv.Stride+vv.Cols]
		for j := range dr {
			dr[j] *= act.Deriv(vr[j])
		}
	}
}

func sumRows(dst []float64, m *mat.Dense) {
	clear(dst)
	raw := m.RawMatrix()
	for r := range raw.Rows {
		for j, x := range raw.Data[r*raw.Stride : r*raw.Stride+raw.Cols] {
			dst[j] += x
		}
	}
}

// Angle returns the angle in degrees between two arrays seen as vectors,
// as the reference computes it: cos = ⟨a,b⟩/(‖a‖‖b‖), set to 1 when it
// exceeds 1 by less than 1e-5. It is NaN when either array is zero.
func Angle(a, b []float64) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("circuit: Angle of arrays of lengths %d and %d", len(a), len(b)))
	}
	var dot, na, nb float64
	for i := range a {
		dot += a[i] * b[i]
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	return angleOf(dot, na, nb)
}

// angleOf is the angle of two vectors with inner product dot and squared
// norms na and nb.
func angleOf(dot, na, nb float64) float64 {
	c := dot / (math.Sqrt(na) * math.Sqrt(nb))
	if c > 1 && c < 1+1e-5 {
		c = 1
	}
	return math.Acos(c) * 180 / math.Pi
}
