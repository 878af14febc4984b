package train

import (
	"errors"
	"fmt"
	"math"

	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/neuron"
	"github.com/strongdfc/strongdfc/synapse"
)

// Dynamics are the constants of one simulation regime.
type Dynamics struct {
	// DT is the Euler step, Steps the number of time indices per window
	// (T, counting k = 0), TauV the somatic time constant.
	DT    float64 `json:"dt" yaml:"dt"`
	Steps int     `json:"steps" yaml:"steps"`
	TauV  float64 `json:"tau_v" yaml:"tau_v"`
	// Alpha is the controller's leak, KP its proportional gain.
	Alpha float64 `json:"alpha" yaml:"alpha"`
	KP    float64 `json:"k_p" yaml:"k_p"`
	// Sigma and SigmaOut are the apical noise of hidden and output layers.
	Sigma    float64 `json:"sigma" yaml:"sigma"`
	SigmaOut float64 `json:"sigma_out" yaml:"sigma_out"`
}

// Adam are an Adam optimizer's hyperparameters.
type Adam struct {
	LR          float64 `json:"lr" yaml:"lr"`
	Beta1       float64 `json:"beta1" yaml:"beta1"`
	Beta2       float64 `json:"beta2" yaml:"beta2"`
	Eps         float64 `json:"eps" yaml:"eps"`
	WeightDecay float64 `json:"weight_decay" yaml:"weight_decay"`
}

// AdamConfig returns the optimizer configuration.
func (a Adam) AdamConfig() synapse.AdamConfig {
	return synapse.AdamConfig{LR: a.LR, Beta1: a.Beta1, Beta2: a.Beta2, Eps: a.Eps, WeightDecay: a.WeightDecay}
}

// Sleep configures the sleep phase of the two-phase methods (dfc, dfc-ss,
// dfc-ssa, strong-dfc-2phase): windows in which only noise (and, for
// strong-dfc-2phase, the label) drives the controller and only the
// feedback weights learn, with the apical compartment's own dynamics and
// white noise. Before sleep epochs run before every training epoch and
// After after it.
type Sleep struct {
	Before    int      `json:"before" yaml:"before"`
	After     int      `json:"after" yaml:"after"`
	ApicalTau float64  `json:"apical_tau" yaml:"apical_tau"`
	Dynamics  Dynamics `json:"dynamics" yaml:"dynamics"`
}

// Pretrain configures feedback pre-training: Q-only learning before
// training, with its own dynamics and its own Adam (the feedback
// optimizer's β, ε and weight decay with learning rate LR). For the
// two-phase methods its windows are sleep windows (with Sleep.ApicalTau).
type Pretrain struct {
	Epochs   int      `json:"epochs" yaml:"epochs"`
	LR       float64  `json:"lr" yaml:"lr"`
	Dynamics Dynamics `json:"dynamics" yaml:"dynamics"`
}

