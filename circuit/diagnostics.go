package circuit

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Diagnostics of how a network's feedback relates to its forward pathway,
// the quantities the Strong-DFC and DFC papers follow during training
// (../shared/docs/strong-dfc.md §9).

// GNAlignment returns the Gauss-Newton alignment of the feedback weights for
// sample b of a feedforward pass: ‖P_J·Q̄‖_F / ‖Q̄‖_F with P_J = Jᵀ(J·Jᵀ)⁻¹J
// the projection onto the row space of the Jacobian J of the output with
// respect to all voltages. It is 1 when every column of Q̄ lies in that row
// space (Q̄ = Jᵀ, the ideal feedback) and 0 when Q̄ is orthogonal to it.
func (n *Network) GNAlignment(p *Pass, b int) (float64, error) {
	return gnAlignment(n.Jacobian(p, b), n.QBar())
}

func gnAlignment(J, Q *mat.Dense) (float64, error) {
	var G, M mat.Dense
	G.Mul(J, J.T()) // n_L × n_L
	M.Mul(J, Q)     // n_L × n_L
	var X mat.Dense
	if err := X.Solve(&G, &M); err != nil {
		return math.NaN(), fmt.Errorf("circuit: GN alignment: J·Jᵀ is singular: %w", err)
	}
	// ‖P_J Q̄‖²_F = trace(Q̄ᵀ P_J Q̄) = Σ (J Q̄) ∘ ((J Jᵀ)⁻¹ J Q̄).
	proj := mat.Sum(elemMul(&M, &X))
	q := mat.Norm(Q, 2)
	if q == 0 {
		return math.NaN(), nil
	}
	return math.Sqrt(math.Max(proj, 0)) / q, nil
}

func elemMul(a, b *mat.Dense) *mat.Dense {
	var c mat.Dense
	c.MulElem(a, b)
	return &c
}

// MeanGNAlignment returns the mean GN alignment over the first k samples of
// a feedforward pass (all when k ≤ 0), skipping samples whose J·Jᵀ is
// singular.
func (n *Network) MeanGNAlignment(p *Pass, k int) float64 {
	rows, _ := p.Output().Dims()
	if k <= 0 || k > rows {
		k = rows
	}
	var sum float64
	var cnt int
	Q := n.QBar()
	for b := range k {
		a, err := gnAlignment(n.Jacobian(p, b), Q)
		if err == nil && !math.IsNaN(a) {
			sum += a
			cnt++
		}
	}
	if cnt == 0 {
		return math.NaN()
	}
	return sum / float64(cnt)
}

// ControlH returns the amount of control H = Σ_b ‖Q̄·u_b‖² / (B·N) for the
// rows u_b of U (batch × n_L), N being the number of controlled neurons.
// Learning drives it down: the forward weights take over what the
// controller had to add.
func (n *Network) ControlH(U *mat.Dense) float64 {
	B, c := U.Dims()
	if c != n.NOut() {
		panic(fmt.Sprintf("circuit: ControlH: u has %d columns, network %d outputs", c, n.NOut()))
	}
	// ‖Q̄u‖² = uᵀ(Σ_i Q_iᵀQ_i)u: a n_L × n_L Gram matrix instead of the
	// B × N voltages.
	G := mat.NewDense(c, c, nil)
	var g mat.Dense
	for _, f := range n.Feedback {
		g.Reset()
		g.Mul(f.Q.T(), f.Q)
		G.Add(G, &g)
	}
	var s float64
	for b := range B {
		u := U.RawRowView(b)
		for i := range c {
			gi := G.RawRowView(i)
			var t float64
			for j := range c {
				t += gi[j] * u[j]
			}
			s += u[i] * t
		}
	}
	return s / float64(B*n.Hidden())
}

// FeedbackRatio returns, for each layer, the batch mean of
// ‖Q_i·u_b‖ / ‖W_i·r_{i−1,b}‖, the size of the feedback input relative to the
// forward input of the current state (a sample whose forward input is zero
// is skipped).
func (c *Circuit) FeedbackRatio() []float64 {
	out := make([]float64, c.net.L())
	for i := range out {
		st := c.st[i]
		bias := c.net.Forward[i].B.RawVector().Data
		var sum float64
		var cnt int
		for b := range c.batch {
			fb, basal := st.Feedback.RawRowView(b), st.Basal.RawRowView(b)
			var nf, nb float64
			for j := range fb {
				nf += fb[j] * fb[j]
				w := basal[j] - bias[j]
				nb += w * w
			}
			if nb > 0 {
				sum += math.Sqrt(nf / nb)
				cnt++
			}
		}
		out[i] = math.NaN()
		if cnt > 0 {
			out[i] = sum / float64(cnt)
		}
	}
	return out
}

// UpdateAngles returns the angle in degrees between the forward-weight
// gradients the circuit's rules produced (GradW of every projection, before
// clipping) and the backprop gradients g, per layer and for the whole
// network (all layers' weights as one vector).
func UpdateAngles(net *Network, g Grads) (perLayer []float64, total float64) {
	var dot, na, nb float64
	for i, f := range net.Forward {
		a, b := f.GradW.RawMatrix().Data, g.W[i].RawMatrix().Data
		perLayer = append(perLayer, Angle(b, a))
		for j := range a {
			dot += a[j] * b[j]
			na += a[j] * a[j]
			nb += b[j] * b[j]
		}
	}
	return perLayer, angleOf(dot, na, nb)
}
