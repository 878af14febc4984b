package train_test

import (
	"math"
	"strings"
	"testing"

	"github.com/strongdfc/strongdfc/presets"
	"github.com/strongdfc/strongdfc/train"
)

func TestPresetsValid(t *testing.T) {
	for _, p := range presets.All() {
		if err := p.Config().Validate(); err != nil {
			t.Errorf("preset %s: %v", p.Name, err)
		}
	}
	if _, err := presets.Lookup("nope"); err == nil || !strings.Contains(err.Error(), "mnist-strong-dfc") {
		t.Errorf("unknown preset: %v", err)
	}
}

// TestConfigValidate: impossible values are refused with a message naming
// the key.
func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*train.Config)
		want string
	}{
		{"zero dt", func(c *train.Config) { c.Dynamics.DT = 0 }, "dynamics.dt"},
		{"negative dt", func(c *train.Config) { c.Dynamics.DT = -1e-3 }, "dynamics.dt"},
		{"dt > tau_v", func(c *train.Config) { c.Dynamics.DT = 0.1 }, "tau_v"},
		{"negative sigma", func(c *train.Config) { c.Dynamics.Sigma = -0.1 }, "sigma"},
		{"NaN alpha", func(c *train.Config) { c.Dynamics.Alpha = math.NaN() }, "alpha"},
		{"tau_noise > tau_f", func(c *train.Config) { c.TauNoise = 0.9 }, "τ_noise"},
		{"batch 0", func(c *train.Config) { c.Batch = 0 }, "batch"},
		{"one step", func(c *train.Config) { c.Dynamics.Steps = 1 }, "steps"},
		{"pretrain dt > tau_v", func(c *train.Config) { c.Pretrain.Dynamics.DT = 1 }, "pretrain.dynamics"},
		{"bad activation", func(c *train.Config) { c.Activation = "softsign" }, "activation"},
		{"unknown method", func(c *train.Config) { c.Method = "hebb" }, "method"},
		{"unknown dataset", func(c *train.Config) { c.Dataset = "cifar-100" }, "dataset"},
		{"target value", func(c *train.Config) { c.TargetClassValue = 1.5 }, "target_class_value"},
		{"negative lr", func(c *train.Config) { c.Forward.LR = -1 }, "forward"},
		{"hidden 0", func(c *train.Config) { c.Hidden = []int{256, 0} }, "hidden"},
		{"apply every -1", func(c *train.Config) { c.ApplyEvery = -1 }, "apply_every"},
		{"apply every window", func(c *train.Config) { c.ApplyEvery = 500 }, "apply_every"},
		{"stream of one-step windows", func(c *train.Config) { c.Stream = true; c.Dynamics.Steps = 1 }, "steps"},
		{"stream with dfc-ssa", func(c *train.Config) { *c = presets.DFCMNIST(); c.Method = train.MethodDFCSSA; c.Stream = true }, "dfc-ssa"},
		{"online backprop", func(c *train.Config) { *c = presets.BPMNIST(); c.ApplyEvery = 1 }, "apply_every"},
		{"unknown optimizer", func(c *train.Config) { c.Forward.Kind = "rmsprop" }, "forward.kind"},
		{"unknown prediction", func(c *train.Config) { c.Prediction = "lagged" }, "prediction"},
		{"filtered prediction for backprop", func(c *train.Config) { *c = presets.BPMNIST(); c.Prediction = "filtered" }, "prediction"},
		{"filtered prediction for dfc-ssa", func(c *train.Config) {
			*c = presets.DFCMNIST()
			c.Method = train.MethodDFCSSA
			c.Prediction = "filtered"
		}, "dfc-ssa"},
		{"unknown learn_from", func(c *train.Config) { *c = presets.Spiking(presets.MNIST()); c.Spiking.LearnFrom = "voltage" }, "learn_from"},
		{"unknown input_train", func(c *train.Config) { *c = presets.Spiking(presets.MNIST()); c.Spiking.InputTrain = "bursting" }, "input_train"},
		{"input_train of pixels as given", func(c *train.Config) { c.Spiking.InputTrain = "regular" }, "input_rate_max"},
		{"intensity of rate neurons", func(c *train.Config) { c.Prediction = "filtered"; c.Spiking.LearnFrom = "intensity" }, "rate_max"},
		{"intensity with the instant prediction", func(c *train.Config) {
			*c = presets.Spiking(presets.MNIST())
			c.Prediction = "instant"
			c.Spiking.LearnFrom = "intensity"
		}, "filtered"},
		{"negative forward_settle", func(c *train.Config) { c.ForwardSettle = -1 }, "forward_settle"},
		{"forward_settle the whole window", func(c *train.Config) { c.ForwardSettle = c.Dynamics.Steps - 1 }, "forward_settle"},
		{"negative integral_leak", func(c *train.Config) { c.Dynamics.IntegralLeak = -1 }, "integral_leak"},
		{"integral_leak beyond 1/dt", func(c *train.Config) { c.Dynamics.IntegralLeak = 1 / c.Dynamics.DT }, "overshoot"},
		{"integral_leak for dfc-ssa", func(c *train.Config) {
			*c = presets.DFCMNIST()
			c.Method = train.MethodDFCSSA
			c.Dynamics.IntegralLeak = 5
		}, "steady state"},
		{"forward_settle for dfc-ss", func(c *train.Config) { *c = presets.DFCMNIST(); c.Method = train.MethodDFCSS; c.ForwardSettle = 5 }, "continuous forward rule"},
		{"sgd momentum 1", func(c *train.Config) { c.Forward.Kind = "sgd"; c.Forward.Momentum = 1 }, "forward"},
		{"unknown second moment", func(c *train.Config) { c.Feedback.SecondMoment = "minibatch" }, "feedback.second_moment"},
		{"second moment of sgd", func(c *train.Config) { c.Forward.Kind = "sgd"; c.Forward.SecondMoment = "window" }, "forward.second_moment"},
	}
	for _, tc := range cases {
		c := presets.MNIST()
		tc.mod(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %q", tc.name, err, tc.want)
		}
	}
}

// TestScaledSecondMoment: with second_moment window, updates every
// fraction f of a window smooth Adam's second moment with weight
// 2f/(1+f) (a window mean's variance); at the window's end, and with
// second_moment step, Adam is plain.
func TestScaledSecondMoment(t *testing.T) {
	c := presets.MNIST().Forward
	for _, tc := range []struct {
		moment string
		f      float64
		want   float64
	}{
		{train.MomentWindow, 1.0 / 99, 2.0 / 99 / (1 + 1.0/99)},
		{train.MomentWindow, 1, 0},
		{train.MomentStep, 1.0 / 99, 0},
		{"", 1.0 / 99, 0},
	} {
		c.SecondMoment = tc.moment
		if got := c.Scaled(tc.f).AdamConfig().Smooth; got != tc.want {
			t.Errorf("second_moment %q, f = %g: smoothing weight %g, want %g", tc.moment, tc.f, got, tc.want)
		}
	}
}
