package train

import (
	"fmt"

	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/neuron"
	"github.com/strongdfc/strongdfc/scheduler"
)

// A Method is how a run learns: its optimizers, its phases, and when each
// phase runs. A phase runs a whole epoch (one pass over the training
// samples) at a time: the phases of Prologue run once, in order, before
// training (feedback pre-training); then every training epoch runs the
// phases of Epoch in order (sleep phases around the training phase of the
// two-phase methods). Config.MethodSpec builds the published methods; a new
// kind of phase is one new type implementing Phase.
type Method struct {
	Optimizers []Optimizer
	Phases     []Phase
	// Prologue and Epoch name phases of Phases, one entry per epoch.
	Prologue []string
	Epoch    []string
}

// Optimizer names an optimizer of a method and says what it updates: the
// forward weights and biases ("forward") or the feedback weights
// ("feedback") of every layer. Phases refer to optimizers by name, and
// share an optimizer's state when they name the same one.
type Optimizer struct {
	Name   string
	Of     string
	Config OptimizerConfig
}

// The parameters an Optimizer can update.
const (
	OfForward  = "forward"
	OfFeedback = "feedback"
)

// Phase returns the phase with the given name (nil if there is none).
func (m Method) Phase(name string) Phase {
	for _, p := range m.Phases {
		if p.Name() == name {
			return p
		}
	}
	return nil
}

// Stage returns the name of the phase of finished-stage count done (the
// prologue's epochs first, then the training epochs' phases in turn), and
// whether it belongs to the prologue.
func (m Method) Stage(done int) (name string, prologue bool) {
	if done < len(m.Prologue) {
		return m.Prologue[done], true
	}
	return m.Epoch[(done-len(m.Prologue))%len(m.Epoch)], false
}

// Position splits a finished-stage count into prologue epochs done,
// training epochs done and phases done of the training epoch under way.
func (m Method) Position(done int) (prologue, epochs, stage int) {
	if done < len(m.Prologue) {
		return done, 0, 0
	}
	k := done - len(m.Prologue)
	return len(m.Prologue), k / len(m.Epoch), k % len(m.Epoch)
}

// Stages returns the number of stages of a run of the given number of
// training epochs.
func (m Method) Stages(epochs int) int { return len(m.Prologue) + epochs*len(m.Epoch) }

// validate checks the method's structure and builds every phase once on a
// tiny network of the configured depth, so that a configuration's errors
// are found before a run starts.
func (m Method) validate(c Config) error {
	if len(m.Epoch) == 0 {
		return fmt.Errorf("config: method %s has no training phase", c.Method)
	}
	names := map[string]bool{}
	for _, p := range m.Phases {
		if names[p.Name()] {
			return fmt.Errorf("config: method %s has two phases named %q", c.Method, p.Name())
		}
		names[p.Name()] = true
	}
	for _, n := range append(append([]string(nil), m.Prologue...), m.Epoch...) {
		if !names[n] {
			return fmt.Errorf("config: method %s runs an unknown phase %q", c.Method, n)
		}
	}
	acts, err := c.Acts()
	if err != nil {
		return err
	}
	sizes := make([]int, len(acts)+1)
	for i := range sizes {
		sizes[i] = 2
	}
	net, err := circuit.NewNetwork(sizes, acts)
	if err != nil {
		return err
	}
	env, err := NewEnv(c, m, net, 1, 0, nil)
	if err != nil {
		return err
	}
	for _, p := range m.Phases {
		if _, err := p.Start(env); err != nil {
			key := p.Name()
			if key == "train" {
				key = "dynamics"
			} else if key == "pretrain" {
				key = "pretrain.dynamics"
			} else if key == "sleep" {
				key = "sleep"
			}
			return fmt.Errorf("config: %s: %w", key, err)
		}
	}
	return nil
}

// Seed uses: every random draw of a run comes from a source whose seed is
// derived from the run's seed and one of these uses (see SubSeed).
const (
	SeedInit = iota + 1
	SeedShuffle
	SeedNoise
	SeedPretrainNoise
	SeedSleepNoise
	SeedEvalNoise
)

