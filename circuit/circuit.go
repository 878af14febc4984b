package circuit

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/neuron"
	"github.com/strongdfc/strongdfc/scheduler"
	"github.com/strongdfc/strongdfc/synapse"
)

// TargetKind selects the controller's set-point r*.
type TargetKind uint8

const (
	// LabelTarget: r* is the target given to Present (strong feedback: the
	// soft label).
	LabelTarget TargetKind = iota
	// WeakTarget: r* = r_L⁻ − λ·B·∂Loss/∂r_L at the feedforward output r_L⁻,
	// a small nudge along the per-sample loss gradient (weak DFC).
	WeakTarget
	// FeedforwardTarget: r* = r_L⁻, no teaching signal (the sleep phase, in
	// which only noise drives the controller).
	FeedforwardTarget
	// NoTarget: the controller is off (u stays 0): the network runs on its
	// own, as when it is evaluated.
	NoTarget
)

// String names the target kind.
func (k TargetKind) String() string {
	switch k {
	case LabelTarget:
		return "label"
	case WeakTarget:
		return "weak"
	case FeedforwardTarget:
		return "feedforward"
	case NoTarget:
		return "none"
	}
	return fmt.Sprintf("TargetKind(%d)", uint8(k))
}

// Params are the constants of a circuit's dynamics: its neurons and its
// controller. (The time step is the clock's; plasticity is configured by
// the rules of Config.Learning.)
type Params struct {
	// TauV is the somatic time constant.
	TauV float64
	// Alpha is the controller's leak and KP its proportional gain.
	Alpha, KP float64
	// IntegralLeak is a leak β of the controller's integral alone (0: none,
	// as published; see Controller).
	IntegralLeak float64
	// Sigma is the apical noise of hidden layers, SigmaOut of the output
	// layer; TauNoise the noise filter's time constant (0: white noise).
	Sigma, SigmaOut, TauNoise float64
	// Apical is the apical compartment of every layer (nil:
	// neuron.InstantApical), Soma the soma of the hidden layers and
	// OutputSoma the output layer's (nil: neuron.RateSoma).
	Apical           neuron.ApicalModel
	Soma, OutputSoma neuron.SomaModel
	// Input presents the input as spike trains (nil: the values as given,
	// constant within a window).
	Input *SpikeInput
	// EventDriven computes the basal input of every layer whose
	// presynaptic population spikes from its spikes, at a cost in
	// proportion to them, instead of as a dense product of the decoded
	// traces; the two agree to rounding.
	EventDriven bool
	// Error and Target choose the controller's error and set-point;
	// TargetStep is λ of WeakTarget and Loss the loss it differentiates
	// (nil: CrossEntropy).
	Error      ErrorKind
	Target     TargetKind
	TargetStep float64
	Loss       Loss
	// SomaSigma is noise added to every somatic voltage at every step
	// (v += SomaSigma·ξ), for studies of noisy dynamics; 0 in the published
	// configurations.
	SomaSigma float64
	// StreamReset is what a continuing stream resets when its input and
	// target switch (Present with reset false): a diagnostic of what the
	// carried state costs. Its zero value resets nothing.
	StreamReset StreamReset
}

// StreamReset says which parts of a circuit's state a continuing stream
// resets at every switch of its input and target, as a window's start
// does: the controller (u, its integral, the error, and the feedback
// rule's filter of u) and the layers (voltages, rates, filtered noise and
// the somata's own variables). Both together make a stream's windows those
// of a run whose windows reset.
type StreamReset struct {
	Controller, Layers bool
}

