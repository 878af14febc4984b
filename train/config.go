package train

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/dataset"
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
	// IntegralLeak is a leak of the controller's integral alone
	// (circuit.Params.IntegralLeak; 0: none, as published).
	IntegralLeak float64 `json:"integral_leak,omitempty" yaml:"integral_leak"`
	// Sigma and SigmaOut are the apical noise of hidden and output layers.
	Sigma    float64 `json:"sigma" yaml:"sigma"`
	SigmaOut float64 `json:"sigma_out" yaml:"sigma_out"`
}

// OptimizerConfig are an optimizer's kind and hyperparameters: Adam (LR,
// Beta1, Beta2, Eps, WeightDecay) or SGD (LR, Momentum, WeightDecay). The
// constants are those of one update per window; when plasticity is applied
// every n steps (Config.ApplyEvery) they are scaled to updates every
// fraction f = n/(T−1) of a window (see Scaled and docs/online.md).
type OptimizerConfig struct {
	// Kind is "adam" or "sgd" ("" reads as "adam").
	Kind        string  `json:"kind,omitempty" yaml:"kind"`
	LR          float64 `json:"lr" yaml:"lr"`
	Beta1       float64 `json:"beta1" yaml:"beta1"`
	Beta2       float64 `json:"beta2" yaml:"beta2"`
	Eps         float64 `json:"eps" yaml:"eps"`
	Momentum    float64 `json:"momentum,omitempty" yaml:"momentum"`
	WeightDecay float64 `json:"weight_decay" yaml:"weight_decay"`
	// SecondMoment is what Adam's second moment measures when the
	// plasticity is applied every n steps: "" or "step" the updates' own
	// gradients (the window's gradient's share of n steps), "window" a
	// running average of them over about a window (synapse.AdamConfig.Smooth),
	// so that, as at a window's end, the steps are normalised by the spread
	// of window-long gradients and not by the far larger one of single
	// steps. At the window's end (apply_every 0) both are the same.
	SecondMoment string `json:"second_moment,omitempty" yaml:"second_moment"`
	// smooth is Adam's smoothing weight, set by Scaled.
	smooth float64
}

// The optimizer kinds.
const (
	KindAdam = "adam"
	KindSGD  = "sgd"
)

// What Adam's second moment measures (OptimizerConfig.SecondMoment).
const (
	MomentStep   = "step"
	MomentWindow = "window"
)

// moment returns SecondMoment with "" spelt out as "step" for Adam.
func (a OptimizerConfig) moment() string {
	if a.SecondMoment == "" && a.Kind != KindSGD {
		return MomentStep
	}
	return a.SecondMoment
}

// AdamConfig returns the configuration as Adam's.
func (a OptimizerConfig) AdamConfig() synapse.AdamConfig {
	return synapse.AdamConfig{LR: a.LR, Beta1: a.Beta1, Beta2: a.Beta2, Eps: a.Eps, WeightDecay: a.WeightDecay, Smooth: a.smooth}
}

// SGDConfig returns the configuration as SGD's.
func (a OptimizerConfig) SGDConfig() synapse.SGDConfig {
	return synapse.SGDConfig{LR: a.LR, Momentum: a.Momentum, WeightDecay: a.WeightDecay}
}

// Scaled returns the constants of one update every fraction f of a window
// (f = n/(T−1) for updates every n steps of windows of T indices), whose
// gradients are the window's gradient's share of those steps (the rules
// normalise per window, circuit.ContinuousForward.PerWindow). The decays
// Beta1, Beta2 and Momentum become their f-th powers, so that moments
// forget at the same rate per window. SGD keeps its learning rate: its
// updates of one window add up to the window-end update. Adam normalises
// its steps, so its learning rate and ε are multiplied by f: each update
// is then f of a window-end update, and ε stays in proportion to the
// per-update gradients. With SecondMoment "window", Adam's second moment
// takes the average of the updates' gradients with weight 2f/(1+f), whose
// variance for uncorrelated gradients is that of a window's mean. f = 1
// changes nothing.
func (a OptimizerConfig) Scaled(f float64) OptimizerConfig {
	if f == 1 {
		return a
	}
	a.Beta1 = math.Pow(a.Beta1, f)
	a.Beta2 = math.Pow(a.Beta2, f)
	a.Momentum = math.Pow(a.Momentum, f)
	if a.Kind != KindSGD {
		a.LR *= f
		a.Eps *= f
		if a.SecondMoment == MomentWindow && f < 1 {
			a.smooth = 2 * f / (1 + f)
		}
	}
	return a
}

