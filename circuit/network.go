package circuit

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/neuron"
	"github.com/strongdfc/strongdfc/synapse"
)

// Network is a layered network's architecture and weights. Layer i (1..L)
// has Sizes[i] neurons with activation Acts[i-1], forward projection
// Forward[i-1] from layer i-1 (layer 0 is the input) and feedback projection
// Feedback[i-1] from the controller's Sizes[L] outputs.
type Network struct {
	Sizes    []int
	Acts     []neuron.Activation
	Forward  []*synapse.Forward
	Feedback []*synapse.Feedback
	// Pool runs the products of Feedforward (nil: the calling goroutine).
	// Circuits use their own pool.
	Pool *compute.Pool
}

// NewNetwork returns a network with the given layer sizes (input first) and
// activations (one per layer above the input), with zero weights.
func NewNetwork(sizes []int, acts []neuron.Activation) (*Network, error) {
	if len(sizes) < 2 {
		return nil, fmt.Errorf("circuit: a network needs an input and at least one layer, got sizes %v", sizes)
	}
	if len(acts) != len(sizes)-1 {
		return nil, fmt.Errorf("circuit: %d layer sizes above the input but %d activations", len(sizes)-1, len(acts))
	}
	for i, n := range sizes {
		if n <= 0 {
			return nil, fmt.Errorf("circuit: layer %d has size %d; sizes must be positive", i, n)
		}
	}
	for i, a := range acts {
		if !a.Valid() {
			return nil, fmt.Errorf("circuit: layer %d has an invalid activation", i+1)
		}
	}
	net := &Network{Sizes: append([]int(nil), sizes...), Acts: append([]neuron.Activation(nil), acts...)}
	nOut := sizes[len(sizes)-1]
	for i := 1; i < len(sizes); i++ {
		net.Forward = append(net.Forward, synapse.NewForward(sizes[i], sizes[i-1]))
		net.Feedback = append(net.Feedback, synapse.NewFeedback(sizes[i], nOut))
	}
	return net, nil
}

// MLP returns a network with tanh (or the given hidden activation) hidden
// layers and a linear output layer.
func MLP(sizes []int, hidden neuron.Activation) (*Network, error) {
	acts := make([]neuron.Activation, max(len(sizes)-1, 0))
	for i := range acts {
		acts[i] = hidden
	}
	if len(acts) > 0 {
		acts[len(acts)-1] = neuron.Linear
	}
	return NewNetwork(sizes, acts)
}

// L returns the number of layers above the input.
func (n *Network) L() int { return len(n.Sizes) - 1 }

// NOut returns the number of outputs.
func (n *Network) NOut() int { return n.Sizes[len(n.Sizes)-1] }

// NIn returns the number of inputs.
func (n *Network) NIn() int { return n.Sizes[0] }

// Hidden returns the total number of neurons above the input (all
// controlled neurons).
func (n *Network) Hidden() int {
	s := 0
	for _, x := range n.Sizes[1:] {
		s += x
	}
	return s
}

// Init draws the published initial weights from rng: xavier-normal W_i and
// Q_i, zero biases and Q_L the identity. Draws are taken in the order W_1,
// Q_1, W_2, Q_2, ... (the reference's order).
func (n *Network) Init(rng *rand.Rand) {
	for i := range n.Forward {
		synapse.XavierNormal(n.Forward[i].W, rng)
		n.Forward[i].B.Zero()
		if i == len(n.Forward)-1 {
			synapse.Identity(n.Feedback[i].Q)
		} else {
			synapse.XavierNormal(n.Feedback[i].Q, rng)
		}
	}
}

// ForwardParams returns the forward weights and biases as parameters, layer
// by layer (W_1, b_1, W_2, ...).
func (n *Network) ForwardParams() []synapse.Param {
	var ps []synapse.Param
	for i, f := range n.Forward {
		ps = append(ps, f.Params(fmt.Sprintf("layer%d.", i+1))...)
	}
	return ps
}

