package train

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/synapse"
)

// Snapshot is everything a Trainer needs to continue a run bit for bit:
// the weights, the optimizers' states, each phase's clock and noise, the
// shuffling generator, the position, the results so far and, when it was
// taken during an epoch, that epoch's order of samples and running sums.
// It shares no memory with the trainer.
type Snapshot struct {
	Config Config
	// Sizes are the layer sizes, input first.
	Sizes []int
	// Done counts the finished stages: the prologue's epochs, then the
	// phases of the training epochs in turn (see Method.Position).
	Done int
	// W, B and Q hold each layer's weights, row-major (W_i is
	// Sizes[i] × Sizes[i−1], Q_i is Sizes[i] × Sizes[L]).
	W, B, Q [][]float64
	// Optimizers are the method's optimizers' states, in the method's
	// order.
	Optimizers []NamedOptimizerState
	// Phases are the method's phases' states, in the method's order.
	Phases []PhaseState
	// Shuffle is the state of the generator that orders each epoch's
	// samples.
	Shuffle []byte
	// Partial is the epoch under way, nil at an epoch's end.
	Partial *PartialEpoch
	// History are the finished epochs' results.
	History []EpochResult
}

// NamedOptimizerState is the state of one of a method's optimizers, with
// what it updates (Optimizer.Of).
type NamedOptimizerState struct {
	Name, Of string
	synapse.OptimizerState
}

// Epochs returns the prologue (feedback pre-training) and training epochs
// the snapshot has done.
func (s *Snapshot) Epochs() (prologue, training int, err error) {
	m, err := s.Config.MethodSpec()
	if err != nil {
		return 0, 0, err
	}
	p, e, _ := m.Position(s.Done)
	return p, e, nil
}

// PartialEpoch is the state of an interrupted epoch.
type PartialEpoch struct {
	Phase string
	Epoch int
	// Order is the epoch's order of training samples and Next the number
	// of minibatches done.
	Order []int
	Next  int
	// Running sums over the minibatches done.
	Samples         int
	LossSum, AccSum float64
	Seconds         float64
	DiagNames       []string
	DiagSums        []float64
}

// ErrSnapshot is wrapped by every error about a snapshot that does not fit
// the trainer it is restored into.
var ErrSnapshot = errors.New("snapshot does not fit this run")

// Snapshot returns the trainer's complete state.
func (t *Trainer) Snapshot() (*Snapshot, error) { return t.snapshot(false) }

// SnapshotView is Snapshot without copying the parameters and the
// optimizers' buffers (those whose optimizer is a synapse.StateViewer):
// they are the trainer's own, valid until it trains, restores or forks
// again, and not to be changed. The runner writes its checkpoints from a
// view, so that writing one does not hold a second copy of the weights and
// of Adam's moments beside the run.
func (t *Trainer) SnapshotView() (*Snapshot, error) { return t.snapshot(true) }

// snapshot is Snapshot, or SnapshotView when view is true.
func (t *Trainer) snapshot(view bool) (*Snapshot, error) {
	own := slices.Clone[[]float64]
	if view {
		own = func(s []float64) []float64 { return s }
	}
	s := &Snapshot{
		Config: t.cfg, Sizes: slices.Clone(t.Net.Sizes), Done: t.done,
		History: t.History(),
	}
	s.Config.Hidden = slices.Clone(t.cfg.Hidden)
	s.Config.Activations = slices.Clone(t.cfg.Activations)
	for i := range t.Net.Forward {
		s.W = append(s.W, own(t.Net.Forward[i].W.RawMatrix().Data))
		s.B = append(s.B, own(t.Net.Forward[i].B.RawVector().Data))
		s.Q = append(s.Q, own(t.Net.Feedback[i].Q.RawMatrix().Data))
	}
	for _, o := range t.method.Optimizers {
		opt := t.optimizer(o.Name)
		st := opt.State
		if v, ok := opt.(synapse.StateViewer); ok && view {
			st = v.StateView
		}
		s.Optimizers = append(s.Optimizers, NamedOptimizerState{Name: o.Name, Of: o.Of, OptimizerState: st()})
	}
	for _, p := range t.phases {
		st, err := p.run.State()
		if err != nil {
			return nil, err
		}
		st.Name = p.spec.Name()
		s.Phases = append(s.Phases, st)
	}
	var err error
	if s.Shuffle, err = t.shufflePCG.MarshalBinary(); err != nil {
		return nil, err
	}
	if e := t.partial; e != nil {
		s.Partial = &PartialEpoch{
			Phase: e.phase, Epoch: e.epoch, Order: slices.Clone(e.order), Next: e.next,
			Samples: e.samples, LossSum: e.lossSum, AccSum: e.accSum, Seconds: e.seconds,
			DiagNames: slices.Clone(e.diagNames), DiagSums: slices.Clone(e.diagSums),
		}
	}
	return s, nil
}

