package main

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/neuron"
	"github.com/strongdfc/strongdfc/synapse"
	"github.com/strongdfc/strongdfc/train"
)

// TestBackpropStepLearns checks the backprop baseline of the autoencoder on
// a small one of the same shape (tanh, linear bottleneck, tanh, linear):
// repeated steps on one minibatch must cut its reconstruction error to a
// fifth, and the MSE a step returns is the one before the step.
func TestBackpropStepLearns(t *testing.T) {
	net, err := circuit.NewNetwork([]int{8, 6, 3, 6, 8}, []neuron.Activation{neuron.Tanh, neuron.Linear, neuron.Tanh, neuron.Linear})
	if err != nil {
		t.Fatal(err)
	}
	net.Init(rand.New(rand.NewPCG(1, 1)))
	cfg := train.BPMNIST().Forward
	cfg.LR = 0.01
	opt, err := synapse.NewAdam(cfg.AdamConfig(), net.ForwardParams())
	if err != nil {
		t.Fatal(err)
	}
	// Inputs on a 3-dimensional subspace, so the bottleneck can hold them.
	r := rand.New(rand.NewPCG(2, 2))
	z, a := mat.NewDense(16, 3, nil), mat.NewDense(3, 8, nil)
	for _, m := range []*mat.Dense{z, a} {
		d := m.RawMatrix().Data
		for i := range d {
			d[i] = r.NormFloat64()
		}
	}
	x := mat.NewDense(16, 8, nil)
	x.Mul(z, a)
	before := circuit.MSE{}.Value(net.Predict(x), x)
	first := backpropStep(net, opt, x, 1)
	if first != before {
		t.Fatalf("first step returned MSE %g, want the MSE before the step %g", first, before)
	}
	var last float64
	for range 500 {
		last = backpropStep(net, opt, x, 1)
	}
	if !(last < before/5) {
		t.Fatalf("MSE %g after 500 steps, want below a fifth of %g", last, before)
	}
}
