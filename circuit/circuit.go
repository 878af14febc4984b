package circuit

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/neuron"
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
	}
	return fmt.Sprintf("TargetKind(%d)", uint8(k))
}

// Params are the constants of a circuit's dynamics and plasticity.
type Params struct {
	// DT is the Euler step and TauV the somatic time constant.
	DT, TauV float64
	// Alpha is the controller's leak and KP its proportional gain.
	Alpha, KP float64
	// Sigma is the apical noise of hidden layers, SigmaOut of the output
	// layer; TauNoise the noise filter's time constant (0: white noise).
	Sigma, SigmaOut, TauNoise float64
	// ApicalTau is the apical compartment's time constant (0: instantaneous).
	ApicalTau float64
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

	// LearnForward and LearnFeedback switch the two plasticity rules on.
	LearnForward, LearnFeedback bool
	// ForwardUpdate chooses when the forward rule takes its terms: at every
	// step (Continuous, the published single-phase rule), from the last
	// step only (SteadyState, DFC-SS and two-phase Strong-DFC), or from the
	// analytic steady state without simulation (Analytic, DFC-SSA).
	ForwardUpdate ForwardUpdate
	// TauF is the time constant of the low-pass filter whose complement
	// high-passes u for the feedback rule, a_u = FilterDT/TauF; 0 uses u
	// unfiltered (the sleep phase). FilterDT 0 means DT.
	TauF, FilterDT float64
	// LayerScaling multiplies layer i's feedback rule by
	// (1 + ScalingTauV/TauNoise)^(L−i); ScalingTauV 0 means TauV.
	LayerScaling bool
	ScalingTauV  float64
	// ClipNorm is the per-layer gradient-norm limit (W and b jointly, each Q
	// alone); 0 disables clipping.
	ClipNorm float64
	// StackDepth is how many time steps a plasticity rule stacks into one
	// matrix product; 0 means DefaultStackDepth.
	StackDepth int
}

// ForwardUpdate says how the forward plasticity rule samples a window.
type ForwardUpdate uint8

const (
	// Continuous accumulates the rule at every step and averages over the
	// window.
	Continuous ForwardUpdate = iota
	// SteadyState takes the rule's term from the last step only:
	// ∇W = −(2/B)·δ[T−1]ᵀ r_pre[T−1].
	SteadyState
	// Analytic takes it from the linearised steady state
	// u = (J·Q̄ + α·I)⁻¹·δ_L at the feedforward state, Δv = Q̄·u propagated
	// layer by layer (v_i = Δv_i + W_i·r_{i−1} + b_i), without simulating.
	Analytic
)

// String names the update kind.
func (f ForwardUpdate) String() string {
	switch f {
	case Continuous:
		return "continuous"
	case SteadyState:
		return "steady-state"
	case Analytic:
		return "analytic"
	}
	return fmt.Sprintf("ForwardUpdate(%d)", uint8(f))
}

// DefaultStackDepth is the number of time steps stacked per plasticity
// product when Params.StackDepth is 0.
const DefaultStackDepth = 10

