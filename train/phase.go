package train

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/dataset"
	"github.com/strongdfc/strongdfc/neuron"
	"github.com/strongdfc/strongdfc/scheduler"
	"github.com/strongdfc/strongdfc/synapse"
)

// A Phase is one kind of epoch of a method: a specification that Start
// turns into a Runner for a run. Simulated (windows of a circuit) and
// Backprop are the phases of the published methods.
type Phase interface {
	// Name names the phase in metrics, histories and checkpoints
	// ("pretrain", "sleep", "train").
	Name() string
	// Start builds the phase's machinery for the run described by env.
	Start(env *Env) (Runner, error)
}

// Env is what a phase is built from: the run's network, the largest
// minibatch, the method's optimizers by name, the run's seed, the task's
// loss and the worker pool.
type Env struct {
	Net        *circuit.Network
	Batch      int
	Optimizers map[string]synapse.Optimizer
	Seed       uint64
	Loss       circuit.Loss
	// Classify says whether targets are soft labels whose accuracy is
	// measured (false for an autoencoder).
	Classify bool
	Pool     *compute.Pool
	// InputNorm is the normalisation the presented samples carry (the
	// data's); input spike trains undo it to find each pixel's rate and
	// decode their traces back to it (circuit.SpikeInput).
	InputNorm dataset.Norm
}

// NewEnv returns the environment of a run of configuration c and method m
// on net: the method's optimizers over net's parameters, for minibatches
// of up to batch samples, with the run's seed and pool, for samples
// normalised as c's data set is loaded (Config.InputNorm).
func NewEnv(c Config, m Method, net *circuit.Network, batch int, seed uint64, pool *compute.Pool) (*Env, error) {
	env := &Env{Net: net, Batch: batch, Optimizers: map[string]synapse.Optimizer{}, Seed: seed,
		Loss: c.Loss(), Classify: !c.Autoencoder(), Pool: pool, InputNorm: c.InputNorm()}
	for _, o := range m.Optimizers {
		var ps []synapse.Param
		switch o.Of {
		case OfForward:
			ps = net.ForwardParams()
		case OfFeedback:
			ps = net.FeedbackParams()
		default:
			return nil, fmt.Errorf("optimizer %s: unknown parameters %q (want %s or %s)", o.Name, o.Of, OfForward, OfFeedback)
		}
		if _, dup := env.Optimizers[o.Name]; dup {
			return nil, fmt.Errorf("two optimizers named %s", o.Name)
		}
		a, err := o.Config.newOptimizer(ps, pool)
		if err != nil {
			return nil, fmt.Errorf("optimizer %s: %w", o.Name, err)
		}
		env.Optimizers[o.Name] = a
	}
	return env, nil
}

// optimizer returns the named optimizer.
func (e *Env) optimizer(name string) (synapse.Optimizer, error) {
	o, ok := e.Optimizers[name]
	if !ok {
		return nil, fmt.Errorf("no optimizer named %q", name)
	}
	return o, nil
}

// A Runner runs one phase's minibatches.
type Runner interface {
	// Window trains on one minibatch (x with its targets) and reports the
	// feedforward loss and accuracy before the update and the amount of
	// control.
	Window(x, targets *mat.Dense) (WindowResult, error)
	// Groups are the parameter groups the phase updates and Norms their
	// gradient norms before clipping in the last window.
	Groups() []circuit.Group
	Norms() []float64
	// Circuit returns the simulated circuit (nil for a phase without one).
	Circuit() *circuit.Circuit
	// State returns what a checkpoint keeps of the phase (its clock and
	// noise); CheckState reports whether a state fits, and SetState
	// restores one (checked before).
	State() (PhaseState, error)
	CheckState(PhaseState) error
	SetState(PhaseState)
	// Release lets the phase's buffers go (it will not run again); its
	// state stays.
	Release()
}

// WindowResult is what a Runner reports of a window.
type WindowResult struct {
	// Loss and Accuracy of the feedforward output (before the update)
	// against the targets (accuracy NaN when not classifying).
	Loss, Accuracy float64
	// Control is the amount of control H of the window (0 without a
	// controller).
	Control float64
}