// Validate reports the first impossible value (the neurons' constants are
// checked again, with dt, by the layers).
func (p Params) Validate() error {
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case !(p.TauV > 0) || !finite(p.TauV):
		return fmt.Errorf("circuit: τ_v = %g must be positive", p.TauV)
	case !(p.Alpha >= 0) || !finite(p.Alpha):
		return fmt.Errorf("circuit: controller leak α = %g must be non-negative", p.Alpha)
	case !(p.IntegralLeak >= 0) || !finite(p.IntegralLeak):
		return fmt.Errorf("circuit: the controller's integral leak β = %g must be non-negative", p.IntegralLeak)
	case !(p.KP >= 0) || !finite(p.KP):
		return fmt.Errorf("circuit: proportional gain k_p = %g must be non-negative", p.KP)
	case !(p.Sigma >= 0) || !finite(p.Sigma):
		return fmt.Errorf("circuit: noise σ = %g must be non-negative", p.Sigma)
	case !(p.SigmaOut >= 0) || !finite(p.SigmaOut):
		return fmt.Errorf("circuit: output noise σ_out = %g must be non-negative", p.SigmaOut)
	case !(p.TauNoise >= 0) || !finite(p.TauNoise):
		return fmt.Errorf("circuit: τ_noise = %g must be non-negative", p.TauNoise)
	case p.Target > NoTarget:
		return fmt.Errorf("circuit: unknown target kind %d", p.Target)
	case p.Error > DifferenceError:
		return fmt.Errorf("circuit: unknown error kind %d", p.Error)
	case p.Target == WeakTarget && (!(p.TargetStep > 0) || !finite(p.TargetStep)):
		return fmt.Errorf("circuit: weak target step λ = %g must be positive", p.TargetStep)
	case !(p.SomaSigma >= 0) || !finite(p.SomaSigma):
		return fmt.Errorf("circuit: somatic noise σ = %g must be non-negative", p.SomaSigma)
	}
	return nil
}

// LayerSigma returns the apical noise of layer i of L (SigmaOut for the
// output layer).
func (p Params) LayerSigma(i, L int) float64 {
	if i == L {
		return p.SigmaOut
	}
	return p.Sigma
}

// Learning pairs a plasticity rule with the optimizer that applies its
// gradients. The optimizer's parameters must be exactly those of the rule's
// groups; ClipNorm (0: none) limits the norm of each group's gradient.
type Learning struct {
	Rule      Rule
	Optimizer synapse.Optimizer
	ClipNorm  float64
}

// Config is everything a circuit is made of besides its network and clock.
type Config struct {
	Params
	// Learning are the plasticity rules, in the order their gradients are
	// computed and applied (none: the circuit only simulates).
	Learning []Learning
	// Noise supplies the noise (nil when the circuit has none).
	Noise neuron.NoiseSource
	// Pool runs the steps' loops and products (nil: the calling goroutine).
	Pool *compute.Pool
}

// Circuit simulates a Network for minibatches of up to a fixed size. It
// owns the order of the physics within a step; the clock it runs on
// belongs to its scheduler. It is not safe for concurrent use.
type Circuit struct {
	net      *Network
	p        Params
	clock    *scheduler.Clock
	pool     *compute.Pool
	maxBatch int

	layers []*neuron.Layer
	full   []*neuron.State // capacity maxBatch
	st     []*neuron.State // views of the current batch
	ctrlF  *Controller
	ctrl   *Controller
	xF, tF *mat.Dense
	x, tgt *mat.Dense
	batch  int

	learning []Learning
	learners []Learner
	groups   []Group
	grads    [][][]float64 // gradient buffers of each group
	owner    []int         // learning index of each group
	norms    []float64
	taps     []neuron.Taps

	pass    *Pass
	gradBuf *mat.Dense
	enc     *encoder      // spiking input (nil: the input as given)
	ev      []*eventLayer // event-driven basal input, per layer (nil: dense)
	refresh []bool        // an update changes layer i's forward weights
	stale   []bool        // layer i's basal input must be recomputed densely
	steps   int           // steps since the last Present

	// GradientHook, when set, is called by Apply after the gradients are
	// computed and before they are clipped, for diagnostics (the angle of
	// the update to backprop). It must not change anything.
	GradientHook func()
}