// validate reports an impossible value, naming the section.
func (a OptimizerConfig) validate(where string) error {
	switch a.Kind {
	case "", KindAdam:
		if err := a.AdamConfig().Validate(); err != nil {
			return fmt.Errorf("config: %s: %w", where, err)
		}
		if m := a.SecondMoment; m != "" && m != MomentStep && m != MomentWindow {
			return fmt.Errorf("config: %s.second_moment = %q: want %s or %s", where, m, MomentStep, MomentWindow)
		}
	case KindSGD:
		if err := a.SGDConfig().Validate(); err != nil {
			return fmt.Errorf("config: %s: %w", where, err)
		}
		if a.SecondMoment != "" {
			return fmt.Errorf("config: %s.second_moment = %q: SGD has no second moment; remove the key or use kind adam", where, a.SecondMoment)
		}
	default:
		return fmt.Errorf("config: %s.kind = %q: want %s or %s", where, a.Kind, KindAdam, KindSGD)
	}
	return nil
}

// newOptimizer makes the optimizer of params, stepping on pool.
func (a OptimizerConfig) newOptimizer(params []synapse.Param, pool *compute.Pool) (synapse.Optimizer, error) {
	if a.Kind == KindSGD {
		s, err := synapse.NewSGD(a.SGDConfig(), params)
		if err != nil {
			return nil, err
		}
		s.Pool = pool
		return s, nil
	}
	ad, err := synapse.NewAdam(a.AdamConfig(), params)
	if err != nil {
		return nil, err
	}
	ad.Pool = pool
	return ad, nil
}

// Spiking configures spiking neurons (neuron.SpikingSoma) in the hidden
// layers and spike trains at the input (circuit.SpikeInput).
type Spiking struct {
	// RateMax is the hidden neurons' maximal firing rate, in spikes per
	// unit of time (0: rate neurons); TauSyn the time constant of the
	// synaptic traces.
	RateMax float64 `json:"rate_max" yaml:"rate_max"`
	TauSyn  float64 `json:"tau_syn" yaml:"tau_syn"`
	// InputRateMax is the input spike trains' maximal rate (0: the inputs
	// as given); with spiking input the pixels are scaled to [0, 1].
	InputRateMax float64 `json:"input_rate_max" yaml:"input_rate_max"`
	// InputTrain is the kind of the input spike trains: "" or "poisson"
	// (a spike in every step with probability InputRateMax·dt·x) or
	// "regular" (a noiseless clock at the rate InputRateMax·x from a
	// random phase; circuit.SpikeInput).
	InputTrain string `json:"input_train,omitempty" yaml:"input_train"`
	// InputNorm is what the input spike trains' decoded traces give
	// layer 1: "" or "unit" (the pixels scaled to [0, 1], the spike rates'
	// fractions of InputRateMax) or "dataset" (the data set's published
	// normalisation, which the rate network receives: the trains then
	// carry the same pixels, and the mean field is the published network
	// with its inputs). Without input trains the input is the data set's
	// published normalisation whatever this says.
	InputNorm string `json:"input_norm,omitempty" yaml:"input_norm"`
	// EventDriven computes a layer's basal input from its presynaptic
	// spikes (cost in proportion to them) instead of a dense product.
	EventDriven bool `json:"event_driven" yaml:"event_driven"`
	// LearnFrom is what the forward rule takes as a spiking neuron's
	// output: "" or "spikes" (its decoded spike trace, Urbanczik and
	// Senn's form) or "intensity" (its firing intensity filtered as the
	// spikes are, the same expectation without the spike sampling's
	// variance; needs prediction "filtered"; docs/spiking.md).
	LearnFrom string `json:"learn_from,omitempty" yaml:"learn_from"`
}

