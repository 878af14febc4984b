package scheduler_test

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/neuron"
	"github.com/strongdfc/strongdfc/scheduler"
	"github.com/strongdfc/strongdfc/synapse"
)

// A scheduler runs windows of a circuit built on its clock: here samples
// come as a stream (the state is never reset) and plasticity is applied
// at every step, while an observer records the control every 100 steps.
func ExampleScheduler_Window() {
	net, _ := circuit.MLP([]int{3, 4, 2}, neuron.Tanh)
	net.Init(rand.New(rand.NewPCG(1, 2)))
	sgd, _ := synapse.NewSGD(synapse.SGDConfig{LR: 0.01}, net.ForwardParams())
	clock, _ := scheduler.NewClock(0.001)
	c, err := circuit.New(net, clock, 1, circuit.Config{
		Params:   circuit.Params{TauV: 0.01, Alpha: 1e-3, KP: 2, Error: circuit.SoftmaxError, Target: circuit.LabelTarget},
		Learning: []circuit.Learning{{Rule: circuit.ContinuousForward{}, Optimizer: sgd}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, _ := scheduler.New(scheduler.Config{Steps: 301, ApplyEvery: 1, Stream: true}, clock)
	s.Observe(100, func(k int, clk *scheduler.Clock) {
		if k > 0 {
			u := c.Controller().U
			fmt.Printf("t = %.1f: u = [%+.3f %+.3f]\n", clk.Time(), u.At(0, 0), u.At(0, 1))
		}
	})
	samples := []*mat.Dense{mat.NewDense(1, 3, []float64{0.5, -1, 0.2}), mat.NewDense(1, 3, []float64{-0.3, 0.8, 0.1})}
	for i, x := range samples {
		if err := s.Window(c, x, circuit.SoftTargets([]int{i}, 2, 0.9)); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Printf("%d steps, %d updates\n", clock.Step(), sgd.T)
	// Output:
	// t = 0.1: u = [+0.139 -0.139]
	// t = 0.2: u = [+0.036 -0.036]
	// t = 0.3: u = [+0.011 -0.011]
	// t = 0.4: u = [-0.120 +0.120]
	// t = 0.5: u = [-0.031 +0.031]
	// t = 0.6: u = [-0.009 +0.009]
	// 600 steps, 600 updates
}