// Config describes a training run completely.
type Config struct {
	// Method names the learning method; "strong-dfc" is single-phase
	// Strong-DFC.
	Method string `json:"method" yaml:"method"`
	// Dataset is "mnist" or "fashion-mnist".
	Dataset string `json:"dataset" yaml:"dataset"`
	// Hidden are the hidden layer sizes; Activation is their rate function
	// (the output layer is linear).
	Hidden     []int  `json:"hidden" yaml:"hidden"`
	Activation string `json:"activation" yaml:"activation"`
	// Epochs of training, minibatch size, and the seed every random draw
	// derives from (initial weights, shuffling, noise).
	Epochs int    `json:"epochs" yaml:"epochs"`
	Batch  int    `json:"batch" yaml:"batch"`
	Seed   uint64 `json:"seed" yaml:"seed"`
	// Validation samples are held out of the training set, drawn with
	// SplitSeed; TrainLimit > 0 keeps only the first TrainLimit of the
	// remaining training samples.
	Validation int    `json:"validation" yaml:"validation"`
	SplitSeed  uint64 `json:"split_seed" yaml:"split_seed"`
	TrainLimit int    `json:"train_limit" yaml:"train_limit"`
	// TargetClassValue is the soft label's value at the correct class.
	TargetClassValue float64 `json:"target_class_value" yaml:"target_class_value"`
	// Dynamics of training windows, the noise filter's time constant, the
	// feedback rule's high-pass time constant and its layer scaling.
	Dynamics     Dynamics `json:"dynamics" yaml:"dynamics"`
	TauNoise     float64  `json:"tau_noise" yaml:"tau_noise"`
	TauF         float64  `json:"tau_f" yaml:"tau_f"`
	LayerScaling bool     `json:"layer_scaling" yaml:"layer_scaling"`
	// ClipNorm is the per-layer gradient-norm limit.
	ClipNorm float64 `json:"clip_norm" yaml:"clip_norm"`
	// Forward and Feedback are the two optimizers.
	Forward  Adam     `json:"forward" yaml:"forward"`
	Feedback Adam     `json:"feedback" yaml:"feedback"`
	Pretrain Pretrain `json:"pretrain" yaml:"pretrain"`
	// StackDepth is the number of time steps per plasticity product (0:
	// the default).
	StackDepth int `json:"stack_depth" yaml:"stack_depth"`
	// TargetStep is λ of weak DFC's target r* = r_L⁻ − λ·∂L/∂r_L (methods
	// dfc, dfc-ss and dfc-ssa).
	TargetStep float64 `json:"target_step" yaml:"target_step"`
	// SomaSigma is noise added to every somatic voltage at every step of
	// training windows, v += SomaSigma·ξ (the noise study; 0 as published).
	SomaSigma float64 `json:"soma_sigma" yaml:"soma_sigma"`
	// Sleep is the sleep phase of the two-phase methods.
	Sleep Sleep `json:"sleep" yaml:"sleep"`
}

// The learning methods.
const (
	// MethodStrongDFC is single-phase Strong-DFC: forward and feedback
	// weights learn in the same noisy window.
	MethodStrongDFC = "strong-dfc"
	// MethodStrongDFC2 is two-phase Strong-DFC: forward updates from the
	// last step of noiseless windows, feedback learned in sleep phases.
	MethodStrongDFC2 = "strong-dfc-2phase"
	// MethodDFC is DFC with weak feedback: continuous forward updates toward
	// a nudged target, feedback learned in sleep phases.
	MethodDFC = "dfc"
	// MethodDFCSS is DFC whose forward update is taken from the last step.
	MethodDFCSS = "dfc-ss"
	// MethodDFCSSA is DFC whose forward update comes from the analytic
	// steady state, without simulating the forward phase.
	MethodDFCSSA = "dfc-ssa"
	// MethodBP is backpropagation in the same network (the baseline).
	MethodBP = "bp"
)

// Methods lists the methods with a one-line description each.
var Methods = []struct{ Name, Description string }{
	{MethodStrongDFC, "single-phase Strong-DFC (forward and feedback learning in one noisy window)"},
	{MethodStrongDFC2, "two-phase Strong-DFC (steady-state forward updates, feedback learned in sleep phases)"},
	{MethodDFC, "DFC with weak feedback, continuous forward updates, feedback learned in sleep phases"},
	{MethodDFCSS, "DFC, forward update from the last step of the window"},
	{MethodDFCSSA, "DFC, forward update from the analytic steady state (no forward simulation)"},
	{MethodBP, "backpropagation in the same network"},
}

func knownMethod(m string) bool {
	for _, x := range Methods {
		if x.Name == m {
			return true
		}
	}
	return false
}

// twoPhase reports whether the method learns its feedback in sleep phases.
func (c Config) twoPhase() bool {
	switch c.Method {
	case MethodStrongDFC2, MethodDFC, MethodDFCSS, MethodDFCSSA:
		return true
	}
	return false
}

