package circuit

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/neuron"
	"github.com/strongdfc/strongdfc/synapse"
)

// A Rule is a plasticity rule's configuration: a value that can be
// compared and printed. Bind makes a Learner of it for one circuit.
//
// Plasticity works like this, for every rule alike (the model is Nengo's:
// each rule writes its own delta, one operator applies them): during a
// window, at every step, the rule says which per-step quantities of which
// layers it needs (taps, see neuron.Taps) and accumulates them; when the
// circuit applies plasticity (at the window's end, or every n steps),
// each rule turns what it has accumulated into gradients in its
// parameters' buffers, and Circuit.Apply clips every group and lets each
// rule's optimizer step.
type Rule interface {
	// Bind allocates the rule's buffers for circuit c (its network, its
	// maximum batch, its pool) and returns the bound rule.
	Bind(c *Circuit) (Learner, error)
}

// A Learner is a rule bound to a circuit. The circuit calls its methods
// in this order: Begin at every Present; at every step, Step (after the
// controller, before the layers) and Integrated(i) after each layer i has
// integrated; Gradient when plasticity is applied.
type Learner interface {
	// Groups returns the parameters whose gradients Gradient sets, in
	// groups that are clipped jointly.
	Groups() []Group
	// Begin starts a window: the circuit's input, targets and (with reset)
	// state are set. A learner whose batch size changed (Circuit.Batch)
	// discards what it has accumulated.
	Begin(reset bool)
	// Step is called after the controller has computed u[k+1]; the learner
	// adds to taps[i-1] where it wants quantities of layer i's new state.
	Step(taps []neuron.Taps)
	// Integrated is called when layer i (1..L) has integrated and filled
	// its taps; Integrated(L) ends the step.
	Integrated(i int)
	// Gradient sets the gradients of the groups from what was accumulated
	// since the last call and empties the learner.
	Gradient()
}

// A Group is a set of parameters whose gradients are clipped jointly: the
// forward W and b of one layer, or its Q.
type Group struct {
	// Name identifies the group in diagnostics (e.g. "forward_layer1").
	Name string
	// Kind is what the parameters are ("forward" or "feedback" for the
	// projections of a layer) and Layer the layer (1..L).
	Kind  string
	Layer int
	// Params are the parameters, views of the projections' storage.
	Params []synapse.Param
}

// forwardGroups returns one group (W_i, b_i) per layer.
func forwardGroups(net *Network) []Group {
	var gs []Group
	for i, f := range net.Forward {
		gs = append(gs, Group{Name: fmt.Sprintf("forward_layer%d", i+1), Kind: "forward", Layer: i + 1,
			Params: f.Params(fmt.Sprintf("layer%d.", i+1))})
	}
	return gs
}

// DefaultStackDepth is the number of time steps stacked per plasticity
// product when a rule's Depth is 0.
const DefaultStackDepth = 10

func depthOr(d int) (int, error) {
	switch {
	case d < 0:
		return 0, fmt.Errorf("stack depth %d must be non-negative", d)
	case d == 0:
		return DefaultStackDepth, nil
	}
	return d, nil
}

// ContinuousForward is the forward rule of single-phase Strong-DFC and of
// DFC: at every step it accumulates the postsynaptic mismatch
// δ = φ(v) − φ(v_ff) (neuron.TapMismatch) times the presynaptic rates, and
// sets
//
//	∇W = −(2/(B·T)) Σ_k δ[k]ᵀ r_pre[k],   ∇b = −(2/(B·T)) Σ_k Σ_batch δ[k],
//
// T counting the steps since the last update, the window's first state
// (k = 0, where δ is exactly zero after a reset) included. The factor 2
// and the sign are the published convention, which the published learning
// rates assume. Depth is the number of steps stacked per product (0:
// DefaultStackDepth).
//
// When plasticity is applied several times per window (every n steps),
// PerWindow > 0 normalises every application's sum by PerWindow (the
// window's T) instead of by the steps it holds, so that the applications
// of a window add up to the window-end gradient: plain SGD then makes the
// same change to first order in its learning rate.
//
// Settle > 0 makes the rule record nothing in the first Settle steps after
// every presentation of a sample (Circuit.Present): on a stream, while the
// somata still carry the previous sample's push and the layers' rates move
// to the new input, the mismatch pairs one sample's error with another's
// activity. Those steps then count as zero terms (the normalisation is
// unchanged), as a gate that closes at every change of input would make
// them.
type ContinuousForward struct {
	Depth     int
	PerWindow int
	Settle    int
}