// New returns a circuit that simulates net on clock (whose dt is the Euler
// step) for batches of up to maxBatch samples, with the dynamics, rules,
// noise and pool of cfg.
func New(net *Network, clock *scheduler.Clock, maxBatch int, cfg Config) (*Circuit, error) {
	p := cfg.Params
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if clock == nil {
		return nil, errors.New("circuit: no clock")
	}
	if maxBatch <= 0 {
		return nil, fmt.Errorf("circuit: batch size %d must be positive", maxBatch)
	}
	if (p.Sigma > 0 || p.SigmaOut > 0 || p.SomaSigma > 0) && cfg.Noise == nil {
		return nil, errors.New("circuit: σ > 0 needs a noise source")
	}
	if r, ok := cfg.Noise.(interface{ Reserve(layers, rows int) }); ok {
		r.Reserve(net.L(), maxBatch)
	}
	if p.Loss == nil {
		p.Loss = CrossEntropy{}
	}
	L := net.L()
	c := &Circuit{net: net, p: p, clock: clock, pool: cfg.Pool, maxBatch: maxBatch}
	for i := 1; i <= L; i++ {
		soma := p.Soma
		if i == L {
			soma = p.OutputSoma
		}
		lp := neuron.Params{
			Size: net.Sizes[i], Activation: net.Acts[i-1], DT: clock.DT(), TauV: p.TauV,
			Sigma: p.LayerSigma(i, L), TauNoise: p.TauNoise, Apical: p.Apical, Soma: soma, SomaSigma: p.SomaSigma,
		}
		l, err := neuron.NewLayer(i, lp, cfg.Noise, cfg.Pool)
		if err != nil {
			return nil, fmt.Errorf("circuit: %w", err)
		}
		c.layers = append(c.layers, l)
		c.full = append(c.full, l.NewState(maxBatch))
	}
	c.ctrlF = newController(maxBatch, net.NOut(), clock.DT(), p.Alpha, p.IntegralLeak, p.KP, p.Error)
	c.xF = mat.NewDense(maxBatch, net.NIn(), nil)
	c.tF = mat.NewDense(maxBatch, net.NOut(), nil)
	c.taps = make([]neuron.Taps, L)
	c.refresh, c.stale = make([]bool, L), make([]bool, L)
	if err := c.setupSpikes(cfg.Noise); err != nil {
		return nil, err
	}
	c.setBatch(maxBatch)
	if err := c.bind(cfg.Learning); err != nil {
		return nil, err
	}
	return c, nil
}

// bind binds the rules and checks each optimizer against its rule's groups.
func (c *Circuit) bind(ls []Learning) error {
	ws := map[*float64]int{}
	for i, f := range c.net.Forward {
		ws[&f.W.RawMatrix().Data[0]] = i
	}
	for k, lr := range ls {
		if lr.Rule == nil || lr.Optimizer == nil {
			return fmt.Errorf("circuit: learning %d has no rule or no optimizer", k+1)
		}
		if !(lr.ClipNorm >= 0) || math.IsInf(lr.ClipNorm, 0) {
			return fmt.Errorf("circuit: clipping norm %g must be non-negative", lr.ClipNorm)
		}
		l, err := lr.Rule.Bind(c)
		if err != nil {
			return fmt.Errorf("circuit: %w", err)
		}
		groups := l.Groups()
		mine := map[*float64]bool{}
		for _, g := range groups {
			for _, p := range g.Params {
				if len(p.Value) == 0 || len(p.Value) != len(p.Grad) {
					return fmt.Errorf("circuit: rule %d's parameter %s has %d values and %d gradients", k+1, p.Name, len(p.Value), len(p.Grad))
				}
				mine[&p.Value[0]] = true
				if i, ok := ws[&p.Value[0]]; ok {
					c.refresh[i] = true
				}
			}
			var grads [][]float64
			for _, p := range g.Params {
				grads = append(grads, p.Grad)
			}
			c.groups = append(c.groups, g)
			c.grads = append(c.grads, grads)
			c.owner = append(c.owner, k)
		}
		ops := lr.Optimizer.Params()
		if len(ops) != len(mine) {
			return fmt.Errorf("circuit: rule %d sets the gradients of %d parameters, its optimizer updates %d", k+1, len(mine), len(ops))
		}
		for _, p := range ops {
			if len(p.Value) == 0 || !mine[&p.Value[0]] {
				return fmt.Errorf("circuit: rule %d's optimizer updates %s, whose gradient the rule does not set", k+1, p.Name)
			}
		}
		c.learning = append(c.learning, lr)
		c.learners = append(c.learners, l)
	}
	c.norms = make([]float64, len(c.groups))
	return nil
}