// Weak reports whether the method uses weak DFC's nudged target (dfc,
// dfc-ss, dfc-ssa); these methods share their feedback pre-training.
func (c Config) Weak() bool {
	return c.Method == MethodDFC || c.Method == MethodDFCSS || c.Method == MethodDFCSSA
}

// Schedule returns the phases of one training epoch, in order: "sleep"
// epochs of the two-phase methods around the "train" epoch.
func (c Config) Schedule() []string {
	var s []string
	if c.twoPhase() {
		for range c.Sleep.Before {
			s = append(s, "sleep")
		}
	}
	s = append(s, "train")
	if c.twoPhase() {
		for range c.Sleep.After {
			s = append(s, "sleep")
		}
	}
	return s
}

// MNIST returns the published configuration of single-phase Strong-DFC on
// MNIST (../shared/docs/strong-dfc.md §6; the full-precision values of the
// authors' command line).
func MNIST() Config {
	return Config{
		Method: "strong-dfc", Dataset: "mnist",
		Hidden: []int{256, 256, 256}, Activation: "tanh",
		Epochs: 40, Batch: 128, Seed: 1,
		Validation: 5000, SplitSeed: 42,
		TargetClassValue: 0.99,
		Dynamics: Dynamics{
			DT: 0.001, Steps: 500, TauV: 0.009268288409004458,
			Alpha: 7.608673370995652e-06, KP: 2.0,
			Sigma: 0.004278964325349612, SigmaOut: 0.029713880264874388,
		},
		TauNoise: 0.07, TauF: 0.5, LayerScaling: true,
		ClipNorm: 1.0,
		Forward:  Adam{LR: 0.0003095880739373081, Beta1: 0.9, Beta2: 0.99, Eps: 1.6288767089312233e-05},
		Feedback: Adam{LR: 2.0091405897656825e-08, Beta1: 0.99, Beta2: 0.999, Eps: 1.1023320392297719e-11, WeightDecay: 0.5},
		Pretrain: Pretrain{
			Epochs: 1, LR: 4.5160347135162454e-07,
			Dynamics: Dynamics{
				DT: 0.0012167769308505587, Steps: 500, TauV: 0.014441072404716454,
				Alpha: 0.016257243484558315, KP: 0.0028004742554235116,
				Sigma: 2.760795719756352e-05, SigmaOut: 1.5149030252289032e-05,
			},
		},
	}
}