// Bind returns the bound rule.
func (r ContinuousForward) Bind(c *Circuit) (Learner, error) {
	depth, err := depthOr(r.Depth)
	if err != nil {
		return nil, err
	}
	if r.PerWindow < 0 {
		return nil, fmt.Errorf("forward rule: steps per window %d must be non-negative", r.PerWindow)
	}
	if r.Settle < 0 {
		return nil, fmt.Errorf("forward rule: settling steps %d must be non-negative", r.Settle)
	}
	l, err := newForwardLearner(c, depth, forwardContinuous)
	if err == nil {
		for _, s := range l.sums {
			s.perWindow = r.PerWindow
		}
		l.settle = r.Settle
	}
	return l, err
}

// LastStepForward takes the forward rule's term from the window's last
// state only, ∇W = −(2/B)·δ[T−1]ᵀ r_pre[T−1] (DFC-SS and two-phase
// Strong-DFC).
type LastStepForward struct{}

// Bind returns the bound rule.
func (LastStepForward) Bind(c *Circuit) (Learner, error) {
	return newForwardLearner(c, 1, forwardLastStep)
}

// AnalyticForward takes the forward rule's term from the linearised steady
// state of the controlled network, u = (J·Q̄ + α·I)⁻¹·δ_L at the
// feedforward state, Δv = Q̄·u propagated layer by layer
// (v_i = Δv_i + W_i·r_{i−1} + b_i), without simulating (DFC-SSA; its
// windows need no steps). δ_L = r* − f(r_L⁻) is the controller's error at
// the feedforward output. When J·Q̄ + α·I is singular the update is zero.
// The bound rule reports the steady-state control (SteadyControl).
type AnalyticForward struct{}

// Bind returns the bound rule.
func (AnalyticForward) Bind(c *Circuit) (Learner, error) {
	return newForwardLearner(c, 1, forwardAnalytic)
}

// SteadyControl is implemented by learners that compute the controller's
// steady-state control themselves instead of simulating it.
type SteadyControl interface {
	// Control returns the control u_ss of every sample of the last
	// update (nil before one), batch × n_L.
	Control() *mat.Dense
}

type forwardMode uint8

const (
	forwardContinuous forwardMode = iota
	forwardLastStep
	forwardAnalytic
)

// forwardLearner is the bound forward rule of every mode: one accumulator
// per layer.
type forwardLearner struct {
	c     *Circuit
	mode  forwardMode
	sums  []*forwardSum
	batch int
	// settle is ContinuousForward.Settle; since counts the steps since
	// the last presentation, and quiet says that this step is not
	// recorded.
	settle, since int
	quiet         bool
	terms         []*mat.Dense // scratch: one term per layer (last-step, analytic)
	anaU          *mat.Dense
}

func newForwardLearner(c *Circuit, depth int, mode forwardMode) (*forwardLearner, error) {
	net := c.Network()
	l := &forwardLearner{c: c, mode: mode, batch: c.MaxBatch()}
	for i := 1; i <= net.L(); i++ {
		// The input layer's presynaptic rate is constant within a window,
		// unless the input spikes.
		l.sums = append(l.sums, newForwardSum(c.Pool(), net.Sizes[i], net.Sizes[i-1], c.MaxBatch(), depth, i == 1 && !c.InputVaries()))
	}
	return l, nil
}

func (l *forwardLearner) Groups() []Group { return forwardGroups(l.c.Network()) }

func (l *forwardLearner) Begin(reset bool) {
	b := l.c.Batch()
	if b != l.batch {
		l.batch = b
		for _, s := range l.sums {
			s.SetBatch(b)
		}
	} else {
		l.sums[0].Fold() // the constant input is about to change
	}
	l.sums[0].SetPre(l.c.Input())
	l.since = 0
	if reset && l.mode == forwardContinuous {
		for _, s := range l.sums {
			s.CountZero()
		}
	}
}