// Validate reports the first impossible value.
func (p Params) Validate() error {
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	switch {
	case !(p.DT > 0) || !finite(p.DT):
		return fmt.Errorf("circuit: time step dt = %g must be positive", p.DT)
	case !(p.TauV > 0) || !finite(p.TauV):
		return fmt.Errorf("circuit: τ_v = %g must be positive", p.TauV)
	case p.DT > p.TauV:
		return fmt.Errorf("circuit: dt = %g is larger than τ_v = %g; use dt ≤ τ_v", p.DT, p.TauV)
	case !(p.Alpha >= 0) || !finite(p.Alpha):
		return fmt.Errorf("circuit: controller leak α = %g must be non-negative", p.Alpha)
	case !(p.KP >= 0) || !finite(p.KP):
		return fmt.Errorf("circuit: proportional gain k_p = %g must be non-negative", p.KP)
	case !(p.Sigma >= 0) || !finite(p.Sigma):
		return fmt.Errorf("circuit: noise σ = %g must be non-negative", p.Sigma)
	case !(p.SigmaOut >= 0) || !finite(p.SigmaOut):
		return fmt.Errorf("circuit: output noise σ_out = %g must be non-negative", p.SigmaOut)
	case !(p.TauNoise >= 0) || !finite(p.TauNoise):
		return fmt.Errorf("circuit: τ_noise = %g must be non-negative", p.TauNoise)
	case !(p.TauF >= 0) || !finite(p.TauF):
		return fmt.Errorf("circuit: τ_f = %g must be non-negative", p.TauF)
	case p.TauF > 0 && p.TauNoise > p.TauF:
		return fmt.Errorf("circuit: τ_noise = %g is larger than τ_f = %g; the high-pass filter would remove the noise correlation the feedback rule needs (use τ_noise ≤ τ_f)", p.TauNoise, p.TauF)
	case !(p.FilterDT >= 0) || !finite(p.FilterDT):
		return fmt.Errorf("circuit: filter dt = %g must be non-negative", p.FilterDT)
	case p.TauF > 0 && p.filterDT() > p.TauF:
		return fmt.Errorf("circuit: dt = %g is larger than τ_f = %g", p.filterDT(), p.TauF)
	case p.LayerScaling && !(p.TauNoise > 0):
		return errors.New("circuit: layer scaling needs τ_noise > 0")
	case !(p.ScalingTauV >= 0) || !finite(p.ScalingTauV):
		return fmt.Errorf("circuit: scaling τ_v = %g must be non-negative", p.ScalingTauV)
	case p.Target > FeedforwardTarget:
		return fmt.Errorf("circuit: unknown target kind %d", p.Target)
	case p.Error > DifferenceError:
		return fmt.Errorf("circuit: unknown error kind %d", p.Error)
	case p.Target == WeakTarget && (!(p.TargetStep > 0) || !finite(p.TargetStep)):
		return fmt.Errorf("circuit: weak target step λ = %g must be positive", p.TargetStep)
	case !(p.ClipNorm >= 0) || !finite(p.ClipNorm):
		return fmt.Errorf("circuit: clipping norm %g must be non-negative", p.ClipNorm)
	case p.StackDepth < 0:
		return fmt.Errorf("circuit: stack depth %d must be non-negative", p.StackDepth)
	case !(p.SomaSigma >= 0) || !finite(p.SomaSigma):
		return fmt.Errorf("circuit: somatic noise σ = %g must be non-negative", p.SomaSigma)
	case p.ForwardUpdate > Analytic:
		return fmt.Errorf("circuit: unknown forward update %d", p.ForwardUpdate)
	}
	return nil
}

func (p Params) filterDT() float64 {
	if p.FilterDT > 0 {
		return p.FilterDT
	}
	return p.DT
}

// LayerScale returns the factor c_i of layer i's feedback rule: (1 +
// τ_v/τ_noise)^(L−i) when layer scaling is on, else 1.
func (p Params) LayerScale(i, L int) float64 {
	if !p.LayerScaling {
		return 1
	}
	tv := p.ScalingTauV
	if tv == 0 {
		tv = p.TauV
	}
	return math.Pow(1+tv/p.TauNoise, float64(L-i))
}

// Circuit simulates a Network for minibatches of up to a fixed size.
// It is not safe for concurrent use.
type Circuit struct {
	net      *Network
	p        Params
	maxBatch int

	layers []*neuron.Layer
	full   []*neuron.State // capacity maxBatch
	st     []*neuron.State // views of the current batch
	ctrlF  *Controller
	ctrl   *Controller
	xF, tF *mat.Dense
	x, tgt *mat.Dense
	batch  int

	fwdRules []*synapse.ForwardRule
	fbRules  []*synapse.FeedbackRule
	fwdOpt   synapse.Optimizer
	fbOpt    synapse.Optimizer

	pass               *Pass
	gradBuf            *mat.Dense
	taps               neuron.Taps
	diff, rate, apical neuron.Strided
	basal1Stale        bool
	steps              int // steps since the last Present

	// FwdNorms and FbNorms are the per-layer gradient norms before clipping
	// of the last Apply.
	FwdNorms, FbNorms []float64
	// GradientHook, when set, is called by Apply after the gradients are
	// computed and before they are clipped, for diagnostics (the angle of
	// the update to backprop). It must not change anything.
	GradientHook func()
	ssTerm       []*mat.Dense // scratch of the steady-state forward update
	anaU         *mat.Dense   // the analytic update's control, batch × n_L
}

