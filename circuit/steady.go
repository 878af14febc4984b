package circuit

import (
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// Jacobian returns the Jacobian of the output rates with respect to the
// voltages of all layers for sample b of a feedforward pass:
// J = [J_1 … J_L] (n_L × N, N = all neurons above the input), with
// J_L = diag(φ_L'(v_L)) and J_i = J_{i+1}·W_{i+1}·diag(φ_i'(v_i)).
func (n *Network) Jacobian(p *Pass, b int) *mat.Dense {
	L := n.L()
	nOut := n.NOut()
	J := mat.NewDense(nOut, n.Hidden(), nil)
	offs := n.offsets()
	// Output block.
	for j := range nOut {
		J.Set(j, offs[L-1]+j, n.Acts[L-1].Deriv(p.V[L].At(b, j)))
	}
	for i := L - 1; i >= 1; i-- {
		next := J.Slice(0, nOut, offs[i], offs[i]+n.Sizes[i+1])
		blk := J.Slice(0, nOut, offs[i-1], offs[i-1]+n.Sizes[i]).(*mat.Dense)
		blk.Mul(next, n.Forward[i].W)
		for c := range n.Sizes[i] {
			d := n.Acts[i-1].Deriv(p.V[i].At(b, c))
			for r := range nOut {
				blk.Set(r, c, blk.At(r, c)*d)
			}
		}
	}
	return J
}

// offsets returns the column at which each layer's block starts in J (and
// its rows in Q̄).
func (n *Network) offsets() []int {
	offs := make([]int, n.L())
	for i := 1; i < n.L(); i++ {
		offs[i] = offs[i-1] + n.Sizes[i]
	}
	return offs
}

// QBar returns all feedback weights stacked, Q̄ = [Q_1; …; Q_L] (N × n_L).
func (n *Network) QBar() *mat.Dense {
	Q := mat.NewDense(n.Hidden(), n.NOut(), nil)
	offs := n.offsets()
	for i, f := range n.Feedback {
		Q.Slice(offs[i], offs[i]+n.Sizes[i+1], 0, n.NOut()).(*mat.Dense).Copy(f.Q)
	}
	return Q
}

// SetQBar sets every Q_i from the stacked Q̄ (N × n_L).
func (n *Network) SetQBar(Q mat.Matrix) {
	if r, c := Q.Dims(); r != n.Hidden() || c != n.NOut() {
		panic(fmt.Sprintf("circuit: SetQBar: Q̄ is %d×%d, want %d×%d", r, c, n.Hidden(), n.NOut()))
	}
	offs := n.offsets()
	for i, f := range n.Feedback {
		f.Q.Copy(mat.DenseCopyOf(Q).Slice(offs[i], offs[i]+n.Sizes[i+1], 0, n.NOut()))
	}
}

// SteadyState returns the linearised controlled steady state of sample b
// of a feedforward pass: u_ss = (J·Q̄ + α·I)⁻¹·δ_L, where δ_L (n_L) is the
// output error the controller sees, and Δv = Q̄·u_ss, the voltage change of
// every neuron (N, layers stacked). It returns an error when J·Q̄ + α·I is
// singular.
func (n *Network) SteadyState(p *Pass, b int, deltaL []float64, alpha float64) (u, dv []float64, err error) {
	if len(deltaL) != n.NOut() {
		panic(fmt.Sprintf("circuit: SteadyState: δ_L has %d entries, want %d", len(deltaL), n.NOut()))
	}
	J := n.Jacobian(p, b)
	Q := n.QBar()
	var A mat.Dense
	A.Mul(J, Q)
	for j := range n.NOut() {
		A.Set(j, j, A.At(j, j)+alpha)
	}
	var us mat.VecDense
	if err := us.SolveVec(&A, mat.NewVecDense(len(deltaL), append([]float64(nil), deltaL...))); err != nil {
		return nil, nil, fmt.Errorf("circuit: steady state: J·Q̄ + αI is singular: %w", err)
	}
	var d mat.VecDense
	d.MulVec(Q, &us)
	return us.RawVector().Data, d.RawVector().Data, nil
}
