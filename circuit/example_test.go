package circuit_test

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/neuron"
	"github.com/strongdfc/strongdfc/scheduler"
	"github.com/strongdfc/strongdfc/synapse"
)

// A circuit without plasticity: the controller drives the output of a
// 3-4-2 network toward the soft label of class 1.
func Example() {
	net, _ := circuit.MLP([]int{3, 4, 2}, neuron.Tanh)
	net.Init(rand.New(rand.NewPCG(1, 2)))
	clock, _ := scheduler.NewClock(0.001)
	c, err := circuit.New(net, clock, 1, circuit.Config{Params: circuit.Params{
		TauV: 0.01, Alpha: 1e-3, KP: 2, Error: circuit.SoftmaxError, Target: circuit.LabelTarget,
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	x := mat.NewDense(1, 3, []float64{0.5, -1, 0.2})
	c.Present(x, circuit.SoftTargets([]int{1}, 2, 0.9), true)
	show := func(when string) {
		p := mat.NewDense(1, 2, nil)
		circuit.Softmax(p, c.Output())
		fmt.Printf("%s: softmax(r_L) = [%.3f %.3f]\n", when, p.At(0, 0), p.At(0, 1))
	}
	show("feedforward")
	for range 20000 {
		c.Step()
	}
	show("after 20 time units")
	// Output:
	// feedforward: softmax(r_L) = [0.609 0.391]
	// after 20 time units: softmax(r_L) = [0.112 0.888]
}

// The published forward rule with plain SGD: three windows on one sample
// move the network's own (feedforward) output toward the label.
func ExampleContinuousForward() {
	net, _ := circuit.MLP([]int{3, 4, 2}, neuron.Tanh)
	net.Init(rand.New(rand.NewPCG(1, 2)))
	sgd, _ := synapse.NewSGD(synapse.SGDConfig{LR: 0.5}, net.ForwardParams())
	clock, _ := scheduler.NewClock(0.001)
	c, err := circuit.New(net, clock, 1, circuit.Config{
		Params:   circuit.Params{TauV: 0.01, Alpha: 1e-3, KP: 2, Error: circuit.SoftmaxError, Target: circuit.LabelTarget},
		Learning: []circuit.Learning{{Rule: circuit.ContinuousForward{}, Optimizer: sgd}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	x := mat.NewDense(1, 3, []float64{0.5, -1, 0.2})
	target := circuit.SoftTargets([]int{1}, 2, 0.9)
	loss := func() float64 { return circuit.CrossEntropy{}.Value(net.Predict(x), target) }
	fmt.Printf("loss before: %.4f\n", loss())
	for range 3 {
		c.Present(x, target, true)
		for range 500 {
			c.Step()
		}
		if err := c.Apply(); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Printf("loss after 3 windows: %.4f (forward_layer1 gradient norm %.4f)\n", loss(), c.Norm("forward_layer1"))
	// Output:
	// loss before: 0.8957
	// loss after 3 windows: 0.3251 (forward_layer1 gradient norm 0.0182)
}