// Restore puts a snapshot's state into the trainer, which must have been
// built by New with the same configuration (only the number of training
// epochs may differ, to extend a run) and data of the same shape. The
// snapshot is checked completely before anything changes: on error the
// trainer is as it was.
func (t *Trainer) Restore(s *Snapshot) error {
	if err := t.check(s); err != nil {
		return fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	pcg := &rand.PCG{}
	if err := pcg.UnmarshalBinary(s.Shuffle); err != nil {
		return fmt.Errorf("%w: shuffle generator: %v", ErrSnapshot, err)
	}
	// The optimizers' states are checked by a dry run on copies.
	for _, o := range s.Optimizers {
		cur := t.optimizer(o.Name)
		probe := cur.State()
		if err := cur.SetState(o.OptimizerState); err != nil {
			return fmt.Errorf("%w: %s optimizer: %v", ErrSnapshot, o.Name, err)
		}
		if err := cur.SetState(probe); err != nil {
			panic(err)
		}
	}
	// Everything is checked: change the trainer.
	for i := range t.Net.Forward {
		copy(t.Net.Forward[i].W.RawMatrix().Data, s.W[i])
		copy(t.Net.Forward[i].B.RawVector().Data, s.B[i])
		copy(t.Net.Feedback[i].Q.RawMatrix().Data, s.Q[i])
	}
	for _, o := range s.Optimizers {
		if err := t.optimizer(o.Name).SetState(o.OptimizerState); err != nil {
			panic(err) // checked above
		}
	}
	for i, p := range t.phases {
		p.run.SetState(s.Phases[i])
	}
	*t.shufflePCG = *pcg
	t.done = s.Done
	t.releaseFinished()
	t.history = cloneHistory(s.History)
	t.partial = nil
	if p := s.Partial; p != nil {
		t.partial = &epochState{
			phase: p.Phase, epoch: p.Epoch, order: slices.Clone(p.Order), next: p.Next,
			samples: p.Samples, lossSum: p.LossSum, accSum: p.AccSum, seconds: p.Seconds,
			diagNames: slices.Clone(p.DiagNames), diagSums: slices.Clone(p.DiagSums),
		}
	}
	return nil
}

// RestorePretrained continues a run that has just finished feedback
// pre-training with settings that pre-training does not use: another
// method that shares it (the DFC variants dfc, dfc-ss and dfc-ssa), other
// numbers of epochs, other somatic noise. The snapshot must be taken at the
// end of pre-training (no training epoch done) and its configuration may
// differ from this trainer's only in those settings. The result is the run
// this trainer would have made from the start, bit for bit, without
// repeating the pre-training.
func (t *Trainer) RestorePretrained(s *Snapshot) error {
	m, err := s.Config.MethodSpec()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	if s.Done != len(m.Prologue) || s.Partial != nil || len(m.Prologue) == 0 {
		return fmt.Errorf("%w: not taken at the end of feedback pre-training", ErrSnapshot)
	}
	if s.Config.Method != t.cfg.Method && !(s.Config.Weak() && t.cfg.Weak()) {
		return fmt.Errorf("%w: methods %s and %s do not share their pre-training", ErrSnapshot, s.Config.Method, t.cfg.Method)
	}
	c := *s
	c.Config.Method, c.Config.Epochs, c.Config.SomaSigma = t.cfg.Method, t.cfg.Epochs, t.cfg.SomaSigma
	return t.Restore(&c)
}

// Fork continues s, a snapshot of another run, under this trainer's
// configuration: everything the snapshot holds (weights, the optimizers'
// moments, the position in the epoch, a stream's state, the random
// streams, the history) carries over, and from there on the run follows
// this trainer's constants. They may differ from the snapshot's only in
// what does not change the state's shape or meaning: the optimizers'
// constants (forward.* and feedback.*, not their kinds or second moments,
// which set the optimizers' buffers), clip_norm, the
// number of epochs, what a stream resets at its switches (stream_reset),
// the forward rule's settling steps (forward_settle) and the controller's
// leaks (dynamics.alpha and dynamics.integral_leak: the controller's state
// carries over, only how fast it forgets changes), and, where neurons
// spike, their maximal rates and the traces' time constant
// (spiking.rate_max, spiking.input_rate_max and spiking.tau_syn, each
// staying positive: what spikes keeps spiking, from the same random
// streams; not on a stream, whose carried traces count the old rates'
// spikes). A learning rate lowered from a checkpoint on, say, or less
// spike noise.
// Any other difference is an error that names it, and the trainer is left
// unchanged.
func (t *Trainer) Fork(s *Snapshot) error {
	a, b := forkable(s.Config), forkable(t.cfg)
	if !reflect.DeepEqual(a, b) {
		return fmt.Errorf("%w: a fork may change only the optimizers' constants (forward.*, feedback.*, not kind or second_moment), clip_norm, epochs, stream_reset, forward_settle, dynamics.alpha, dynamics.integral_leak and, off a stream, the positive spiking.rate_max, spiking.input_rate_max and spiking.tau_syn; the configurations also differ in %s", ErrSnapshot, ConfigDiff(a, b))
	}
	c := *s
	c.Config = t.cfg
	return t.Restore(&c)
}

// forkable returns c normalized, without what Fork lets differ.
func forkable(c Config) Config {
	c = c.Normalize()
	c.Epochs, c.ClipNorm, c.StreamReset, c.ForwardSettle = 0, 0, "", 0
	c.Dynamics.Alpha, c.Dynamics.IntegralLeak = 0, 0
	// A rate may change but not switch spiking on or off (that changes
	// the somata and the random streams); the traces' time constant may
	// change where there are traces. Not on a stream, whose carried
	// traces count spikes per unit of time of the old rates.
	if !c.Stream {
		c.Spiking.RateMax, c.Spiking.InputRateMax = spikes(c.Spiking.RateMax), spikes(c.Spiking.InputRateMax)
		if c.Spiking.On() {
			c.Spiking.TauSyn = 0
		}
	}

	c.Forward = OptimizerConfig{Kind: c.Forward.Kind, SecondMoment: c.Forward.moment()}
	c.Feedback = OptimizerConfig{Kind: c.Feedback.Kind, SecondMoment: c.Feedback.moment()}
	return c
}

// spikes is 1 for a positive rate bound (spikes) and 0 otherwise.
func spikes(rate float64) float64 {
	if rate > 0 {
		return 1
	}
	return 0
}

// check reports the first way in which s does not fit the trainer.
func (t *Trainer) check(s *Snapshot) error {
	a, b := s.Config.Normalize(), t.cfg.Normalize()
	a.Epochs, b.Epochs = 0, 0
	if !reflect.DeepEqual(a, b) {
		return fmt.Errorf("its configuration differs from this run's (%s)", ConfigDiff(a, b))
	}
	if !slices.Equal(s.Sizes, t.Net.Sizes) {
		return fmt.Errorf("layer sizes %v, this run's are %v", s.Sizes, t.Net.Sizes)
	}
	m := t.method
	if s.Done < 0 || s.Done > m.Stages(t.cfg.Epochs) {
		p, e, _ := m.Position(s.Done)
		return fmt.Errorf("%d pre-training and %d training epochs done, but this run has %d and %d", p, e, len(m.Prologue), t.cfg.Epochs)
	}
	L := t.Net.L()
	if len(s.W) != L || len(s.B) != L || len(s.Q) != L {
		return fmt.Errorf("weights of %d, %d and %d layers, want %d", len(s.W), len(s.B), len(s.Q), L)
	}
	for i := range L {
		for _, w := range []struct {
			name string
			got  []float64
			want int
		}{{"W", s.W[i], len(t.Net.Forward[i].W.RawMatrix().Data)}, {"b", s.B[i], t.Net.Forward[i].B.Len()}, {"Q", s.Q[i], len(t.Net.Feedback[i].Q.RawMatrix().Data)}} {
			if len(w.got) != w.want {
				return fmt.Errorf("layer %d's %s has %d values, want %d", i+1, w.name, len(w.got), w.want)
			}
		}
	}
	if len(s.Optimizers) != len(m.Optimizers) {
		return fmt.Errorf("states of %d optimizers, the method has %d", len(s.Optimizers), len(m.Optimizers))
	}
	for i, o := range s.Optimizers {
		if o.Name != m.Optimizers[i].Name || o.Of != m.Optimizers[i].Of {
			return fmt.Errorf("optimizer %d is %q of the %s parameters, want %q of the %s parameters", i+1, o.Name, o.Of, m.Optimizers[i].Name, m.Optimizers[i].Of)
		}
	}
	if len(s.Phases) != len(t.phases) {
		return fmt.Errorf("states of %d phases, the method has %d", len(s.Phases), len(t.phases))
	}
	for i, p := range t.phases {
		if s.Phases[i].Name != p.spec.Name() {
			return fmt.Errorf("phase %d is %q, want %q", i+1, s.Phases[i].Name, p.spec.Name())
		}
		if err := p.run.CheckState(s.Phases[i]); err != nil {
			return fmt.Errorf("%s phase: %v", p.spec.Name(), err)
		}
	}
	// The history holds every finished stage, in order.
	if len(s.History) != s.Done {
		return fmt.Errorf("history holds %d phases, the counters say %d", len(s.History), s.Done)
	}
	for i, r := range s.History {
		if want, _ := m.Stage(i); r.Phase != want {
			return fmt.Errorf("history's phase %d is %q, want %q", i+1, r.Phase, want)
		}
	}
	if p := s.Partial; p != nil {
		n := t.data.Train.Len()
		batches := (n + t.cfg.Batch - 1) / t.cfg.Batch
		if s.Done >= m.Stages(t.cfg.Epochs) {
			return fmt.Errorf("partial epoch beyond the run's %d epochs", t.cfg.Epochs)
		}
		wantPhase, wantEpoch, _ := t.stageEpoch(s.Done)
		if p.Phase != wantPhase || p.Epoch != wantEpoch {
			return fmt.Errorf("partial epoch is %s %d, want %s %d", p.Phase, p.Epoch, wantPhase, wantEpoch)
		}
		if len(p.Order) != n || !isPerm(p.Order) {
			return fmt.Errorf("partial epoch's order is not a permutation of the %d training samples", n)
		}
		if p.Next < 0 || p.Next > batches || p.Samples != min(p.Next*t.cfg.Batch, n) {
			return fmt.Errorf("partial epoch is at minibatch %d of %d with %d samples", p.Next, batches, p.Samples)
		}
		if want := t.phase(p.Phase).diagNames; !slices.Equal(p.DiagNames, want) || len(p.DiagSums) != len(want) {
			return fmt.Errorf("partial epoch's diagnostics %v, want %v", p.DiagNames, want)
		}
	}
	return nil
}

func isPerm(p []int) bool {
	seen := make([]bool, len(p))
	for _, i := range p {
		if i < 0 || i >= len(p) || seen[i] {
			return false
		}
		seen[i] = true
	}
	return true
}

// ConfigDiff names the keys in which two configurations differ, as
// dotted YAML keys of a configuration file with both values
// ("forward.lr: 0.0003 vs 0.5; hidden: [256, 256] vs [64]"), in the
// order of the file, or "no difference". Defaults are compared spelt out
// (Normalize).
func ConfigDiff(a, b Config) string {
	var diffs []string
	diffValues("", reflect.ValueOf(a.Normalize()), reflect.ValueOf(b.Normalize()), &diffs)
	if len(diffs) == 0 {
		return "no difference"
	}
	return strings.Join(diffs, "; ")
}

// diffValues appends "key: a vs b" for every leaf of the structs a and b
// (of one type) that differs, keys being the yaml tags joined by dots.
func diffValues(prefix string, a, b reflect.Value, out *[]string) {
	if a.Kind() == reflect.Struct {
		for i := range a.NumField() {
			f := a.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			if prefix != "" {
				name = prefix + "." + name
			}
			diffValues(name, a.Field(i), b.Field(i), out)
		}
		return
	}
	if !reflect.DeepEqual(a.Interface(), b.Interface()) {
		*out = append(*out, fmt.Sprintf("%s: %s vs %s", prefix, yamlValue(a), yamlValue(b)))
	}
}

// yamlValue writes a leaf value as a configuration file would hold it.
func yamlValue(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.String:
		if v.String() == "" {
			return `""`
		}
		return v.String()
	case reflect.Slice, reflect.Array:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = yamlValue(v.Index(i))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v.Interface())
}