// The values of Spiking.InputTrain.
const (
	InputTrainPoisson = "poisson"
	InputTrainRegular = "regular"
)

// The values of Spiking.InputNorm.
const (
	InputNormUnit    = "unit"
	InputNormDataset = "dataset"
)

// The values of Spiking.LearnFrom.
const (
	LearnFromSpikes    = "spikes"
	LearnFromIntensity = "intensity"
)

// On reports whether anything spikes.
func (s Spiking) On() bool { return s.RateMax > 0 || s.InputRateMax > 0 }

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
	// Dataset is "mnist", "fashion-mnist" or "cifar10" (dataset.Names).
	Dataset string `json:"dataset" yaml:"dataset"`
	// Task is what the network learns: "" or "classify" (labels, soft
	// targets, cross-entropy, accuracy), or "autoencode" (the output
	// reproduces the input: the input is the target, MSE loss, no
	// accuracy).
	Task string `json:"task,omitempty" yaml:"task"`
	// Hidden are the hidden layer sizes; Activation is their rate function
	// (the output layer is linear), or Activations gives one per hidden
	// layer.
	Hidden      []int    `json:"hidden" yaml:"hidden"`
	Activation  string   `json:"activation" yaml:"activation"`
	Activations []string `json:"activations,omitempty" yaml:"activations"`
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
	// Forward and Feedback are the two optimizers (pre-training uses the
	// feedback's with its own learning rate).
	Forward  OptimizerConfig `json:"forward" yaml:"forward"`
	Feedback OptimizerConfig `json:"feedback" yaml:"feedback"`
	Pretrain Pretrain        `json:"pretrain" yaml:"pretrain"`
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
	// ApplyEvery applies the plasticity of training windows every n steps
	// (1: at every step) instead of at the window's end (0, as published);
	// the optimizers' constants are scaled to match (OptimizerConfig).
	ApplyEvery int `json:"apply_every,omitempty" yaml:"apply_every"`
	// Stream presents the training samples as a stream: the state of the
	// training circuit is never reset, only the input and the label switch
	// after dynamics.steps−1 steps, and the controller keeps running; the
	// minibatch's samples are Batch parallel streams that share the
	// weights.
	Stream bool `json:"stream,omitempty" yaml:"stream"`
	// StreamReset is what a stream resets at every switch of sample, as
	// a diagnostic of what its carried state costs: "" or "none",
	// "controller", "layers" or "both" (circuit.StreamReset).
	StreamReset string `json:"stream_reset,omitempty" yaml:"stream_reset"`
	// ForwardSettle is the number of steps after every presentation of a
	// sample in which the continuous forward rule records nothing (0:
	// none, as published): a gate against the mismatch of the previous
	// sample's carried state on a stream (circuit.ContinuousForward.Settle).
	ForwardSettle int `json:"forward_settle,omitempty" yaml:"forward_settle"`
	// Chunks > 1 runs every minibatch window-parallel: cut into that many
	// chunks, each simulated for the whole window on one worker, their
	// gradients summed in a fixed order (docs/performance.md). Results
	// depend on the number of chunks, not on the number of workers; 0 or
	// 1 simulates the minibatch as one, its steps split among the
	// workers.
	Chunks int `json:"chunks,omitempty" yaml:"chunks"`
	// Spiking makes the hidden layers spiking neurons and the input spike
	// trains (docs/spiking.md); its zero value is the rate network.
	Spiking Spiking `json:"spiking" yaml:"spiking"`
	// Prediction is what the forward rule of training windows compares
	// each neuron's output with: "" or "instant" (φ(v_ff) of the basal
	// voltage, as published) or "filtered" (the basal prediction filtered
	// with the soma's own time constant, neuron.RateSoma and
	// neuron.SpikingSoma's FilteredPrediction; docs/online.md).
	Prediction string `json:"prediction,omitempty" yaml:"prediction"`
}