// PhaseState is the state of a phase that a checkpoint keeps: its clock's
// step count and its noise source's state and, for a phase whose samples
// come as a stream, whether the stream has started and the circuit's
// dynamic state (circuit.Circuit.StateVars: name → row-major values).
type PhaseState struct {
	Name    string
	Clock   int64
	Noise   []byte
	Started bool
	Vars    map[string][]float64
}

// RuleSpec puts a plasticity rule in a phase with the optimizer (by name)
// that applies it and the norm its groups' gradients are clipped to (0:
// none).
type RuleSpec struct {
	Rule      circuit.Rule
	Optimizer string
	ClipNorm  float64
}

// Simulated is a phase whose minibatches are windows of a circuit: its
// dynamics, its rules, its window (steps, when plasticity is applied,
// whether samples come as a stream) and its noise.
type Simulated struct {
	PhaseName string
	Circuit   circuit.Params
	// DT is the Euler step: the phase's clock is made with it.
	DT     float64
	Window scheduler.Config
	Rules  []RuleSpec
	// NoiseSeed is the seed use (SeedNoise, ...) from which the phase's
	// noise source's seed is derived.
	NoiseSeed int
	// Chunks > 1 runs each minibatch window-parallel in that many chunks
	// (plasticity applied at the window's end only; see chunkedRunner).
	Chunks int
}

// Name names the phase.
func (s Simulated) Name() string { return s.PhaseName }