// Network returns the simulated network.
func (c *Circuit) Network() *Network { return c.net }

// Params returns the circuit's constants.
func (c *Circuit) Params() Params { return c.p }

// Clock returns the clock the circuit runs on.
func (c *Circuit) Clock() *scheduler.Clock { return c.clock }

// Pool returns the pool the circuit computes on (nil: the caller).
func (c *Circuit) Pool() *compute.Pool { return c.pool }

// MaxBatch returns the largest batch the circuit accepts.
func (c *Circuit) MaxBatch() int { return c.maxBatch }

// Batch returns the size of the current batch.
func (c *Circuit) Batch() int { return c.batch }

// Layer returns layer i (1..L).
func (c *Circuit) Layer(i int) *neuron.Layer { return c.layers[i-1] }

// State returns the state of layer i (1..L) for the current batch.
func (c *Circuit) State(i int) *neuron.State { return c.st[i-1] }

// Pre returns the presynaptic rates of layer i (1..L) for the current
// batch: the input (or, with spiking input, its decoded trace) for layer
// 1, the rates of layer i−1 otherwise.
func (c *Circuit) Pre(i int) *mat.Dense {
	if i == 1 {
		if c.enc != nil {
			return c.enc.trace
		}
		return c.x
	}
	return c.st[i-2].Rate
}

// Controller returns the controller and its state for the current batch.
func (c *Circuit) Controller() *Controller { return c.ctrl }

// Input returns the current input x (batch × n_0).
func (c *Circuit) Input() *mat.Dense { return c.x }

// Target returns the controller's current set-point r* (batch × n_L).
func (c *Circuit) Target() *mat.Dense { return c.tgt }

// Output returns the current output rates r_L.
func (c *Circuit) Output() *mat.Dense { return c.st[len(c.st)-1].Rate }

// StepsSincePresent returns the number of steps since the last Present.
func (c *Circuit) StepsSincePresent() int { return c.steps }

// Learners returns the bound rules, in the order of Config.Learning.
func (c *Circuit) Learners() []Learner { return c.learners }

// Groups returns every rule's parameter groups, in order.
func (c *Circuit) Groups() []Group { return c.groups }

// Norms returns the gradient norm of each group (as Groups orders them)
// before clipping, from the last ClipGradients. The slice is the
// circuit's.
func (c *Circuit) Norms() []float64 { return c.norms }

// Norm returns the last gradient norm of the group with the given name
// (NaN if there is none).
func (c *Circuit) Norm(name string) float64 {
	for i, g := range c.groups {
		if g.Name == name {
			return c.norms[i]
		}
	}
	return math.NaN()
}

// Var is a named matrix of a circuit's dynamic state.
type Var struct {
	Name string
	M    *mat.Dense
}

// StateVars returns the matrices that hold the circuit's dynamic state
// between windows, at the circuit's full capacity (maxBatch rows), by
// name: every layer's basal, apical and somatic voltages, rates, noise
// filter and the soma's own variables; the controller's u, u_int and e;
// and the state of rules that keep one (a learner implementing
// interface{ StateVars() []Var }). A stream that never resets continues
// exactly from a copy of them. The matrices are the circuit's own.
func (c *Circuit) StateVars() []Var {
	var vs []Var
	for i, st := range c.full {
		p := fmt.Sprintf("layer%d.", i+1)
		vs = append(vs, Var{p + "basal", st.Basal}, Var{p + "apical", st.Apical}, Var{p + "soma", st.Soma},
			Var{p + "rate", st.Rate}, Var{p + "noise", st.Noise})
		for j, name := range c.layers[i].Soma().Extra() {
			vs = append(vs, Var{p + name, st.Extra[j]})
		}
	}
	vs = append(vs, Var{"controller.u", c.ctrlF.U}, Var{"controller.u_int", c.ctrlF.UInt}, Var{"controller.e", c.ctrlF.E})
	if c.enc != nil {
		vs = append(vs, Var{"input.trace", c.enc.traceF}, Var{"input.spike", c.enc.spikeF})
		if c.enc.regular {
			vs = append(vs, Var{"input.phase", c.enc.phaseF})
		}
	}
	for _, l := range c.learners {
		if s, ok := l.(interface{ StateVars() []Var }); ok {
			vs = append(vs, s.StateVars()...)
		}
	}
	return vs
}