// The values of Config.StreamReset.
const (
	StreamResetNone       = "none"
	StreamResetController = "controller"
	StreamResetLayers     = "layers"
	StreamResetBoth       = "both"
)

// streamReset returns what the circuit of training windows resets at a
// stream's switches.
func (c Config) streamReset() circuit.StreamReset {
	return circuit.StreamReset{
		Controller: c.StreamReset == StreamResetController || c.StreamReset == StreamResetBoth,
		Layers:     c.StreamReset == StreamResetLayers || c.StreamReset == StreamResetBoth,
	}
}

// Predictions are the values of Config.Prediction.
const (
	PredictionInstant  = "instant"
	PredictionFiltered = "filtered"
)

// filtered reports whether the forward rule uses the filtered prediction.
func (c Config) filtered() bool { return c.Prediction == PredictionFiltered }

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

// Validate reports the first impossible value, naming it.
func (c Config) Validate() error {
	if !knownMethod(c.Method) {
		var names []string
		for _, m := range Methods {
			names = append(names, m.Name)
		}
		return fmt.Errorf("config: unknown method %q (known: %v)", c.Method, names)
	}
	if !dataset.Known(c.Dataset) {
		return fmt.Errorf("config: unknown dataset %q (known: %s)", c.Dataset, strings.Join(dataset.Names, ", "))
	}
	if len(c.Hidden) == 0 {
		return errors.New("config: hidden: at least one hidden layer is needed")
	}
	for i, h := range c.Hidden {
		if h <= 0 {
			return fmt.Errorf("config: hidden[%d] = %d must be positive", i, h)
		}
	}
	if _, err := c.Acts(); err != nil {
		return err
	}
	if c.Task != "" && c.Task != TaskClassify && c.Task != TaskAutoencode {
		return fmt.Errorf("config: unknown task %q (known: %s, %s)", c.Task, TaskClassify, TaskAutoencode)
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
	}
	if c.twoPhase() && (c.Sleep.Before+c.Sleep.After > 0 || c.Pretrain.Epochs > 0) {
		if !(c.Sleep.ApicalTau > 0) {
			return fmt.Errorf("config: sleep.apical_tau = %g must be positive", c.Sleep.ApicalTau)
		}
		if c.Sleep.Before+c.Sleep.After > 0 {
			if err := c.Sleep.Dynamics.validate("sleep.dynamics"); err != nil {
				return err
			}
		}
	}
	if err := c.Forward.validate("forward"); err != nil {
		return err
	}
	if err := c.Feedback.validate("feedback"); err != nil {
		return err
	}
	if sp := c.Spiking; sp.On() {
		if c.Method == MethodBP {
			return fmt.Errorf("config: spiking: method %s has no simulated neurons", c.Method)
		}
		if sp.RateMax < 0 || sp.InputRateMax < 0 || !(sp.TauSyn > 0) {
			return fmt.Errorf("config: spiking: rate_max = %g and input_rate_max = %g must be non-negative, tau_syn = %g positive", sp.RateMax, sp.InputRateMax, sp.TauSyn)
		}
	}
	switch sp := c.Spiking; {
	case sp.LearnFrom != "" && sp.LearnFrom != LearnFromSpikes && sp.LearnFrom != LearnFromIntensity:
		return fmt.Errorf("config: spiking.learn_from = %q: use %q (the decoded spikes) or %q (the firing intensity)", sp.LearnFrom, LearnFromSpikes, LearnFromIntensity)
	case sp.InputTrain != "" && sp.InputTrain != InputTrainPoisson && sp.InputTrain != InputTrainRegular:
		return fmt.Errorf("config: spiking.input_train = %q: use %q or %q", sp.InputTrain, InputTrainPoisson, InputTrainRegular)
	case sp.InputTrain != "" && !(sp.InputRateMax > 0):
		return fmt.Errorf("config: spiking.input_train = %q needs input spike trains (spiking.input_rate_max > 0)", sp.InputTrain)
	case sp.InputNorm != "" && sp.InputNorm != InputNormUnit && sp.InputNorm != InputNormDataset:
		return fmt.Errorf("config: spiking.input_norm = %q: use %q (the pixels in [0, 1]) or %q (the data set's normalisation)", sp.InputNorm, InputNormUnit, InputNormDataset)
	case sp.LearnFrom == LearnFromIntensity && !(sp.RateMax > 0):
		return fmt.Errorf("config: spiking.learn_from = %q needs spiking hidden neurons (spiking.rate_max > 0)", sp.LearnFrom)
	case sp.LearnFrom == LearnFromIntensity && !c.filtered():
		return fmt.Errorf("config: spiking.learn_from = %q needs prediction = %q (the intensity is filtered as the spikes are; an instant prediction would lag it)", sp.LearnFrom, PredictionFiltered)
	}
	switch {
	case c.Prediction != "" && c.Prediction != PredictionInstant && c.Prediction != PredictionFiltered:
		return fmt.Errorf("config: prediction = %q: use %q (as published) or %q", c.Prediction, PredictionInstant, PredictionFiltered)
	case c.filtered() && (c.Method == MethodBP || c.Method == MethodDFCSSA):
		return fmt.Errorf("config: prediction = %q needs a forward rule that runs on simulated steps; method %s has none", c.Prediction, c.Method)
	case c.Chunks < 0:
		return fmt.Errorf("config: chunks = %d must be non-negative", c.Chunks)
	case c.Chunks > 1 && (c.ApplyEvery > 0 || c.Stream):
		return fmt.Errorf("config: chunks = %d needs plasticity applied at the window's end and windows that reset (apply_every 0, stream false)", c.Chunks)
	case c.StreamReset != "" && c.StreamReset != StreamResetNone && c.StreamReset != StreamResetController &&
		c.StreamReset != StreamResetLayers && c.StreamReset != StreamResetBoth:
		return fmt.Errorf("config: stream_reset = %q: use %q, %q, %q or %q", c.StreamReset, StreamResetNone, StreamResetController, StreamResetLayers, StreamResetBoth)
	case c.streamReset() != (circuit.StreamReset{}) && !c.Stream:
		return fmt.Errorf("config: stream_reset = %q needs stream: true (windows that reset reset everything)", c.StreamReset)
	case c.ForwardSettle < 0 || (c.ForwardSettle > 0 && c.ForwardSettle >= c.Dynamics.Steps-1):
		return fmt.Errorf("config: forward_settle = %d must be non-negative and less than the %d steps of a window after its first: lower it (--set forward_settle=N; the stream presets use 40) or show each sample for more steps", c.ForwardSettle, c.Dynamics.Steps-1)
	case c.ForwardSettle > 0 && c.Method != MethodStrongDFC && c.Method != MethodDFC:
		return fmt.Errorf("config: forward_settle needs the continuous forward rule (strong-dfc or dfc); method %s has none", c.Method)
	case c.ApplyEvery < 0:
		return fmt.Errorf("config: apply_every = %d must be non-negative (0: at the window's end, n: every n steps)", c.ApplyEvery)
	case (c.ApplyEvery > 0 || c.Stream) && c.Method == MethodBP:
		return fmt.Errorf("config: apply_every and stream need simulated windows; method %s has none", c.Method)
	case (c.ApplyEvery > 0 || c.Stream) && c.Method == MethodDFCSSA:
		return fmt.Errorf("config: apply_every and stream need simulated windows; method %s computes its update analytically without steps (use dfc or dfc-ss)", c.Method)
	case c.Dynamics.IntegralLeak != 0 && c.Method == MethodDFCSSA:
		return fmt.Errorf("config: dynamics.integral_leak = %g: method %s computes the published controller's steady state analytically, which has no integral leak; remove the key or use dfc", c.Dynamics.IntegralLeak, c.Method)
	case c.ApplyEvery >= c.Dynamics.Steps && c.Dynamics.Steps > 0:
		return fmt.Errorf("config: apply_every = %d is not less than dynamics.steps = %d: plasticity would be applied once per window", c.ApplyEvery, c.Dynamics.Steps)
	}
	if c.Pretrain.Epochs > 0 && c.Method != MethodBP {
		if err := c.Pretrain.Dynamics.validate("pretrain.dynamics"); err != nil {
			return err
		}
		if err := c.pretrainAdam().validate("pretrain"); err != nil {
			return err
		}
	}
	// Every phase's circuit, rules and window, checked by building them
	// for a one-sample network of the configured shape.
	m, err := c.MethodSpec()
	if err != nil {
		return err
	}
	return m.validate(c)
}