// Network returns a network with the snapshot's architecture and weights.
func (s *Snapshot) Network() (*circuit.Network, error) {
	acts, err := s.Config.Acts()
	if err != nil {
		return nil, err
	}
	net, err := circuit.NewNetwork(s.Sizes, acts)
	if err != nil {
		return nil, err
	}
	if err := SetWeights(net, s.W, s.B, s.Q); err != nil {
		return nil, err
	}
	return net, nil
}

// SetWeights sets every layer's W, b and Q from row-major slices.
func SetWeights(net *circuit.Network, W, B, Q [][]float64) error {
	L := net.L()
	if len(W) != L || len(B) != L || len(Q) != L {
		return fmt.Errorf("weights of %d, %d and %d layers for a network of %d", len(W), len(B), len(Q), L)
	}
	for i := range L {
		dst := [][]float64{net.Forward[i].W.RawMatrix().Data, net.Forward[i].B.RawVector().Data, net.Feedback[i].Q.RawMatrix().Data}
		for j, src := range [][]float64{W[i], B[i], Q[i]} {
			if len(src) != len(dst[j]) {
				return fmt.Errorf("layer %d: %d weights where the network has %d", i+1, len(src), len(dst[j]))
			}
			copy(dst[j], src)
		}
	}
	return nil
}
