package train

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"

	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/neuron"
	"github.com/strongdfc/strongdfc/synapse"
)

// Snapshot is everything a Trainer needs to continue a run bit for bit:
// the weights, the optimizers' moments, the random generators' states,
// the counters, the results so far and, when it was taken during an
// epoch, that epoch's order of samples and running sums. It shares no
// memory with the trainer.
type Snapshot struct {
	Config Config
	// Sizes are the layer sizes, input first.
	Sizes []int
	// Epoch and PretrainEpoch count the finished epochs; Stage the finished
	// phases of the epoch under way (two-phase methods).
	Epoch, PretrainEpoch, Stage int
	// W, B and Q hold each layer's weights, row-major (W_i is
	// Sizes[i] × Sizes[i−1], Q_i is Sizes[i] × Sizes[L]).
	W, B, Q [][]float64
	// Forward and Feedback are the training optimizers' states; Pretrain is
	// the pre-training optimizer's, nil once pre-training is over.
	Forward, Feedback AdamState
	Pretrain          *AdamState
	// Shuffle is the state of the generator that orders each epoch's
	// samples; Noise and PretrainNoise are the apical noise sources'
	// states (PretrainNoise nil once pre-training is over).
	Shuffle, Noise, PretrainNoise []byte
	// SleepNoise is the sleep phase's noise source (two-phase methods).
	SleepNoise []byte
	// Clock, PretrainClock and SleepClock are the schedulers' step counts.
	Clock, PretrainClock, SleepClock int64
	// Partial is the epoch under way, nil at an epoch's end.
	Partial *PartialEpoch
	// History are the finished epochs' results.
	History []EpochResult
}