func (l *forwardLearner) Step(taps []neuron.Taps) {
	if l.mode != forwardContinuous {
		return
	}
	l.since++
	if l.quiet = l.since <= l.settle; l.quiet {
		for _, s := range l.sums {
			s.CountZero()
		}
		return
	}
	for i, s := range l.sums {
		taps[i].Add(neuron.TapMismatch, s.DiffSlot())
		if i+1 < len(l.sums) {
			taps[i].Add(neuron.TapRate, l.sums[i+1].PreSlot())
		}
	}
}

// Integrated commits layer i's step. (Committing each layer as soon as it
// has stepped, rather than all at the step's end, keeps its stack in cache
// when it is multiplied out: 8 % of a step on this project's machine.)
func (l *forwardLearner) Integrated(i int) {
	if l.mode != forwardContinuous || l.quiet {
		return
	}
	if i == 1 && l.c.InputVaries() {
		l.sums[0].corr.SetB(l.c.Pre(1)) // the input's trace of this step
	}
	l.sums[i-1].Commit()
}

func (l *forwardLearner) Gradient() {
	switch l.mode {
	case forwardLastStep:
		l.lastStepTerms()
	case forwardAnalytic:
		if err := l.analyticTerms(); err != nil {
			// A singular J·Q̄ + αI: no forward update for this window.
			for _, s := range l.sums {
				s.Reset()
			}
		}
	}
	for i, s := range l.sums {
		s.Gradient(l.c.Network().Forward[i])
	}
}

// term returns the scratch term of layer i (0-based), batch × n_i.
func (l *forwardLearner) term(i int) *mat.Dense {
	if l.terms == nil {
		l.terms = make([]*mat.Dense, len(l.sums))
	}
	if l.terms[i] == nil || l.terms[i].RawMatrix().Rows != l.c.Batch() {
		l.terms[i] = mat.NewDense(l.c.Batch(), l.c.Network().Sizes[i+1], nil)
	}
	return l.terms[i]
}

// lastStepTerms gives each layer the one term of the current (last) state:
// the soma's mismatch with the layer's presynaptic rates.
func (l *forwardLearner) lastStepTerms() {
	for i, s := range l.sums {
		d := l.term(i)
		l.c.Layer(i+1).Mismatch(d, l.c.State(i+1))
		s.Reset()
		s.Push(d, l.c.Pre(i+1))
	}
}

// Control returns the steady-state control of the last analytic update.
func (l *forwardLearner) Control() *mat.Dense {
	if l.mode != forwardAnalytic {
		return nil
	}
	return l.anaU
}