func (c *Circuit) setBatch(b int) {
	c.batch = b
	c.st = c.st[:0]
	for _, s := range c.full {
		c.st = append(c.st, s.Rows(b))
	}
	c.ctrl = c.ctrlF
	c.x, c.tgt = c.xF, c.tF
	if b != c.maxBatch {
		c.ctrl = c.ctrlF.view(b)
		c.x = c.xF.Slice(0, b, 0, c.net.NIn()).(*mat.Dense)
		c.tgt = c.tF.Slice(0, b, 0, c.net.NOut()).(*mat.Dense)
	}
	c.gradBuf = mat.NewDense(b, c.net.NOut(), nil)
	if c.enc != nil {
		c.enc.setBatch(b)
	}
}

// Present starts a window with the inputs x (batch × n_0) and, for
// LabelTarget and WeakTarget, the targets (batch × n_L; nil otherwise).
//
// With reset, the state is set to the feedforward values of x (k = 0:
// v = v_ff, r = φ(v_ff), v_fb = 0, u = u_int = 0, noise state 0). Without
// reset (samples presented as a continuous stream) the state carries over
// and only the input changes, but for what Params.StreamReset resets. Then
// every rule's Begin is called.
//
// A change of batch size discards plasticity that has not been applied.
func (c *Circuit) Present(x, target *mat.Dense, reset bool) {
	b, n := x.Dims()
	if n != c.net.NIn() {
		panic(fmt.Sprintf("circuit: Present: input has %d columns, network %d inputs", n, c.net.NIn()))
	}
	if b > c.maxBatch {
		panic(fmt.Sprintf("circuit: Present: batch of %d exceeds the circuit's maximum %d", b, c.maxBatch))
	}
	if c.p.Target != FeedforwardTarget && c.p.Target != NoTarget {
		if target == nil {
			panic("circuit: Present: this circuit's target kind needs targets")
		}
		if r, k := target.Dims(); r != b || k != c.net.NOut() {
			panic(fmt.Sprintf("circuit: Present: targets are %d×%d, want %d×%d", r, k, b, c.net.NOut()))
		}
	}
	if b != c.batch {
		c.setBatch(b)
	}
	c.x.Copy(x)
	c.steps = 0
	L := c.net.L()
	sr := c.p.StreamReset
	if c.enc != nil && (reset || sr.Layers) {
		c.enc.reset(c.x)
	}
	c.net.Forward[0].Drive(c.pool, c.st[0].Basal, c.Pre(1))
	for i := range c.stale {
		c.stale[i] = false
	}
	for _, ev := range c.ev {
		if ev != nil {
			ev.refresh()
		}
	}
	if !reset {
		// A continuing stream: the event-driven layers start from their
		// dense values at the (unchanged) state.
		for i := 2; i <= L; i++ {
			if c.ev[i-1] != nil {
				c.net.Forward[i-1].Drive(c.pool, c.st[i-1].Basal, c.Pre(i))
			}
		}
	}
	if reset || sr.Layers {
		for i := 1; i <= L; i++ {
			if i > 1 {
				c.net.Forward[i-1].Drive(c.pool, c.st[i-1].Basal, c.st[i-2].Rate)
			}
			c.layers[i-1].Reset(c.st[i-1])
		}
	}
	if reset || sr.Controller {
		c.ctrl.Reset()
	}
	switch c.p.Target {
	case LabelTarget:
		c.tgt.Copy(target)
	case WeakTarget, FeedforwardTarget:
		var out *mat.Dense
		if reset || sr.Layers {
			out = c.Output()
		} else {
			c.pass = c.net.Feedforward(c.pass, c.x)
			out = c.pass.Output()
		}
		c.tgt.Copy(out)
		if c.p.Target == WeakTarget {
			c.p.Loss.Grad(c.gradBuf, out, target)
			c.gradBuf.Scale(c.p.TargetStep*float64(b), c.gradBuf)
			c.tgt.Sub(c.tgt, c.gradBuf)
		}
	}
	for _, l := range c.learners {
		l.Begin(reset || sr.Controller)
	}
}