func (d Dynamics) validate(where string) error {
	if d.Steps < 2 {
		return fmt.Errorf("config: %s.steps = %d must be at least 2", where, d.Steps)
	}
	for _, v := range []struct {
		name string
		x    float64
	}{{"dt", d.DT}, {"tau_v", d.TauV}, {"alpha", d.Alpha}, {"integral_leak", d.IntegralLeak}, {"k_p", d.KP}, {"sigma", d.Sigma}, {"sigma_out", d.SigmaOut}} {
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
	if d.IntegralLeak < 0 || d.IntegralLeak*d.DT >= 1 {
		return fmt.Errorf("config: %s.integral_leak = %g must be non-negative and less than 1/dt = %g (the Euler step would overshoot)", where, d.IntegralLeak, 1/d.DT)
	}
	return nil
}

// The tasks.
const (
	TaskClassify   = "classify"
	TaskAutoencode = "autoencode"
)

// Normalize returns c with its defaults spelt out: the task "" is
// "classify", the optimizer kind "" is "adam", and an empty list of
// activations is none (nil). Configurations
// read from files and checkpoints are normalised, so that equal runs
// compare equal.
func (c Config) Normalize() Config {
	if c.Task == "" {
		c.Task = TaskClassify
	}
	if c.Forward.Kind == "" {
		c.Forward.Kind = KindAdam
	}
	if c.Feedback.Kind == "" {
		c.Feedback.Kind = KindAdam
	}
	if len(c.Activations) == 0 {
		c.Activations = nil
	}
	if c.Spiking.InputTrain == InputTrainPoisson {
		c.Spiking.InputTrain = ""
	}
	if c.Spiking.InputNorm == InputNormUnit {
		c.Spiking.InputNorm = ""
	}
	return c
}

// Autoencoder reports whether the network learns to reproduce its input.
func (c Config) Autoencoder() bool { return c.Task == TaskAutoencode }

// Sizes returns the layer sizes, input first, for in inputs and classes
// (the output of an autoencoder has in units).
func (c Config) Sizes(in, classes int) []int {
	s := append([]int{in}, c.Hidden...)
	if c.Autoencoder() {
		return append(s, in)
	}
	return append(s, classes)
}

// Acts returns the rate functions of the layers above the input: the
// hidden layers' (Activations, or Activation for all) and a linear output.
func (c Config) Acts() ([]neuron.Activation, error) {
	if len(c.Activations) > 0 && len(c.Activations) != len(c.Hidden) {
		return nil, fmt.Errorf("config: activations: %d given for %d hidden layers", len(c.Activations), len(c.Hidden))
	}
	var acts []neuron.Activation
	for i := range c.Hidden {
		name, key := c.Activation, "activation"
		if len(c.Activations) > 0 {
			name, key = c.Activations[i], fmt.Sprintf("activations[%d]", i)
		}
		a, err := neuron.ParseActivation(name)
		if err != nil {
			return nil, fmt.Errorf("config: %s: %w", key, err)
		}
		acts = append(acts, a)
	}
	return append(acts, neuron.Linear), nil
}

// Loss returns the task's loss: cross-entropy against the soft labels, or
// the MSE of an autoencoder's reconstruction.
func (c Config) Loss() circuit.Loss {
	if c.Autoencoder() {
		return circuit.MSE{}
	}
	return circuit.CrossEntropy{}
}

func (c Config) pretrainAdam() OptimizerConfig {
	a := c.Feedback
	a.LR = c.Pretrain.LR
	return a
}