// analyticTerms gives each layer the term of the linearised steady state
// of the current batch (see AnalyticForward).
func (l *forwardLearner) analyticTerms() error {
	c, net := l.c, l.c.Network()
	x, B := c.Input(), c.Batch()
	pass := net.Feedforward(nil, x)
	L := net.L()
	out := pass.Output()
	e := mat.NewDense(B, net.NOut(), nil)
	for b := range B {
		er, y, t := e.RawRowView(b), out.RawRowView(b), c.Target().RawRowView(b)
		if c.Params().Error == SoftmaxError {
			SoftmaxRow(er, y)
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
	dv := mat.NewDense(B, net.Hidden(), nil)
	l.anaU = mat.NewDense(B, net.NOut(), nil)
	for b := range B {
		u, d, err := net.SteadyState(pass, b, e.RawRowView(b), c.Params().Alpha)
		if err != nil {
			return err
		}
		dv.SetRow(b, d)
		l.anaU.SetRow(b, u)
	}
	offs := net.offsets()
	pre := x
	for i := 1; i <= L; i++ {
		n := net.Sizes[i]
		vff := mat.NewDense(B, n, nil)
		net.Forward[i-1].Drive(c.Pool(), vff, pre)
		v := mat.NewDense(B, n, nil)
		v.Add(vff, dv.Slice(0, B, offs[i-1], offs[i-1]+n))
		// The soma's mismatch at the steady-state voltages: a state whose
		// basal voltage is v_ff and whose rate is φ(v).
		st := neuron.NewState(B, n, len(c.Layer(i).Soma().Extra()))
		st.Basal.Copy(vff)
		net.Acts[i-1].Apply(st.Rate.RawMatrix().Data, v.RawMatrix().Data)
		d := l.term(i - 1)
		c.Layer(i).Mismatch(d, st)
		l.sums[i-1].Reset()
		l.sums[i-1].Push(d, pre)
		pre = st.Rate
	}
	return nil
}

// FeedbackRule is the plasticity of the feedback weights: it correlates
// each layer's (noisy) apical voltage with the high-passed control one
// step later and sets
//
//	∇Q_i = (s_i/(B·T)) Σ_k v_fb,i[k]ᵀ u_hp[k+1],
//
// which the optimizer descends. u_hp = u − u_lp, u_lp the low-pass of u
// with coefficient FilterDT/TauF (FilterDT 0: the clock's dt), started at
// the first u after a reset; TauF 0 uses u unfiltered (the sleep phase).
// s_i = c_i / max(σ_i, 0.01)², with c_i = (1 + τ_v/τ_noise)^(L−i) when
// LayerScaling is on (τ_v = ScalingTauV, or the circuit's when 0) and 1
// otherwise. Depth is the number of steps stacked per product (0:
// DefaultStackDepth). PerWindow > 0 normalises every application's sum by
// PerWindow (a window's T−1 pairs) instead of by the pairs it holds, as
// ContinuousForward's.
type FeedbackRule struct {
	TauF, FilterDT float64
	LayerScaling   bool
	ScalingTauV    float64
	Depth          int
	PerWindow      int
}

// Validate reports an impossible value, given the circuit's dt and noise
// time constant.
func (r FeedbackRule) Validate(dt, tauNoise float64) error {
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	fdt := r.FilterDT
	if fdt == 0 {
		fdt = dt
	}
	switch {
	case !(r.TauF >= 0) || !finite(r.TauF):
		return fmt.Errorf("feedback rule: τ_f = %g must be non-negative", r.TauF)
	case r.TauF > 0 && tauNoise > r.TauF:
		return fmt.Errorf("feedback rule: τ_noise = %g is larger than τ_f = %g; the high-pass filter would remove the noise correlation the feedback rule needs (use τ_noise ≤ τ_f)", tauNoise, r.TauF)
	case !(r.FilterDT >= 0) || !finite(r.FilterDT):
		return fmt.Errorf("feedback rule: filter dt = %g must be non-negative", r.FilterDT)
	case r.TauF > 0 && fdt > r.TauF:
		return fmt.Errorf("feedback rule: dt = %g is larger than τ_f = %g", fdt, r.TauF)
	case r.LayerScaling && !(tauNoise > 0):
		return fmt.Errorf("feedback rule: layer scaling needs τ_noise > 0")
	case !(r.ScalingTauV >= 0) || !finite(r.ScalingTauV):
		return fmt.Errorf("feedback rule: scaling τ_v = %g must be non-negative", r.ScalingTauV)
	case r.Depth < 0:
		return fmt.Errorf("feedback rule: stack depth %d must be non-negative", r.Depth)
	case r.PerWindow < 0:
		return fmt.Errorf("feedback rule: pairs per window %d must be non-negative", r.PerWindow)
	}
	return nil
}

// LayerScale returns the factor c_i of layer i of L for a circuit with
// somatic time constant tauV and noise time constant tauNoise.
func (r FeedbackRule) LayerScale(i, L int, tauV, tauNoise float64) float64 {
	if !r.LayerScaling {
		return 1
	}
	tv := r.ScalingTauV
	if tv == 0 {
		tv = tauV
	}
	return math.Pow(1+tv/tauNoise, float64(L-i))
}

// FeedbackScale is the published scale of the feedback rule of a layer:
// 1/max(σ, 0.01)² times the layer scaling factor.
func FeedbackScale(sigma, layerScaling float64) float64 {
	s := math.Max(sigma, 0.01)
	return layerScaling / (s * s)
}

// Bind validates the rule and returns it bound to c.
func (r FeedbackRule) Bind(c *Circuit) (Learner, error) {
	p := c.Params()
	dt := c.Clock().DT()
	if err := r.Validate(dt, p.TauNoise); err != nil {
		return nil, err
	}
	depth, _ := depthOr(r.Depth)
	net := c.Network()
	L := net.L()
	l := &feedbackLearner{c: c, batch: c.MaxBatch()}
	if r.TauF > 0 {
		fdt := r.FilterDT
		if fdt == 0 {
			fdt = dt
		}
		l.au = fdt / r.TauF
		l.lpF = mat.NewDense(c.MaxBatch(), net.NOut(), nil)
		l.hpF = mat.NewDense(c.MaxBatch(), net.NOut(), nil)
		l.lp, l.hp = l.lpF, l.hpF
	}
	for i := 1; i <= L; i++ {
		scale := FeedbackScale(p.LayerSigma(i, L), r.LayerScale(i, L, p.TauV, p.TauNoise))
		l.sums = append(l.sums, &feedbackSum{corr: compute.NewCorrelator(c.Pool(), net.NOut(), net.Sizes[i], c.MaxBatch(), depth, false), scale: scale, perWindow: r.PerWindow})
		l.groups = append(l.groups, Group{Name: fmt.Sprintf("feedback_layer%d", i), Kind: "feedback", Layer: i,
			Params: net.Feedback[i-1].Params(fmt.Sprintf("layer%d.", i))})
	}
	return l, nil
}

// feedbackLearner is the bound FeedbackRule.
type feedbackLearner struct {
	c        *Circuit
	sums     []*feedbackSum
	groups   []Group
	batch    int
	au       float64
	lpF, hpF *mat.Dense // the filter's state, capacity maxBatch
	lp, hp   *mat.Dense // views of the current batch
	started  bool
	startedM *mat.Dense // started, 1×1, once StateVars was asked for
}

func (l *feedbackLearner) Groups() []Group { return l.groups }

// Scale returns the rule's scale s_i of layer i (1..L).
func (l *feedbackLearner) Scale(i int) float64 { return l.sums[i-1].scale }

// Filter returns the low- and high-passed control of the current batch
// (nil without a filter).
func (l *feedbackLearner) Filter() (lp, hp *mat.Dense) { return l.lp, l.hp }

// StateVars returns the filter's state: u_lp, u_hp (full capacity) and
// whether it has started (1×1, 0 or 1).
func (l *feedbackLearner) StateVars() []Var {
	if l.lpF == nil {
		return nil
	}
	if l.startedM == nil {
		l.startedM = mat.NewDense(1, 1, nil)
		if l.started {
			l.startedM.Set(0, 0, 1)
		}
	}
	return []Var{{"feedback.u_lp", l.lpF}, {"feedback.u_hp", l.hpF}, {"feedback.started", l.startedM}}
}

func (l *feedbackLearner) Begin(reset bool) {
	if l.startedM != nil {
		// A state restored from a checkpoint says whether the filter ran.
		l.started = l.startedM.At(0, 0) != 0
	}
	b := l.c.Batch()
	if b != l.batch {
		l.batch = b
		for _, s := range l.sums {
			s.corr.SetBatch(b)
			s.corr.Reset()
		}
		if l.lpF != nil {
			n := l.c.Network().NOut()
			l.lp = l.lpF.Slice(0, b, 0, n).(*mat.Dense)
			l.hp = l.hpF.Slice(0, b, 0, n).(*mat.Dense)
			if b == l.c.MaxBatch() {
				l.lp, l.hp = l.lpF, l.hpF
			}
		}
	}
	if reset {
		if l.lp != nil {
			l.lp.Zero()
			l.hp.Zero()
		}
		l.started = false
		if l.startedM != nil {
			l.startedM.Set(0, 0, 0)
		}
	}
	for i, s := range l.sums {
		s.corr.SetB(l.c.State(i + 1).Apical) // v_fb[k], the first half of the next pair
	}
}

// filter advances u_lp and u_hp to the controller's new u and returns what
// the rule correlates: u_hp, or u without a filter.
func (l *feedbackLearner) filter() *mat.Dense {
	u := l.c.Controller().U
	if l.lp == nil {
		return u
	}
	b, n := u.Dims()
	au := l.au
	for i := range b {
		ur, lp, hp := u.RawRowView(i), l.lp.RawRowView(i), l.hp.RawRowView(i)
		for j := range n {
			if l.started {
				lp[j] = au*ur[j] + (1-au)*lp[j]
			} else {
				lp[j] = ur[j]
			}
			hp[j] = ur[j] - lp[j]
		}
	}
	l.started = true
	if l.startedM != nil {
		l.startedM.Set(0, 0, 1)
	}
	return l.hp
}

func (l *feedbackLearner) Step(taps []neuron.Taps) {
	uhp := l.filter()
	for i, s := range l.sums {
		s.corr.SetA(uhp)
		s.corr.Commit()
		taps[i].Add(neuron.TapApical, s.corr.SlotB())
	}
}

func (l *feedbackLearner) Integrated(int) {}

func (l *feedbackLearner) Gradient() {
	for i, s := range l.sums {
		s.Gradient(l.c.Network().Feedback[i])
	}
}

// feedbackSum accumulates Σ_k v_fb[k]ᵀ·u_hp[k+1] for one layer. It stacks
// the narrow u_hp as the correlator's A and v_fb as its B, and transposes
// the sum at the end.
type feedbackSum struct {
	corr      *compute.Correlator
	scale     float64
	perWindow int // when positive, normalises the sum instead of the pairs
}

// Gradient sets f.GradQ from what has been accumulated and empties the sum.
func (r *feedbackSum) Gradient(f *synapse.Feedback) {
	sum := r.corr.Sum()
	if t := r.corr.Terms(); t > 0 {
		if r.perWindow > 0 {
			t = r.perWindow
		}
		f.GradQ.Scale(r.scale/(float64(r.corr.Batch())*float64(t)), sum.T())
	} else {
		f.GradQ.Zero()
	}
	r.corr.Reset()
}

// forwardSum accumulates Σ_k δ[k]ᵀ·r_pre[k] for one layer's forward
// projection. When the presynaptic rate is constant over a window (the
// input layer, r_0 = x), it sums δ alone (one product per input instead
// of one per stack of steps).
type forwardSum struct {
	pool     *compute.Pool
	out, in  int
	constPre bool
	corr     *compute.Correlator // time-varying presynaptic rates
	// constant presynaptic rates:
	dsum   *mat.Dense // Σ_k δ[k] for the current pre
	dsumV  *mat.Dense // dsum's view for the current batch
	preF   *mat.Dense // the current pre, capacity maxBatch
	pre    *mat.Dense // its view
	dirty  bool       // dsum holds terms not yet folded
	sumW   *mat.Dense // Σ over earlier values of pre
	colSum []float64
	terms  int
	// perWindow, when positive, normalises the sum instead of terms.
	perWindow int
}

func newForwardSum(pool *compute.Pool, out, in, maxBatch, depth int, constPre bool) *forwardSum {
	r := &forwardSum{pool: pool, out: out, in: in, constPre: constPre}
	if constPre {
		r.dsum = mat.NewDense(maxBatch, out, nil)
		r.preF = mat.NewDense(maxBatch, in, nil)
		r.sumW = mat.NewDense(out, in, nil)
		r.colSum = make([]float64, out)
		r.SetBatch(maxBatch)
	} else {
		r.corr = compute.NewCorrelator(pool, out, in, maxBatch, depth, true)
	}
	return r
}

// SetBatch sets the number of samples of the next steps and empties the
// sum.
func (r *forwardSum) SetBatch(batch int) {
	if r.constPre {
		rows, _ := r.dsum.Dims()
		if batch <= 0 || batch > rows {
			panic(fmt.Sprintf("circuit: forward rule batch %d out of range 1..%d", batch, rows))
		}
		r.dsumV = r.dsum.Slice(0, batch, 0, r.out).(*mat.Dense)
		r.pre = r.preF.Slice(0, batch, 0, r.in).(*mat.Dense)
	} else {
		r.corr.SetBatch(batch)
	}
	r.Reset()
}

// Reset discards what has been accumulated.
func (r *forwardSum) Reset() {
	r.terms = 0
	if r.constPre {
		r.dsum.Zero()
		r.sumW.Zero()
		clear(r.colSum)
		r.dirty = false
		return
	}
	r.corr.Reset()
}

// SetPre sets the constant presynaptic rate of the next steps (for a sum
// with a constant presynaptic rate; Fold first what the previous one
// accumulated).
func (r *forwardSum) SetPre(pre *mat.Dense) {
	if r.constPre {
		r.pre.Copy(pre)
	}
}

// DiffSlot returns where the postsynaptic layer writes this step's δ.
func (r *forwardSum) DiffSlot() compute.Strided {
	if r.constPre {
		return compute.StridedOf(r.dsumV, true)
	}
	return r.corr.SlotA()
}

// PreSlot returns where the presynaptic layer writes this step's rates
// (not for a sum with a constant presynaptic rate).
func (r *forwardSum) PreSlot() compute.Strided {
	if r.constPre {
		panic("circuit: PreSlot of a forward rule with a constant presynaptic rate")
	}
	return r.corr.SlotB()
}

// Commit records the step whose δ (and rates) were written into the slots.
func (r *forwardSum) Commit() {
	r.terms++
	if r.constPre {
		r.dirty = true
		return
	}
	r.corr.Commit()
}

// Push adds one term δᵀ·pre given as batch-major matrices (the updates
// that take one term per window).
func (r *forwardSum) Push(delta, pre *mat.Dense) {
	r.terms++
	if r.constPre {
		r.dsumV.Add(r.dsumV, delta)
		r.pre.Copy(pre)
		r.dirty = true
		return
	}
	r.corr.Push(delta, pre)
}

// CountZero counts a step whose δ is exactly zero (the first step of a
// window that starts at the feedforward state) without any arithmetic.
func (r *forwardSum) CountZero() { r.terms++ }

// Fold adds what was accumulated with the current constant presynaptic
// rate to the sum, so that the rate may change (a new input in a stream).
func (r *forwardSum) Fold() {
	if r.constPre {
		r.foldConst()
	}
}

// foldConst adds dsumᵀ·pre to sumW and restarts dsum.
func (r *forwardSum) foldConst() {
	if !r.dirty {
		return
	}
	r.pool.Gemm(blas.Trans, blas.NoTrans, 1, r.dsumV.RawMatrix(), r.pre.RawMatrix(), 1, r.sumW.RawMatrix())
	addColSums(r.colSum, r.dsumV.RawMatrix())
	r.dsumV.Zero()
}

func addColSums(dst []float64, a blas64.General) {
	for i := range a.Rows {
		row := a.Data[i*a.Stride : i*a.Stride+a.Cols]
		for j, x := range row {
			dst[j] += x
		}
	}
}

// Gradient sets f.GradW and f.GradB from what has been accumulated and
// empties the sum. With nothing accumulated the gradients are zero.
func (r *forwardSum) Gradient(f *synapse.Forward) {
	if out, in := f.Dims(); out != r.out || in != r.in {
		panic(fmt.Sprintf("circuit: forward rule is %d×%d, projection %d×%d", r.out, r.in, out, in))
	}
	var sum *mat.Dense
	var colSum []float64
	var batch int
	if r.constPre {
		r.foldConst()
		sum, colSum = r.sumW, r.colSum
		batch, _ = r.dsumV.Dims()
	} else {
		sum, colSum = r.corr.Sum(), r.corr.ASum()
		batch = r.corr.Batch()
	}
	if r.terms == 0 {
		f.GradW.Zero()
		f.GradB.Zero()
		r.Reset()
		return
	}
	n := r.terms
	if r.perWindow > 0 {
		n = r.perWindow
	}
	scale := -2 / (float64(batch) * float64(n))
	r.pool.Scale(f.GradW.RawMatrix().Data, scale, sum.RawMatrix().Data)
	gb := f.GradB.RawVector().Data
	for j, x := range colSum {
		gb[j] = scale * x
	}
	r.Reset()
}