// New returns a circuit that simulates net with constants p for batches of
// up to maxBatch samples. noise supplies the apical noise (it may be nil
// when both σ are 0). fwdOpt and fbOpt apply the forward and feedback
// updates; each may be nil when the matching rule is off.
func New(net *Network, p Params, maxBatch int, noise neuron.NoiseSource, fwdOpt, fbOpt synapse.Optimizer) (*Circuit, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if maxBatch <= 0 {
		return nil, fmt.Errorf("circuit: batch size %d must be positive", maxBatch)
	}
	if p.LearnForward && fwdOpt == nil {
		return nil, errors.New("circuit: forward learning is on but there is no forward optimizer")
	}
	if p.LearnFeedback && fbOpt == nil {
		return nil, errors.New("circuit: feedback learning is on but there is no feedback optimizer")
	}
	if (p.Sigma > 0 || p.SigmaOut > 0 || p.SomaSigma > 0) && noise == nil {
		return nil, errors.New("circuit: σ > 0 needs a noise source")
	}
	if r, ok := noise.(interface{ Reserve(layers, rows int) }); ok {
		r.Reserve(net.L(), maxBatch)
	}
	if p.Loss == nil {
		p.Loss = CrossEntropy{}
	}
	depth := p.StackDepth
	if depth == 0 {
		depth = DefaultStackDepth
	}
	L := net.L()
	c := &Circuit{net: net, p: p, maxBatch: maxBatch, fwdOpt: fwdOpt, fbOpt: fbOpt}
	for i := 1; i <= L; i++ {
		sigma := p.Sigma
		if i == L {
			sigma = p.SigmaOut
		}
		lp := neuron.Params{
			Size: net.Sizes[i], Activation: net.Acts[i-1], DT: p.DT, TauV: p.TauV,
			Sigma: sigma, TauNoise: p.TauNoise, ApicalTau: p.ApicalTau, SomaSigma: p.SomaSigma,
		}
		l, err := neuron.NewLayer(i, lp, noise)
		if err != nil {
			return nil, fmt.Errorf("circuit: %w", err)
		}
		c.layers = append(c.layers, l)
		c.full = append(c.full, neuron.NewState(maxBatch, net.Sizes[i]))
		if p.LearnForward {
			c.fwdRules = append(c.fwdRules, synapse.NewForwardRule(net.Sizes[i], net.Sizes[i-1], maxBatch, depth, i == 1))
		}
		if p.LearnFeedback {
			scale := synapse.FeedbackScale(sigma, p.LayerScale(i, L))
			c.fbRules = append(c.fbRules, synapse.NewFeedbackRule(net.Sizes[i], net.NOut(), maxBatch, depth, scale))
		}
	}
	au := 0.0
	if p.TauF > 0 {
		au = p.filterDT() / p.TauF
	}
	c.ctrlF = newController(maxBatch, net.NOut(), p.DT, p.Alpha, p.KP, au, p.Error)
	c.xF = mat.NewDense(maxBatch, net.NIn(), nil)
	c.tF = mat.NewDense(maxBatch, net.NOut(), nil)
	c.FwdNorms = make([]float64, L)
	c.FbNorms = make([]float64, L)
	c.setBatch(maxBatch)
	return c, nil
}

// Network returns the simulated network.
func (c *Circuit) Network() *Network { return c.net }

// Params returns the circuit's constants.
func (c *Circuit) Params() Params { return c.p }

// DT returns the Euler time step.
func (c *Circuit) DT() float64 { return c.p.DT }

// MaxBatch returns the largest batch the circuit accepts.
func (c *Circuit) MaxBatch() int { return c.maxBatch }

// Batch returns the size of the current batch.
func (c *Circuit) Batch() int { return c.batch }

// Layer returns layer i (1..L).
func (c *Circuit) Layer(i int) *neuron.Layer { return c.layers[i-1] }

// State returns the state of layer i (1..L) for the current batch.
func (c *Circuit) State(i int) *neuron.State { return c.st[i-1] }

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
	for _, r := range c.fwdRules {
		r.SetBatch(b)
	}
	for _, r := range c.fbRules {
		r.SetBatch(b)
	}
	c.gradBuf = mat.NewDense(b, c.net.NOut(), nil)
}