// Step advances the circuit by one Euler step, k → k+1, in the published
// order: the controller computes e[k] and u[k+1]; the rules take what they
// need of the controller and say what they need of the layers (taps);
// then, for layers 1..L in order, the basal input is computed from the new
// rates of the layer below (instantaneous transmission), the apical drive
// from u[k+1] (proactive controller), the layer integrates, filling the
// taps, and the rules take what it gave them (Learner.Integrated, while it
// is in cache).
func (c *Circuit) Step() {
	L := c.net.L()
	if c.p.Target != NoTarget {
		c.ctrl.Step(c.Output(), c.tgt)
	}
	for i := range c.taps {
		c.taps[i].Reset()
	}
	for _, l := range c.learners {
		l.Step(c.taps)
	}
	if c.enc != nil {
		c.enc.step()
	}
	for i := 1; i <= L; i++ {
		st := c.st[i-1]
		switch ev := c.ev[i-1]; {
		case ev != nil && !c.stale[i-1]:
			ev.step()
		case i > 1 || c.stale[i-1] || c.enc != nil:
			c.net.Forward[i-1].Drive(c.pool, st.Basal, c.Pre(i))
			if ev != nil {
				ev.refresh()
			}
		}
		c.stale[i-1] = false
		c.net.Feedback[i-1].Drive(c.pool, st.Feedback, c.ctrl.U)
		c.layers[i-1].Step(st, &c.taps[i-1])
		for _, l := range c.learners {
			l.Integrated(i)
		}
	}
	c.steps++
}

// Gradients lets every rule turn what it has accumulated into gradients in
// its parameters' buffers (GradW, GradB, GradQ of the projections) and
// empty itself.
func (c *Circuit) Gradients() {
	for _, l := range c.learners {
		l.Gradient()
	}
}

// ClipGradients clips each group's gradients jointly to its rule's
// ClipNorm and records their norms before clipping (Norms).
func (c *Circuit) ClipGradients() {
	for i, grads := range c.grads {
		c.norms[i] = synapse.ClipNorm(c.learning[c.owner[i]].ClipNorm, grads...)
	}
}

// ErrDiverged is returned (wrapped) by Apply when a gradient is not finite.
var ErrDiverged = errors.New("circuit: the simulation diverged")

// Apply computes the gradients, clips them and lets the optimizers update
// the weights. When a gradient is NaN or infinite it changes no weight and
// returns an error wrapping ErrDiverged that names the group.
func (c *Circuit) Apply() error {
	if len(c.learners) == 0 {
		return nil
	}
	c.Gradients()
	return c.ApplyGradients()
}

// ApplyGradients is Apply with the gradients already in the parameters'
// buffers (summed from the shares of a minibatch that other circuits
// simulated, for example): the gradient hook, clipping, the finiteness
// check and the optimizers' steps.
func (c *Circuit) ApplyGradients() error {
	if c.GradientHook != nil {
		c.GradientHook()
	}
	c.ClipGradients()
	for i, g := range c.groups {
		if !finite(c.norms[i]) {
			return fmt.Errorf("%w: %s gradient of layer %d is %g", ErrDiverged, g.Kind, g.Layer, c.norms[i])
		}
	}
	for _, lr := range c.learning {
		lr.Optimizer.Step()
	}
	for i, r := range c.refresh {
		if r {
			c.stale[i] = true
		}
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