// FeedbackParams returns the feedback weights as parameters (Q_1, Q_2, ...).
func (n *Network) FeedbackParams() []synapse.Param {
	var ps []synapse.Param
	for i, f := range n.Feedback {
		ps = append(ps, f.Params(fmt.Sprintf("layer%d.", i+1))...)
	}
	return ps
}

// CopyFrom sets n's weights to those of m, which must have the same
// architecture.
func (n *Network) CopyFrom(m *Network) {
	if fmt.Sprint(n.Sizes) != fmt.Sprint(m.Sizes) {
		panic(fmt.Sprintf("circuit: CopyFrom: sizes %v and %v differ", n.Sizes, m.Sizes))
	}
	for i := range n.Forward {
		n.Forward[i].W.Copy(m.Forward[i].W)
		n.Forward[i].B.CopyVec(m.Forward[i].B)
		n.Feedback[i].Q.Copy(m.Feedback[i].Q)
	}
}

// Clone returns a deep copy of the architecture and weights.
func (n *Network) Clone() *Network {
	m, err := NewNetwork(n.Sizes, n.Acts)
	if err != nil {
		panic(err)
	}
	m.CopyFrom(n)
	m.Pool = n.Pool
	return m
}

// Shadow returns a network that shares n's architecture and weights (W,
// b, Q are the same matrices) but has gradient buffers of its own, so
// that several circuits can simulate shares of one minibatch on the same
// weights and accumulate their gradients apart. Its Pool is nil.
func (n *Network) Shadow() *Network {
	m := &Network{Sizes: append([]int(nil), n.Sizes...), Acts: append([]neuron.Activation(nil), n.Acts...)}
	for i := range n.Forward {
		f, q := n.Forward[i], n.Feedback[i]
		out, in := f.Dims()
		m.Forward = append(m.Forward, &synapse.Forward{W: f.W, B: f.B, GradW: mat.NewDense(out, in, nil), GradB: mat.NewVecDense(out, nil)})
		r, c := q.Q.Dims()
		m.Feedback = append(m.Feedback, &synapse.Feedback{Q: q.Q, GradQ: mat.NewDense(r, c, nil)})
	}
	return m
}

// Pass holds the voltages and rates of a feedforward pass: V[i] and R[i] for
// layers i = 1..L (index 0 holds the input as R[0]; V[0] is nil).
type Pass struct {
	V, R []*mat.Dense
}

// Output returns the output rates r_L.
func (p *Pass) Output() *mat.Dense { return p.R[len(p.R)-1] }

// Feedforward computes the feedforward pass of the rows of x (batch × n_0):
// v_i = r_{i−1}·W_iᵀ + b_i, r_i = φ_i(v_i). When p is not nil and has the
// right shapes, its matrices are reused.
func (n *Network) Feedforward(p *Pass, x *mat.Dense) *Pass {
	b, c := x.Dims()
	if c != n.NIn() {
		panic(fmt.Sprintf("circuit: Feedforward: input has %d columns, network %d inputs", c, n.NIn()))
	}
	if p == nil || len(p.V) != n.L()+1 || p.V[1].RawMatrix().Rows != b {
		p = &Pass{V: make([]*mat.Dense, n.L()+1), R: make([]*mat.Dense, n.L()+1)}
		for i := 1; i <= n.L(); i++ {
			p.V[i] = mat.NewDense(b, n.Sizes[i], nil)
			p.R[i] = mat.NewDense(b, n.Sizes[i], nil)
		}
	}
	p.R[0] = x
	for i := 1; i <= n.L(); i++ {
		n.Forward[i-1].Drive(n.Pool, p.V[i], p.R[i-1])
		n.Acts[i-1].Apply(p.R[i].RawMatrix().Data, p.V[i].RawMatrix().Data)
	}
	return p
}

// Predict returns the feedforward output for the rows of x.
func (n *Network) Predict(x *mat.Dense) *mat.Dense {
	return n.Feedforward(nil, x).Output()
}