// Present starts a window with the inputs x (batch × n_0) and, for
// LabelTarget and WeakTarget, the targets (batch × n_L; nil otherwise).
//
// With reset, the state is set to the feedforward values of x (k = 0:
// v = v_ff, r = φ(v_ff), v_fb = 0, u = u_int = 0, noise state 0) and the
// forward rules count the k = 0 term, which is exactly zero. Without reset
// (samples presented as a continuous stream) the state carries over and
// only the input changes.
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
	if c.p.Target != FeedforwardTarget {
		if target == nil {
			panic("circuit: Present: this circuit's target kind needs targets")
		}
		if r, k := target.Dims(); r != b || k != c.net.NOut() {
			panic(fmt.Sprintf("circuit: Present: targets are %d×%d, want %d×%d", r, k, b, c.net.NOut()))
		}
	}
	if b != c.batch {
		c.setBatch(b)
	} else if len(c.fwdRules) > 0 {
		c.fwdRules[0].Fold() // the constant input is about to change
	}
	c.x.Copy(x)
	c.steps = 0
	L := c.net.L()
	c.net.Forward[0].Drive(c.st[0].Basal, c.x)
	c.basal1Stale = false
	if reset {
		for i := 1; i <= L; i++ {
			if i > 1 {
				c.net.Forward[i-1].Drive(c.st[i-1].Basal, c.st[i-2].Rate)
			}
			c.layers[i-1].Reset(c.st[i-1])
		}
		c.ctrl.Reset()
		if c.continuous() {
			for _, r := range c.fwdRules {
				r.CountZero()
			}
		}
	}
	for i, r := range c.fbRules {
		r.Begin(c.st[i].Apical)
	}
	switch c.p.Target {
	case LabelTarget:
		c.tgt.Copy(target)
	case WeakTarget, FeedforwardTarget:
		var out *mat.Dense
		if reset {
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
}

// Step advances the circuit by one Euler step, k → k+1: the controller
// computes e[k] and u[k+1]; the feedback rules take the pair (v_fb[k],
// u_hp[k+1]); then, for layers 1..L in order, the basal input is computed
// from the new rates of the layer below (instantaneous transmission), the
// apical drive from u[k+1] (proactive controller), the layer integrates,
// and the forward rule takes (δ[k+1], r_{i−1}[k+1]).
func (c *Circuit) Step() {
	L := c.net.L()
	c.ctrl.Step(c.Output(), c.tgt)
	uhp := c.ctrl.UHP
	if c.p.TauF == 0 {
		uhp = c.ctrl.U
	}
	for _, r := range c.fbRules {
		r.Accumulate(uhp)
	}
	for i := 1; i <= L; i++ {
		st := c.st[i-1]
		pre := c.x
		if i > 1 {
			pre = c.st[i-2].Rate
		}
		if i > 1 || c.basal1Stale {
			c.net.Forward[i-1].Drive(st.Basal, pre)
		}
		c.net.Feedback[i-1].Drive(st.Feedback, c.ctrl.U)
		// The taps hand this layer's δ, rates and apical voltage to the
		// plasticity rules that use them, while they are in cache.
		c.taps = neuron.Taps{}
		if c.continuous() {
			c.diff = neuron.Strided(c.fwdRules[i-1].DiffSlot())
			c.taps.Diff = &c.diff
			if i < L {
				c.rate = neuron.Strided(c.fwdRules[i].PreSlot())
				c.taps.Rate = &c.rate
			}
		}
		if c.p.LearnFeedback {
			c.apical = neuron.Strided(c.fbRules[i-1].ApicalSlot())
			c.taps.Apical = &c.apical
		}
		c.layers[i-1].Step(st, &c.taps)
		if c.continuous() {
			if i == 1 {
				c.fwdRules[0].Commit(c.x)
			} else {
				c.fwdRules[i-1].Commit(nil)
			}
		}
	}
	c.basal1Stale = false
	c.steps++
}

// Gradients turns what the plasticity rules have accumulated into gradients
// in the network's projections (GradW, GradB, GradQ) and empties the rules.
func (c *Circuit) Gradients() {
	switch c.p.ForwardUpdate {
	case SteadyState:
		c.steadyStateTerms()
	case Analytic:
		if err := c.analyticTerms(); err != nil {
			// A singular J·Q̄ + αI: no forward update for this window.
			for _, r := range c.fwdRules {
				r.Reset()
			}
		}
	}
	for i, r := range c.fwdRules {
		r.Gradient(c.net.Forward[i])
	}
	for i, r := range c.fbRules {
		r.Gradient(c.net.Feedback[i])
	}
}

// ClipGradients clips the gradients per layer (W and b jointly, Q alone)
// and records their norms before clipping in FwdNorms and FbNorms.
func (c *Circuit) ClipGradients() {
	for i := range c.net.Forward {
		if c.p.LearnForward {
			f := c.net.Forward[i]
			c.FwdNorms[i] = synapse.ClipNorm(c.p.ClipNorm, f.GradW.RawMatrix().Data, f.GradB.RawVector().Data)
		}
		if c.p.LearnFeedback {
			c.FbNorms[i] = synapse.ClipNorm(c.p.ClipNorm, c.net.Feedback[i].GradQ.RawMatrix().Data)
		}
	}
}

// ErrDiverged is returned (wrapped) by Apply when a gradient is not finite.
var ErrDiverged = errors.New("circuit: the simulation diverged")

// Apply computes the gradients, clips them and lets the optimizers update
// the weights. When a gradient is NaN or infinite it changes nothing and
// returns an error wrapping ErrDiverged that names the layer.
func (c *Circuit) Apply() error {
	c.Gradients()
	if c.GradientHook != nil {
		c.GradientHook()
	}
	c.ClipGradients()
	for i := range c.net.Forward {
		if c.p.LearnForward && !finite(c.FwdNorms[i]) {
			return fmt.Errorf("%w: forward gradient of layer %d is %g", ErrDiverged, i+1, c.FwdNorms[i])
		}
		if c.p.LearnFeedback && !finite(c.FbNorms[i]) {
			return fmt.Errorf("%w: feedback gradient of layer %d is %g", ErrDiverged, i+1, c.FbNorms[i])
		}
	}
	if c.p.LearnForward {
		c.fwdOpt.Step()
		c.basal1Stale = true
	}
	if c.p.LearnFeedback {
		c.fbOpt.Step()
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// continuous reports whether the forward rule accumulates at every step.
func (c *Circuit) continuous() bool {
	return c.p.LearnForward && c.p.ForwardUpdate == Continuous
}

// steadyStateTerms gives each forward rule the one term of the current
// (last) state: δ = φ(v) − φ(v_ff) with the layer's presynaptic rates.
func (c *Circuit) steadyStateTerms() {
	for i, r := range c.fwdRules {
		st := c.st[i]
		d := c.scratch(i)
		act := c.net.Acts[i]
		dd, v, vff := d.RawMatrix(), st.Soma.RawMatrix(), st.Basal.RawMatrix()
		for b := range dd.Rows {
			dr, vr, fr := dd.Data[b*dd.Stride:][:dd.Cols], v.Data[b*v.Stride:][:dd.Cols], vff.Data[b*vff.Stride:][:dd.Cols]
			for j := range dr {
				dr[j] = act.Eval(vr[j]) - act.Eval(fr[j])
			}
		}
		pre := c.x
		if i > 0 {
			pre = c.st[i-1].Rate
		}
		r.Reset()
		r.Push(d, pre)
	}
}

// AnalyticControl returns the control u_ss of every sample of the last
// analytic update (nil before one), batch × n_L.
func (c *Circuit) AnalyticControl() *mat.Dense { return c.anaU }

// scratch returns a batch × n_i matrix for layer i (0-based).
func (c *Circuit) scratch(i int) *mat.Dense {
	if c.ssTerm == nil {
		c.ssTerm = make([]*mat.Dense, c.net.L())
	}
	if c.ssTerm[i] == nil || c.ssTerm[i].RawMatrix().Rows != c.batch {
		c.ssTerm[i] = mat.NewDense(c.batch, c.net.Sizes[i+1], nil)
	}
	return c.ssTerm[i]
}

// analyticTerms gives each forward rule the term of the linearised steady
// state of the current batch (see Analytic). The controller's error at the
// feedforward output, δ_L = r* − f(r_L⁻), is what the linear system sees.
func (c *Circuit) analyticTerms() error {
	pass := c.net.Feedforward(nil, c.x)
	L := c.net.L()
	out := pass.Output()
	e := mat.NewDense(c.batch, c.net.NOut(), nil)
	for b := range c.batch {
		er, y, t := e.RawRowView(b), out.RawRowView(b), c.tgt.RawRowView(b)
		if c.p.Error == SoftmaxError {
			softmaxRow(er, y)
			for j := range er {
				er[j] = t[j] - er[j]
			}
		} else {
			for j := range er {
				er[j] = t[j] - y[j]
			}
		}
	}
	// u and Δv for every sample, layers stacked.
	dv := mat.NewDense(c.batch, c.net.Hidden(), nil)
	c.anaU = mat.NewDense(c.batch, c.net.NOut(), nil)
	for b := range c.batch {
		u, d, err := c.net.SteadyState(pass, b, e.RawRowView(b), c.p.Alpha)
		if err != nil {
			return err
		}
		dv.SetRow(b, d)
		c.anaU.SetRow(b, u)
	}
	offs := c.net.offsets()
	pre := c.x
	for i := 1; i <= L; i++ {
		n := c.net.Sizes[i]
		vff := mat.NewDense(c.batch, n, nil)
		c.net.Forward[i-1].Drive(vff, pre)
		v := mat.NewDense(c.batch, n, nil)
		v.Add(vff, dv.Slice(0, c.batch, offs[i-1], offs[i-1]+n))
		act := c.net.Acts[i-1]
		r := mat.NewDense(c.batch, n, nil)
		act.Apply(r.RawMatrix().Data, v.RawMatrix().Data)
		d := c.scratch(i - 1)
		act.Apply(d.RawMatrix().Data, vff.RawMatrix().Data)
		d.Sub(r, d)
		c.fwdRules[i-1].Reset()
		c.fwdRules[i-1].Push(d, pre)
		pre = r
	}
	return nil
}