// Validate reports the first impossible value, naming it.
func (c Config) Validate() error {
	if !knownMethod(c.Method) {
		var names []string
		for _, m := range Methods {
			names = append(names, m.Name)
		}
		return fmt.Errorf("config: unknown method %q (known: %v)", c.Method, names)
	}
	if c.Dataset != "mnist" && c.Dataset != "fashion-mnist" {
		return fmt.Errorf("config: unknown dataset %q (known: mnist, fashion-mnist)", c.Dataset)
	}
	if len(c.Hidden) == 0 {
		return errors.New("config: hidden: at least one hidden layer is needed")
	}
	for i, h := range c.Hidden {
		if h <= 0 {
			return fmt.Errorf("config: hidden[%d] = %d must be positive", i, h)
		}
	}
	if _, err := neuron.ParseActivation(c.Activation); err != nil {
		return fmt.Errorf("config: activation: %w", err)
	}
	switch {
	case c.Epochs < 0:
		return fmt.Errorf("config: epochs = %d must be non-negative", c.Epochs)
	case c.Batch <= 0:
		return fmt.Errorf("config: batch = %d must be positive", c.Batch)
	case c.Validation < 0:
		return fmt.Errorf("config: validation = %d must be non-negative", c.Validation)
	case c.TrainLimit < 0:
		return fmt.Errorf("config: train_limit = %d must be non-negative", c.TrainLimit)
	case !(c.TargetClassValue > 0 && c.TargetClassValue <= 1):
		return fmt.Errorf("config: target_class_value = %g must be in (0, 1]", c.TargetClassValue)
	case c.Pretrain.Epochs < 0:
		return fmt.Errorf("config: pretrain.epochs = %d must be non-negative", c.Pretrain.Epochs)
	case c.StackDepth < 0:
		return fmt.Errorf("config: stack_depth = %d must be non-negative", c.StackDepth)
	case c.Sleep.Before < 0 || c.Sleep.After < 0:
		return fmt.Errorf("config: sleep.before = %d and sleep.after = %d must be non-negative", c.Sleep.Before, c.Sleep.After)
	case math.IsNaN(c.SomaSigma) || c.SomaSigma < 0:
		return fmt.Errorf("config: soma_sigma = %g must be non-negative", c.SomaSigma)
	case c.Weak() && !(c.TargetStep > 0):
		return fmt.Errorf("config: target_step = %g must be positive for method %s", c.TargetStep, c.Method)
	}
	if c.Method != MethodBP {
		if err := c.Dynamics.validate("dynamics"); err != nil {
			return err
		}
		if err := c.TrainParams().Validate(); err != nil {
			return fmt.Errorf("config: %w", err)
		}
	}
	if c.twoPhase() && (c.Sleep.Before+c.Sleep.After > 0 || c.Pretrain.Epochs > 0) {
		if !(c.Sleep.ApicalTau > 0) {
			return fmt.Errorf("config: sleep.apical_tau = %g must be positive", c.Sleep.ApicalTau)
		}
		if c.Sleep.Before+c.Sleep.After > 0 {
			if err := c.Sleep.Dynamics.validate("sleep.dynamics"); err != nil {
				return err
			}
			if err := c.SleepParams().Validate(); err != nil {
				return fmt.Errorf("config: sleep: %w", err)
			}
		}
	}
	if err := c.Forward.AdamConfig().Validate(); err != nil {
		return fmt.Errorf("config: forward: %w", err)
	}
	if err := c.Feedback.AdamConfig().Validate(); err != nil {
		return fmt.Errorf("config: feedback: %w", err)
	}
	if c.Pretrain.Epochs > 0 && c.Method != MethodBP {
		if err := c.Pretrain.Dynamics.validate("pretrain.dynamics"); err != nil {
			return err
		}
		if err := c.PretrainParams().Validate(); err != nil {
			return fmt.Errorf("config: pretrain: %w", err)
		}
		if err := c.pretrainAdam().AdamConfig().Validate(); err != nil {
			return fmt.Errorf("config: pretrain: %w", err)
		}
	}
	return nil
}

func (d Dynamics) validate(where string) error {
	if d.Steps < 2 {
		return fmt.Errorf("config: %s.steps = %d must be at least 2", where, d.Steps)
	}
	for _, v := range []struct {
		name string
		x    float64
	}{{"dt", d.DT}, {"tau_v", d.TauV}, {"alpha", d.Alpha}, {"k_p", d.KP}, {"sigma", d.Sigma}, {"sigma_out", d.SigmaOut}} {
		if math.IsNaN(v.x) || math.IsInf(v.x, 0) {
			return fmt.Errorf("config: %s.%s = %g must be finite", where, v.name, v.x)
		}
	}
	if !(d.DT > 0) {
		return fmt.Errorf("config: %s.dt = %g must be positive", where, d.DT)
	}
	if d.DT > d.TauV {
		return fmt.Errorf("config: %s.dt = %g is larger than %s.tau_v = %g; the Euler step would overshoot", where, d.DT, where, d.TauV)
	}
	if d.Sigma < 0 || d.SigmaOut < 0 {
		return fmt.Errorf("config: %s.sigma = %g and sigma_out = %g must be non-negative", where, d.Sigma, d.SigmaOut)
	}
	return nil
}

