package circuit

import (
	"github.com/strongdfc/strongdfc/neuron"
	"github.com/strongdfc/strongdfc/scheduler"
	"github.com/strongdfc/strongdfc/synapse"
)

// spec is the flat description of a circuit that these tests build: the
// dynamics, dt, and the published rules switched on or off.
type spec struct {
	Params
	DT                          float64
	LearnForward, LearnFeedback bool
	// Forward is the forward rule (nil: ContinuousForward with StackDepth).
	Forward Rule
	// The feedback rule's constants.
	TauF         float64
	LayerScaling bool
	ClipNorm     float64
	StackDepth   int
}

// build makes the circuit of s on a new clock; fwd and fb are the
// optimizers of the forward and feedback rules (nil when off).
func build(net *Network, s spec, batch int, noise neuron.NoiseSource, fwd, fb synapse.Optimizer) (*Circuit, error) {
	clk, err := scheduler.NewClock(s.DT)
	if err != nil {
		return nil, err
	}
	cfg := Config{Params: s.Params, Noise: noise}
	if s.LearnForward {
		r := s.Forward
		if r == nil {
			r = ContinuousForward{Depth: s.StackDepth}
		}
		cfg.Learning = append(cfg.Learning, Learning{Rule: r, Optimizer: fwd, ClipNorm: s.ClipNorm})
	}
	if s.LearnFeedback {
		r := FeedbackRule{TauF: s.TauF, LayerScaling: s.LayerScaling, Depth: s.StackDepth}
		cfg.Learning = append(cfg.Learning, Learning{Rule: r, Optimizer: fb, ClipNorm: s.ClipNorm})
	}
	return New(net, clk, batch, cfg)
}

// feedbackOf returns the circuit's bound feedback rule (nil if none).
func feedbackOf(c *Circuit) *feedbackLearner {
	for _, l := range c.Learners() {
		if f, ok := l.(*feedbackLearner); ok {
			return f
		}
	}
	return nil
}