// SubSeed derives the seed of a use from a run's seed (splitmix64).
func SubSeed(seed uint64, use int) uint64 {
	x := seed ^ (uint64(use) * 0x9e3779b97f4a7c15)
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// NoiseSeed returns the seed of the training noise of a run with the
// given seed (the trace command uses it to draw the same noise).
func NoiseSeed(seed uint64) uint64 { return SubSeed(seed, SeedNoise) }

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

// perWindow returns the number of terms a rule normalises each update by
// when plasticity is applied several times per window: the window's T
// (the forward rule, which counts the first state) or T−1 (the feedback
// rule's pairs), less the given offset; 0 (normalise by the terms held)
// for updates at the window's end.
func (c Config) perWindow(offset int) int {
	if c.ApplyEvery == 0 {
		return 0
	}
	return c.Dynamics.Steps - offset
}

// spikingPhases gives every simulated phase of m the configuration's
// neurons and, where plasticity is applied at the window's end, its
// window-parallel chunks.
func (c Config) spikingPhases(m *Method) {
	for i, p := range m.Phases {
		if s, ok := p.(Simulated); ok {
			s.Circuit = c.neurons(s.Circuit)
			if s.Window.ApplyEvery == 0 && !s.Window.Stream {
				s.Chunks = c.Chunks
			}
			m.Phases[i] = s
		}
	}
}

// neurons sets the somata, input and transmission of a phase's circuit
// from the configuration's spiking section.
func (c Config) neurons(p circuit.Params) circuit.Params {
	sp := c.Spiking
	if sp.RateMax > 0 {
		rs, _ := p.Soma.(neuron.RateSoma)
		p.Soma = neuron.SpikingSoma{RateMax: sp.RateMax, TauSyn: sp.TauSyn, FilteredPrediction: rs.FilteredPrediction,
			Intensity: sp.LearnFrom == LearnFromIntensity && rs.FilteredPrediction}
	}
	if sp.InputRateMax > 0 {
		// Its normalisation is the data's (Env.InputNorm, set when the
		// phase is built).
		p.Input = &circuit.SpikeInput{RateMax: sp.InputRateMax, TauSyn: sp.TauSyn, Regular: sp.InputTrain == InputTrainRegular}
	}
	p.EventDriven = sp.EventDriven
	return p
}

// errorKind is the controller's error in training windows: the softmax
// error of strong feedback, the plain difference for weak DFC and for
// autoencoders.
func (c Config) errorKind() circuit.ErrorKind {
	if c.Weak() || c.Autoencoder() {
		return circuit.DifferenceError
	}
	return circuit.SoftmaxError
}

// MethodSpec returns the published method the configuration names, with its
// constants: the phases, their circuits, rules and windows, and the
// optimizers.
//
// Single-phase Strong-DFC (strong-dfc): feedback pre-training epochs (Q
// only, the pre-training dynamics with a plain-difference error, as
// published the high-pass filter and layer scaling computed with the
// training dt and τ_v), then training epochs in which the continuous
// forward rule and the feedback rule learn in the same noisy window.
//
// The two-phase methods (strong-dfc-2phase, dfc, dfc-ss, dfc-ssa) learn
// only the forward weights in training windows (from the last step, at
// every step, or from the analytic steady state in windows of one index)
// and the feedback weights in sleep windows: the sleep dynamics, an apical
// compartment with its own time constant and white noise, the feedback
// rule on the unfiltered control, the feedforward output as the
// controller's set-point (weak DFC: only noise drives it) or the label with
// the softmax error (two-phase Strong-DFC). Their pre-training epochs are
// sleep windows with the pre-training dynamics and the plain-difference
// error.
//
// bp trains by backpropagation in a single training phase.
func (c Config) MethodSpec() (Method, error) {
	m, err := c.publishedMethod()
	if err == nil {
		c.spikingPhases(&m)
	}
	return m, err
}

// publishedMethod builds the method of MethodSpec with rate neurons.
func (c Config) publishedMethod() (Method, error) {
	if !knownMethod(c.Method) {
		return Method{}, fmt.Errorf("config: unknown method %q", c.Method)
	}
	// Plasticity applied every n steps of training windows of T indices:
	// the training optimizers' constants are scaled to updates every
	// n/(T−1) of a window.
	f := 1.0
	if c.ApplyEvery > 0 {
		f = float64(c.ApplyEvery) / float64(c.Dynamics.Steps-1)
	}
	m := Method{Optimizers: []Optimizer{{Name: "forward", Of: OfForward, Config: c.Forward.Scaled(f)}}}
	loss := c.Loss()
	if c.Method == MethodBP {
		m.Phases = []Phase{Backprop{PhaseName: "train", Loss: loss, Optimizer: "forward", ClipNorm: c.ClipNorm}}
		m.Epoch = []string{"train"}
		return m, nil
	}
	fb := c.Feedback
	if !c.twoPhase() {
		fb = fb.Scaled(f) // the training windows learn the feedback weights too
	}
	m.Optimizers = append(m.Optimizers, Optimizer{Name: "feedback", Of: OfFeedback, Config: fb})
	if c.Pretrain.Epochs > 0 {
		m.Optimizers = append(m.Optimizers, Optimizer{Name: "pretrain", Of: OfFeedback, Config: c.pretrainAdam()})
	}
	d := c.Dynamics
	train := Simulated{
		PhaseName: "train",
		Circuit: circuit.Params{
			TauV: d.TauV, Alpha: d.Alpha, IntegralLeak: d.IntegralLeak, KP: d.KP, Sigma: d.Sigma, SigmaOut: d.SigmaOut,
			TauNoise: c.TauNoise, SomaSigma: c.SomaSigma, Error: c.errorKind(), Target: circuit.LabelTarget, Loss: loss,
			StreamReset: c.streamReset(),
		},
		DT: d.DT, Window: scheduler.Config{Steps: d.Steps, ApplyEvery: c.ApplyEvery, Stream: c.Stream}, NoiseSeed: SeedNoise,
	}
	if c.filtered() {
		train.Circuit.Soma = neuron.RateSoma{FilteredPrediction: true}
		train.Circuit.OutputSoma = train.Circuit.Soma
	}
	if !c.twoPhase() {
		train.Rules = []RuleSpec{
			{Rule: circuit.ContinuousForward{Depth: c.StackDepth, PerWindow: c.perWindow(0), Settle: c.ForwardSettle}, Optimizer: "forward", ClipNorm: c.ClipNorm},
			{Rule: circuit.FeedbackRule{TauF: c.TauF, LayerScaling: c.LayerScaling, Depth: c.StackDepth, PerWindow: c.perWindow(1)},
				Optimizer: "feedback", ClipNorm: c.ClipNorm},
		}
		m.Phases = append(m.Phases, train)
		m.Epoch = []string{"train"}
		if c.Pretrain.Epochs > 0 {
			pd := c.Pretrain.Dynamics
			pre := Simulated{
				PhaseName: "pretrain",
				Circuit: circuit.Params{
					TauV: pd.TauV, Alpha: pd.Alpha, IntegralLeak: pd.IntegralLeak, KP: pd.KP, Sigma: pd.Sigma, SigmaOut: pd.SigmaOut,
					TauNoise: c.TauNoise, Error: circuit.DifferenceError, Target: circuit.LabelTarget, Loss: loss,
				},
				DT: pd.DT, Window: scheduler.Config{Steps: pd.Steps}, NoiseSeed: SeedPretrainNoise,
				Rules: []RuleSpec{{Rule: circuit.FeedbackRule{
					TauF: c.TauF, FilterDT: d.DT, LayerScaling: c.LayerScaling, ScalingTauV: d.TauV, Depth: c.StackDepth,
				}, Optimizer: "pretrain", ClipNorm: c.ClipNorm}},
			}
			m.Phases = append(m.Phases, pre)
			for range c.Pretrain.Epochs {
				m.Prologue = append(m.Prologue, "pretrain")
			}
		}
		return m, nil
	}
	// The two-phase methods.
	var fwd circuit.Rule = circuit.LastStepForward{}
	switch c.Method {
	case MethodDFC:
		fwd = circuit.ContinuousForward{Depth: c.StackDepth, PerWindow: c.perWindow(0), Settle: c.ForwardSettle}
	case MethodDFCSSA:
		fwd = circuit.AnalyticForward{}
		train.Window.Steps = 1
	}
	train.Rules = []RuleSpec{{Rule: fwd, Optimizer: "forward", ClipNorm: c.ClipNorm}}
	if c.Weak() {
		train.Circuit.Target, train.Circuit.TargetStep = circuit.WeakTarget, c.TargetStep
	}
	m.Phases = append(m.Phases, train)
	sleep := func(name string, d Dynamics, opt string, seed int) Simulated {
		s := Simulated{
			PhaseName: name,
			Circuit: circuit.Params{
				TauV: d.TauV, Alpha: d.Alpha, IntegralLeak: d.IntegralLeak, KP: d.KP, Sigma: d.Sigma, SigmaOut: d.SigmaOut,
				Apical: neuron.LeakyApical{Tau: c.Sleep.ApicalTau},
				Error:  circuit.DifferenceError, Target: circuit.FeedforwardTarget, Loss: loss,
			},
			DT: d.DT, Window: scheduler.Config{Steps: d.Steps}, NoiseSeed: seed,
			Rules: []RuleSpec{{Rule: circuit.FeedbackRule{Depth: c.StackDepth}, Optimizer: opt, ClipNorm: c.ClipNorm}},
		}
		if c.Method == MethodStrongDFC2 {
			s.Circuit.Error, s.Circuit.Target = circuit.SoftmaxError, circuit.LabelTarget
		}
		return s
	}
	if c.Sleep.Before+c.Sleep.After > 0 {
		m.Phases = append(m.Phases, sleep("sleep", c.Sleep.Dynamics, "feedback", SeedSleepNoise))
	}
	for range c.Sleep.Before {
		m.Epoch = append(m.Epoch, "sleep")
	}
	m.Epoch = append(m.Epoch, "train")
	for range c.Sleep.After {
		m.Epoch = append(m.Epoch, "sleep")
	}
	if c.Pretrain.Epochs > 0 {
		pre := sleep("pretrain", c.Pretrain.Dynamics, "pretrain", SeedPretrainNoise)
		pre.Circuit.Error = circuit.DifferenceError
		m.Phases = append(m.Phases, pre)
		for range c.Pretrain.Epochs {
			m.Prologue = append(m.Prologue, "pretrain")
		}
	}
	return m, nil
}