// Build makes the phase's clock, circuit (with its rules bound to env's
// optimizers) and scheduler: the one builder of circuits that training,
// the benchmark and the trace share. The noise comes from noise, or when
// it is nil from a Gaussian source seeded from the run's seed and the
// phase's NoiseSeed, which Build returns.
func (s Simulated) Build(env *Env, noise neuron.NoiseSource) (*circuit.Circuit, *scheduler.Scheduler, neuron.NoiseSource, error) {
	clk, err := scheduler.NewClock(s.DT)
	if err != nil {
		return nil, nil, nil, err
	}
	if noise == nil {
		noise = neuron.NewGaussian(SubSeed(env.Seed, s.NoiseSeed))
	}
	cfg := circuit.Config{Params: s.Circuit, Noise: noise, Pool: env.Pool}
	if s.Circuit.Input != nil {
		in := *s.Circuit.Input
		in.Mean, in.Std = env.InputNorm.Mean, env.InputNorm.Std
		cfg.Params.Input = &in
	}
	for _, r := range s.Rules {
		opt, err := env.optimizer(r.Optimizer)
		if err != nil {
			return nil, nil, nil, err
		}
		cfg.Learning = append(cfg.Learning, circuit.Learning{Rule: r.Rule, Optimizer: opt, ClipNorm: r.ClipNorm})
	}
	c, err := circuit.New(env.Net, clk, env.Batch, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	sch, err := scheduler.New(s.Window, clk)
	if err != nil {
		return nil, nil, nil, err
	}
	return c, sch, noise, nil
}

// Start builds the phase.
func (s Simulated) Start(env *Env) (Runner, error) {
	if s.Chunks > 1 && env.Batch > 1 {
		if s.Window.ApplyEvery > 0 || s.Window.Stream {
			return nil, errors.New("window-parallel chunks need plasticity applied at the window's end and windows that reset")
		}
		spec := s
		spec.Chunks = 0
		return spec.startChunked(env, s.Chunks)
	}
	c, sch, noise, err := s.Build(env, nil)
	if err != nil {
		return nil, err
	}
	r := &simRunner{env: env, c: c, s: sch, noise: noise.(*neuron.Gaussian), stream: s.Window.Stream,
		uBar: mat.NewDense(env.Batch, env.Net.NOut(), nil)}
	sch.Observe(1, r.observer(s.Window.Steps))
	return r, nil
}

// simRunner runs a Simulated phase.
type simRunner struct {
	env    *Env
	c      *circuit.Circuit
	s      *scheduler.Scheduler
	noise  *neuron.Gaussian
	stream bool // the circuit's state carries from window to window
	// What the observer records of the window under way.
	x, targets *mat.Dense
	pass       *circuit.Pass // a stream's feedforward pass of x
	last       WindowResult
	uBar       *mat.Dense
	ubView     *mat.Dense // uBar's first rows, one per sample of the window (uBar is set once, when the runner is built)
	uCount     int
}

func (r *simRunner) Circuit() *circuit.Circuit { return r.c }
func (r *simRunner) Groups() []circuit.Group   { return r.c.Groups() }
func (r *simRunner) Norms() []float64          { return r.c.Norms() }

// observer returns the scheduler observer of windows of T time indices.
// At k = 0 it records the loss and accuracy of the feedforward output
// against the targets (the circuit's state then, when windows reset; a
// feedforward pass of the window's input in a stream, whose state at k = 0
// is still the previous sample's); over the last quarter of the window it
// averages the control u, and at the last step it computes the amount of
// control from that average.
func (r *simRunner) observer(T int) scheduler.Observer {
	from := T - max(T/4, 1)
	return func(k int, _ *scheduler.Clock) {
		c := r.c
		if k == 0 {
			out := c.Output()
			if r.stream && r.x != nil {
				r.pass = c.Network().Feedforward(r.pass, r.x)
				out = r.pass.Output()
			}
			r.last.Loss = r.env.Loss.Value(out, r.targets)
			r.last.Accuracy = accuracy(r.env, out, r.targets)
			r.uCount = 0
		}
		if k < from {
			return
		}
		u := c.Controller().U
		b, n := u.Dims()
		if r.ubView == nil || r.ubView.RawMatrix().Rows != b {
			// Sliced again only when the batch changes (an epoch's last,
			// shorter minibatch): Slice allocates.
			r.ubView = r.uBar.Slice(0, b, 0, n).(*mat.Dense)
		}
		ub := r.ubView
		if r.uCount == 0 {
			ub.Copy(u)
		} else {
			ub.Add(ub, u)
		}
		r.uCount++
		if k == T-1 {
			ub.Scale(1/float64(r.uCount), ub)
			r.last.Control = c.Network().ControlH(ub)
		}
	}
}

func accuracy(env *Env, out, targets *mat.Dense) float64 {
	if !env.Classify {
		return nanValue
	}
	return circuit.Accuracy(out, targets)
}

func (r *simRunner) Window(x, targets *mat.Dense) (WindowResult, error) {
	r.x, r.targets = x, targets
	err := r.s.Window(r.c, x, targets)
	r.x, r.targets = nil, nil
	for _, l := range r.c.Learners() {
		if sc, ok := l.(circuit.SteadyControl); ok {
			if u := sc.Control(); u != nil {
				r.last.Control = r.env.Net.ControlH(u)
			}
		}
	}
	return r.last, err
}

func (r *simRunner) State() (PhaseState, error) {
	b, err := r.noise.MarshalBinary()
	st := PhaseState{Clock: r.s.Clock().Step(), Noise: b}
	if r.stream && r.c != nil {
		st.Started = r.s.Started()
		st.Vars = map[string][]float64{}
		for _, v := range r.c.StateVars() {
			st.Vars[v.Name] = slices.Clone(v.M.RawMatrix().Data)
		}
	}
	return st, err
}

// CheckState checks the clock and the noise state (a state without noise,
// as of a phase that has finished, keeps the source as it is) and a
// stream's variables.
func (r *simRunner) CheckState(s PhaseState) error {
	sh, err := r.stateShape()
	if err != nil {
		return err
	}
	return sh.check(s)
}

// stateShape returns what the runner's states look like.
func (r *simRunner) stateShape() (stateShape, error) {
	b, err := r.noise.MarshalBinary()
	if err != nil {
		return stateShape{}, err
	}
	sh := stateShape{noise: len(b)}
	if r.stream && r.c != nil {
		sh.vars = map[string]int{}
		for _, v := range r.c.StateVars() {
			rows, cols := v.M.Dims()
			sh.vars[v.Name] = rows * cols
		}
	}
	return sh, nil
}

// stateShape is what the states of a Simulated phase's runner look like:
// what CheckState needs of the runner, kept so that a phase that is not
// built can check a state without building its circuits (lazyRunner).
type stateShape struct {
	noise int            // bytes of the noise source's state
	vars  map[string]int // a stream's variables and their sizes (nil: not a stream)
}

// check reports whether s fits a runner of this shape.
func (sh stateShape) check(s PhaseState) error {
	if s.Clock < 0 {
		return fmt.Errorf("clock at step %d", s.Clock)
	}
	if s.Noise != nil {
		var h neuron.Gaussian
		if err := h.UnmarshalBinary(s.Noise); err != nil {
			return fmt.Errorf("noise: %v", err)
		}
		if len(s.Noise) != sh.noise {
			return fmt.Errorf("noise has a state of %d bytes, this run's source %d (different layers or batch)", len(s.Noise), sh.noise)
		}
	}
	if sh.vars == nil {
		if s.Vars != nil {
			return errors.New("a stream's state, but this phase resets its state every window")
		}
		return nil
	}
	if s.Vars == nil {
		if s.Started {
			return errors.New("a stream under way without its state")
		}
		return nil
	}
	if len(s.Vars) != len(sh.vars) {
		return fmt.Errorf("a stream state of %d variables, this circuit has %d", len(s.Vars), len(sh.vars))
	}
	for _, name := range slices.Sorted(maps.Keys(sh.vars)) {
		got, ok := s.Vars[name]
		if !ok {
			return fmt.Errorf("the stream state has no %s", name)
		}
		if len(got) != sh.vars[name] {
			return fmt.Errorf("the stream state's %s has %d values, want %d", name, len(got), sh.vars[name])
		}
	}
	return nil
}

func (r *simRunner) SetState(s PhaseState) {
	r.s.Clock().SetStep(s.Clock)
	if s.Noise != nil {
		if err := r.noise.UnmarshalBinary(s.Noise); err != nil {
			panic(err) // checked before
		}
	}
	if r.stream && r.c != nil {
		r.s.SetStarted(s.Started)
		for _, v := range r.c.StateVars() {
			if data, ok := s.Vars[v.Name]; ok {
				copy(v.M.RawMatrix().Data, data)
			}
		}
	}
}

func (r *simRunner) Release() { r.c, r.uBar, r.ubView = nil, nil, nil }

// Backprop is a phase that trains the forward weights by backpropagation
// of the loss through the feedforward network (the baseline): per-layer
// clipping of the gradients and a step of the named optimizer.
type Backprop struct {
	PhaseName string
	Loss      circuit.Loss
	Optimizer string
	ClipNorm  float64
}

// Name names the phase.
func (b Backprop) Name() string { return b.PhaseName }

// Start builds the phase.
func (b Backprop) Start(env *Env) (Runner, error) {
	opt, err := env.optimizer(b.Optimizer)
	if err != nil {
		return nil, err
	}
	if b.Loss == nil {
		return nil, errors.New("backprop phase without a loss")
	}
	r := &bpRunner{env: env, spec: b, opt: opt}
	for i, f := range env.Net.Forward {
		r.grads.W = append(r.grads.W, f.GradW)
		r.grads.B = append(r.grads.B, f.GradB)
		r.groups = append(r.groups, circuit.Group{Name: fmt.Sprintf("forward_layer%d", i+1), Kind: "forward", Layer: i + 1,
			Params: f.Params(fmt.Sprintf("layer%d.", i+1))})
	}
	r.norms = make([]float64, len(r.groups))
	return r, nil
}

// bpRunner runs a Backprop phase.
type bpRunner struct {
	env    *Env
	spec   Backprop
	opt    synapse.Optimizer
	grads  circuit.Grads // views of the projections' gradient buffers
	groups []circuit.Group
	norms  []float64
}

func (r *bpRunner) Circuit() *circuit.Circuit     { return nil }
func (r *bpRunner) Groups() []circuit.Group       { return r.groups }
func (r *bpRunner) Norms() []float64              { return r.norms }
func (r *bpRunner) State() (PhaseState, error)    { return PhaseState{}, nil }
func (r *bpRunner) CheckState(s PhaseState) error { return nil }
func (r *bpRunner) SetState(PhaseState)           {}
func (r *bpRunner) Release()                      {}

// Window takes one backprop step: gradients of the batch-mean loss, clipped
// per layer, one optimizer step.
func (r *bpRunner) Window(x, targets *mat.Dense) (WindowResult, error) {
	net := r.env.Net
	out := net.Predict(x)
	res := WindowResult{Loss: r.env.Loss.Value(out, targets), Accuracy: accuracy(r.env, out, targets)}
	net.Backprop(r.grads, x, targets, r.spec.Loss)
	for i, f := range net.Forward {
		r.norms[i] = synapse.ClipNorm(r.spec.ClipNorm, f.GradW.RawMatrix().Data, f.GradB.RawVector().Data)
		if !finite(r.norms[i]) {
			return res, fmt.Errorf("%w: backprop gradient of layer %d is %g", circuit.ErrDiverged, i+1, r.norms[i])
		}
	}
	r.opt.Step()
	return res, nil
}

// collector is the optimizer of a chunk's rules: it keeps the gradients
// where the rules put them and changes nothing (the chunked runner sums
// them and applies them once).
type collector struct{ params []synapse.Param }

func (o collector) Step()                                 {}
func (o collector) Params() []synapse.Param               { return o.params }
func (o collector) State() synapse.OptimizerState         { return synapse.OptimizerState{} }
func (o collector) SetState(synapse.OptimizerState) error { return nil }

// chunk is one share of a minibatch: rows [lo, hi) simulated by a circuit
// of their own on a shadow of the network, on one worker.
type chunk struct {
	lo, hi int
	net    *circuit.Network
	c      *circuit.Circuit
	s      *scheduler.Scheduler
	obs    *simRunner // its observer's records
	err    error
}

// chunkedRunner runs a Simulated phase window-parallel: the minibatch is
// cut into a fixed number of chunks, each of which runs the whole window on
// one worker with single-threaded products and no barrier, and their
// gradients are summed in a fixed order and applied once. Results depend
// on the number of chunks, never on the number of workers.
type chunkedRunner struct {
	*simRunner // the master circuit: parameters, optimizers, clipping
	chunks     []*chunk
	body       chunkBody
	x, tg      *mat.Dense
}

func (s Simulated) startChunked(env *Env, chunks int) (Runner, error) {
	// The master simulates nothing: a circuit of one row holds its
	// parameters' groups, optimizers and clock (a full minibatch's buffers
	// there would double the memory of the chunks' for nothing).
	menv := *env
	menv.Batch = 1
	master, err := s.Start(&menv)
	if err != nil {
		return nil, err
	}
	r := &chunkedRunner{simRunner: master.(*simRunner)}
	k := min(chunks, env.Batch)
	for i := range k {
		lo, hi := i*env.Batch/k, (i+1)*env.Batch/k
		net := env.Net.Shadow()
		cenv := *env
		cenv.Net, cenv.Batch, cenv.Pool = net, hi-lo, nil
		cenv.Optimizers = map[string]synapse.Optimizer{}
		spec := s
		spec.Rules = nil
		for _, rs := range s.Rules {
			// The chunk's rule writes into the shadow's buffers of the
			// parameters the master's optimizer updates.
			name := rs.Optimizer + "#chunk"
			o, err := env.optimizer(rs.Optimizer)
			if err != nil {
				return nil, err
			}
			ps := net.ForwardParams()
			if sameParams(o.Params(), env.Net.FeedbackParams()) {
				ps = net.FeedbackParams()
			}
			cenv.Optimizers[name] = collector{ps}
			spec.Rules = append(spec.Rules, RuleSpec{Rule: rs.Rule, Optimizer: name})
		}
		c, sch, _, err := spec.Build(&cenv, neuron.Offset{Src: r.noise, Row: lo})
		if err != nil {
			return nil, err
		}
		obs := &simRunner{env: &cenv, c: c, s: sch, uBar: mat.NewDense(hi-lo, env.Net.NOut(), nil)}
		sch.Observe(1, obs.observer(s.Window.Steps))
		r.chunks = append(r.chunks, &chunk{lo: lo, hi: hi, net: net, c: c, s: sch, obs: obs})
	}
	r.body.r = r
	return r, nil
}

type chunkBody struct{ r *chunkedRunner }

// Range runs chunks lo..hi-1, one after the other, on the calling worker.
func (b *chunkBody) Range(lo, hi int) {
	r := b.r
	bsz, _ := r.x.Dims()
	for i := lo; i < hi; i++ {
		ch := r.chunks[i]
		ch.err = nil
		a, z := min(ch.lo, bsz), min(ch.hi, bsz)
		if a == z {
			continue
		}
		x := r.x.Slice(a, z, 0, r.x.RawMatrix().Cols).(*mat.Dense)
		tg := r.tg.Slice(a, z, 0, r.tg.RawMatrix().Cols).(*mat.Dense)
		ch.obs.targets = tg
		ch.err = ch.s.Window(ch.c, x, tg)
	}
}

// Window runs the chunks of the minibatch in parallel, sums their
// gradients (each weighted by its share of the rows) into the master's
// parameters and applies them.
func (r *chunkedRunner) Window(x, targets *mat.Dense) (WindowResult, error) {
	r.x, r.tg = x, targets
	r.env.Pool.Run(len(r.chunks), 1, &r.body)
	for _, ch := range r.chunks {
		if ch.err != nil {
			return WindowResult{}, ch.err
		}
	}
	b, _ := x.Dims()
	return r.reduce(b)
}

// reduce sums the chunks' gradients of a window of b rows, each weighted
// by its share of the rows, in the chunks' order into the master's
// parameters, and applies them: the serial part of a window-parallel
// window.
func (r *chunkedRunner) reduce(b int) (WindowResult, error) {
	var res WindowResult
	first := true
	for _, ch := range r.chunks {
		n := min(ch.hi, b) - min(ch.lo, b)
		if n == 0 {
			continue
		}
		w := float64(n) / float64(b)
		res.Loss += w * ch.obs.last.Loss
		res.Accuracy += w * ch.obs.last.Accuracy
		res.Control += w * ch.obs.last.Control
		for gi, g := range ch.c.Groups() {
			for pi, p := range g.Params {
				dst := r.c.Groups()[gi].Params[pi].Grad
				if first {
					for j, v := range p.Grad {
						dst[j] = w * v
					}
				} else {
					for j, v := range p.Grad {
						dst[j] += w * v
					}
				}
			}
		}
		first = false
	}
	r.s.Clock().SetStep(r.chunks[0].s.Clock().Step())
	if len(r.c.Groups()) == 0 {
		return res, nil
	}
	return res, r.c.ApplyGradients()
}

// StateCircuit returns the circuit whose state diagnostics read: the first
// chunk's (the master simulates nothing).
func (r *chunkedRunner) StateCircuit() *circuit.Circuit { return r.chunks[0].c }

// SetState restores the clock of the master and of every chunk, and the
// noise.
func (r *chunkedRunner) SetState(s PhaseState) {
	r.simRunner.SetState(s)
	for _, ch := range r.chunks {
		ch.s.Clock().SetStep(s.Clock)
	}
}

// Release lets the chunks' buffers go too.
func (r *chunkedRunner) Release() {
	r.simRunner.Release()
	r.chunks = nil
}

// sameParams reports whether two lists hold the same parameters (the same
// memory), in order.
func sameParams(a, b []synapse.Param) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i].Value) == 0 || len(b[i].Value) == 0 || &a[i].Value[0] != &b[i].Value[0] {
			return false
		}
	}
	return true
}