// Sizes returns the layer sizes, input first.
func (c Config) Sizes(in, out int) []int {
	s := append([]int{in}, c.Hidden...)
	return append(s, out)
}

// TrainParams are the circuit constants of training windows (not used by
// backprop).
func (c Config) TrainParams() circuit.Params {
	d := c.Dynamics
	p := circuit.Params{
		DT: d.DT, TauV: d.TauV, Alpha: d.Alpha, KP: d.KP,
		Sigma: d.Sigma, SigmaOut: d.SigmaOut, TauNoise: c.TauNoise, SomaSigma: c.SomaSigma,
		Error: circuit.SoftmaxError, Target: circuit.LabelTarget,
		LearnForward: true, LearnFeedback: true,
		TauF: c.TauF, LayerScaling: c.LayerScaling,
		ClipNorm: c.ClipNorm, StackDepth: c.StackDepth,
	}
	if !c.twoPhase() {
		return p
	}
	// Two-phase methods learn only the forward weights in training
	// windows; the feedback weights learn in sleep windows.
	p.LearnFeedback, p.TauF, p.LayerScaling = false, 0, false
	p.ForwardUpdate = circuit.SteadyState
	if c.Weak() {
		p.Error, p.Target, p.TargetStep = circuit.DifferenceError, circuit.WeakTarget, c.TargetStep
		switch c.Method {
		case MethodDFC:
			p.ForwardUpdate = circuit.Continuous
		case MethodDFCSSA:
			p.ForwardUpdate = circuit.Analytic
		}
	}
	return p
}

// SleepParams are the constants of sleep windows: the sleep dynamics, the
// apical compartment with its own time constant and white noise, Q
// learning only, the feedback rule on the unfiltered control. The
// controller's set-point is the feedforward output (weak DFC: noise alone
// drives it) or the label with the softmax error (two-phase Strong-DFC).
func (c Config) SleepParams() circuit.Params {
	return c.sleepParams(c.Sleep.Dynamics)
}

func (c Config) sleepParams(d Dynamics) circuit.Params {
	p := circuit.Params{
		DT: d.DT, TauV: d.TauV, Alpha: d.Alpha, KP: d.KP,
		Sigma: d.Sigma, SigmaOut: d.SigmaOut, ApicalTau: c.Sleep.ApicalTau,
		Error: circuit.DifferenceError, Target: circuit.FeedforwardTarget,
		LearnFeedback: true,
		ClipNorm:      c.ClipNorm, StackDepth: c.StackDepth,
	}
	if c.Method == MethodStrongDFC2 {
		p.Error, p.Target = circuit.SoftmaxError, circuit.LabelTarget
	}
	return p
}

// PretrainParams are the constants of feedback pre-training windows: the
// pre-training dynamics with a plain-difference error, Q learning only,
// and (as published) the high-pass filter and layer scaling computed with
// the training dt and τ_v.
//
// For the two-phase methods they are sleep windows with the pre-training
// dynamics and, as published, the plain-difference error.
func (c Config) PretrainParams() circuit.Params {
	d := c.Pretrain.Dynamics
	if c.twoPhase() {
		p := c.sleepParams(d)
		p.Error = circuit.DifferenceError
		return p
	}
	return circuit.Params{
		DT: d.DT, TauV: d.TauV, Alpha: d.Alpha, KP: d.KP,
		Sigma: d.Sigma, SigmaOut: d.SigmaOut, TauNoise: c.TauNoise,
		Error: circuit.DifferenceError, Target: circuit.LabelTarget,
		LearnFeedback: true,
		TauF:          c.TauF, FilterDT: c.Dynamics.DT,
		LayerScaling: c.LayerScaling, ScalingTauV: c.Dynamics.TauV,
		ClipNorm: c.ClipNorm, StackDepth: c.StackDepth,
	}
}

func (c Config) pretrainAdam() Adam {
	a := c.Feedback
	a.LR = c.Pretrain.LR
	return a
}