// AdamState is an Adam optimizer's state: the moments, one slice per
// parameter in the optimizer's order, and the step count.
type AdamState struct {
	M, V [][]float64
	T    int
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
func (t *Trainer) Snapshot() (*Snapshot, error) {
	s := &Snapshot{
		Config: t.cfg, Sizes: slices.Clone(t.Net.Sizes),
		Epoch: t.Epoch, PretrainEpoch: t.PretrainEpoch, Stage: t.Stage,
		Forward: adamState(t.fwdOpt), Feedback: adamState(t.fbOpt),
		History: t.History(),
	}
	if t.sched != nil {
		s.Clock = t.sched.Clock().Step()
	}
	s.Config.Hidden = slices.Clone(t.cfg.Hidden)
	for i := range t.Net.Forward {
		s.W = append(s.W, slices.Clone(t.Net.Forward[i].W.RawMatrix().Data))
		s.B = append(s.B, slices.Clone(t.Net.Forward[i].B.RawVector().Data))
		s.Q = append(s.Q, slices.Clone(t.Net.Feedback[i].Q.RawMatrix().Data))
	}
	var err error
	if s.Shuffle, err = t.shufflePCG.MarshalBinary(); err != nil {
		return nil, err
	}
	if s.Noise, err = t.noise.MarshalBinary(); err != nil {
		return nil, err
	}
	if t.slp != nil {
		if s.SleepNoise, err = t.slpNoise.MarshalBinary(); err != nil {
			return nil, err
		}
		s.SleepClock = t.slpSched.Clock().Step()
	}
	if t.preOpt != nil {
		st := adamState(t.preOpt)
		s.Pretrain = &st
		if s.PretrainNoise, err = t.preNoise.MarshalBinary(); err != nil {
			return nil, err
		}
		s.PretrainClock = t.preSched.Clock().Step()
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

func adamState(a *synapse.Adam) AdamState {
	s := AdamState{T: a.T}
	for i := range a.M {
		s.M = append(s.M, slices.Clone(a.M[i]))
		s.V = append(s.V, slices.Clone(a.V[i]))
	}
	return s
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
	// Everything is checked: change the trainer.
	for i := range t.Net.Forward {
		copy(t.Net.Forward[i].W.RawMatrix().Data, s.W[i])
		copy(t.Net.Forward[i].B.RawVector().Data, s.B[i])
		copy(t.Net.Feedback[i].Q.RawMatrix().Data, s.Q[i])
	}
	setAdam(t.fwdOpt, s.Forward)
	setAdam(t.fbOpt, s.Feedback)
	if t.sched != nil {
		t.sched.Clock().SetStep(s.Clock)
	}
	if t.slp != nil {
		mustUnmarshal(t.slpNoise, s.SleepNoise)
		t.slpSched.Clock().SetStep(s.SleepClock)
	}
	*t.shufflePCG = *pcg
	// The circuits hold the noise sources; restore their streams in place
	// (check has decoded them already).
	mustUnmarshal(t.noise, s.Noise)
	if s.Pretrain != nil {
		setAdam(t.preOpt, *s.Pretrain)
		mustUnmarshal(t.preNoise, s.PretrainNoise)
		t.preSched.Clock().SetStep(s.PretrainClock)
	}
	t.Epoch, t.PretrainEpoch, t.Stage = s.Epoch, s.PretrainEpoch, s.Stage
	if t.PretrainDone() {
		t.releasePretrain()
	}
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
	if s.Epoch != 0 || s.Stage != 0 || s.Partial != nil || s.PretrainEpoch != s.Config.Pretrain.Epochs {
		return fmt.Errorf("%w: not taken at the end of feedback pre-training", ErrSnapshot)
	}
	if s.Config.Method != t.cfg.Method && !(s.Config.Weak() && t.cfg.Weak()) {
		return fmt.Errorf("%w: methods %s and %s do not share their pre-training", ErrSnapshot, s.Config.Method, t.cfg.Method)
	}
	c := *s
	c.Config.Method, c.Config.Epochs, c.Config.SomaSigma = t.cfg.Method, t.cfg.Epochs, t.cfg.SomaSigma
	return t.Restore(&c)
}

func mustUnmarshal(g *neuron.Gaussian, b []byte) {
	if err := g.UnmarshalBinary(b); err != nil {
		panic(err) // checked before
	}
}

func setAdam(a *synapse.Adam, s AdamState) {
	for i := range a.M {
		copy(a.M[i], s.M[i])
		copy(a.V[i], s.V[i])
	}
	a.T = s.T
}

// check reports the first way in which s does not fit the trainer.
func (t *Trainer) check(s *Snapshot) error {
	a, b := s.Config, t.cfg
	a.Epochs, b.Epochs = 0, 0
	if !reflect.DeepEqual(a, b) {
		return fmt.Errorf("its configuration differs from this run's (%s)", configDiff(s.Config, t.cfg))
	}
	if !slices.Equal(s.Sizes, t.Net.Sizes) {
		return fmt.Errorf("layer sizes %v, this run's are %v", s.Sizes, t.Net.Sizes)
	}
	if s.Epoch < 0 || s.Epoch > t.cfg.Epochs {
		return fmt.Errorf("%d training epochs done, but this run has %d", s.Epoch, t.cfg.Epochs)
	}
	if s.PretrainEpoch < 0 || s.PretrainEpoch > t.cfg.Pretrain.Epochs || (s.Epoch > 0 && s.PretrainEpoch != t.cfg.Pretrain.Epochs) {
		return fmt.Errorf("%d pre-training epochs done (and %d training epochs), but this run has %d", s.PretrainEpoch, s.Epoch, t.cfg.Pretrain.Epochs)
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
	if err := checkAdam("forward", s.Forward, t.fwdOpt); err != nil {
		return err
	}
	if err := checkAdam("feedback", s.Feedback, t.fbOpt); err != nil {
		return err
	}
	pretraining := s.PretrainEpoch < t.cfg.Pretrain.Epochs
	if pretraining != (s.Pretrain != nil) || pretraining != (s.PretrainNoise != nil) {
		return fmt.Errorf("pre-training state present: %v, but pre-training is under way: %v", s.Pretrain != nil, pretraining)
	}
	if pretraining {
		if err := checkAdam("pre-training", *s.Pretrain, t.preOpt); err != nil {
			return err
		}
		if err := checkNoise("pre-training noise", s.PretrainNoise, t.preNoise); err != nil {
			return err
		}
	}
	if err := checkNoise("noise", s.Noise, t.noise); err != nil {
		return err
	}
	if (t.slp != nil) != (s.SleepNoise != nil) {
		return fmt.Errorf("sleep-phase noise state present: %v, but this run has a sleep phase: %v", s.SleepNoise != nil, t.slp != nil)
	}
	if t.slp != nil {
		if err := checkNoise("sleep noise", s.SleepNoise, t.slpNoise); err != nil {
			return err
		}
	}
	if s.Stage < 0 || s.Stage >= len(t.schedule) {
		return fmt.Errorf("stage %d of an epoch of %d phases", s.Stage, len(t.schedule))
	}
	// The history holds every finished phase, in order.
	var want []string
	for range s.PretrainEpoch {
		want = append(want, "pretrain")
	}
	for range s.Epoch {
		want = append(want, t.schedule...)
	}
	want = append(want, t.schedule[:s.Stage]...)
	if len(s.History) != len(want) {
		return fmt.Errorf("history holds %d phases, the counters say %d", len(s.History), len(want))
	}
	for i, r := range s.History {
		if r.Phase != want[i] {
			return fmt.Errorf("history's phase %d is %q, want %q", i+1, r.Phase, want[i])
		}
	}
	if p := s.Partial; p != nil {
		n := t.data.Train.Len()
		batches := (n + t.cfg.Batch - 1) / t.cfg.Batch
		wantPhase, wantEpoch := t.schedule[s.Stage], s.Epoch+1
		if pretraining {
			wantPhase, wantEpoch = "pretrain", s.PretrainEpoch+1
		}
		if p.Phase != wantPhase || p.Epoch != wantEpoch {
			return fmt.Errorf("partial epoch is %s %d, want %s %d", p.Phase, p.Epoch, wantPhase, wantEpoch)
		}
		if p.Phase != "pretrain" && s.Epoch >= t.cfg.Epochs {
			return fmt.Errorf("partial training epoch %d beyond the run's %d epochs", p.Epoch, t.cfg.Epochs)
		}
		if len(p.Order) != n || !isPerm(p.Order) {
			return fmt.Errorf("partial epoch's order is not a permutation of the %d training samples", n)
		}
		if p.Next < 0 || p.Next > batches || p.Samples != min(p.Next*t.cfg.Batch, n) {
			return fmt.Errorf("partial epoch is at minibatch %d of %d with %d samples", p.Next, batches, p.Samples)
		}
		if want := t.diagnosticNames(p.Phase); !slices.Equal(p.DiagNames, want) || len(p.DiagSums) != len(want) {
			return fmt.Errorf("partial epoch's diagnostics %v, want %v", p.DiagNames, want)
		}
	}
	return nil
}

func checkAdam(name string, s AdamState, a *synapse.Adam) error {
	if len(s.M) != len(a.M) || len(s.V) != len(a.V) {
		return fmt.Errorf("%s optimizer has moments of %d and %d parameters, want %d", name, len(s.M), len(s.V), len(a.M))
	}
	for i := range a.M {
		if len(s.M[i]) != len(a.M[i]) || len(s.V[i]) != len(a.V[i]) {
			return fmt.Errorf("%s optimizer's moments of %s have %d and %d values, want %d", name, a.Params()[i].Name, len(s.M[i]), len(s.V[i]), len(a.M[i]))
		}
	}
	if s.T < 0 {
		return fmt.Errorf("%s optimizer's step count %d is negative", name, s.T)
	}
	return nil
}

// checkNoise checks that a noise state decodes and has the streams the
// trainer's source has.
func checkNoise(name string, b []byte, g *neuron.Gaussian) error {
	var h neuron.Gaussian
	if err := h.UnmarshalBinary(b); err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	cur, err := g.MarshalBinary()
	if err != nil {
		return err
	}
	if len(cur) != len(b) {
		return fmt.Errorf("%s has a state of %d bytes, this run's source %d (different layers or batch)", name, len(b), len(cur))
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

// configDiff names the first differing top-level field of two configs.
func configDiff(a, b Config) string {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := range va.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			f := va.Type().Field(i)
			return fmt.Sprintf("%s: %v vs %v", f.Tag.Get("yaml"), va.Field(i).Interface(), vb.Field(i).Interface())
		}
	}
	return "no difference"
}

// Network returns a network with the snapshot's architecture and weights.
func (s *Snapshot) Network() (*circuit.Network, error) {
	act, err := neuron.ParseActivation(s.Config.Activation)
	if err != nil {
		return nil, err
	}
	net, err := circuit.MLP(s.Sizes, act)
	if err != nil {
		return nil, err
	}
	if err := setWeights(net, s.W, s.B, s.Q); err != nil {
		return nil, err
	}
	return net, nil
}

func setWeights(net *circuit.Network, W, B, Q [][]float64) error {
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
