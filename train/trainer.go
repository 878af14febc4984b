package train

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/dataset"
	"github.com/strongdfc/strongdfc/synapse"
)

// Progress describes a run's position after a minibatch.
type Progress struct {
	Phase          string // "pretrain", "sleep" or "train"
	Epoch, Epochs  int    // 1-based epoch of the phase, and their number
	Batch, Batches int    // minibatches done in this epoch, and their number
	Samples        int    // samples done in this epoch
	Loss, Accuracy float64
	// Control is the running mean of the amount of control H over the
	// epoch's minibatches (NaN for a phase without a controller).
	Control          float64
	Elapsed          time.Duration // since the epoch started (or resumed)
	SamplesPerSecond float64
}

// Options are how a Trainer computes, as opposed to what it computes
// (which is all in the Config): nothing here changes a result.
type Options struct {
	// Pool runs the products and loops (nil: the calling goroutine only).
	Pool *compute.Pool
	// Method, when not nil, replaces the method the configuration names
	// (Config.MethodSpec): a method of other phases, rules or somata.
	// The configuration still gives the network, the data and the seed.
	Method *Method
}

// phaseRun is a phase of the run with its runner.
type phaseRun struct {
	spec      Phase
	run       *lazyRunner // built when the phase first runs
	diagNames []string
	released  bool
}

// Trainer runs a configured experiment: the phases of its method, epoch by
// epoch, with evaluation after each. It is not safe for concurrent use.
type Trainer struct {
	cfg    Config
	data   *Data
	table  *[256]float64
	Net    *circuit.Network
	method Method
	env    *Env

	phases     []*phaseRun // in the order of method.Phases
	shufflePCG *rand.PCG
	shuffle    *rand.Rand

	// done counts the finished stages (epochs of a phase): the prologue's,
	// then the training epochs' phases in turn.
	done int
	// partial is the epoch under way when Next was interrupted; the next
	// call to Next continues it.
	partial *epochState
	history []EpochResult

	x       *mat.Dense
	targets *mat.Dense
	labels  []int
	eval    *Evaluator
}

// New builds the network (initialised from the seed), the optimizers and
// the phases of a run, computing on opt's pool.
func New(cfg Config, data *Data, opts ...Options) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if data.Train.Len() == 0 {
		return nil, fmt.Errorf("no training samples")
	}
	if err := data.check(); err != nil {
		return nil, err
	}
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	m, err := cfg.MethodSpec()
	if err != nil {
		return nil, err
	}
	if o.Method != nil {
		m = *o.Method
		if err := m.validate(cfg); err != nil {
			return nil, err
		}
	}
	acts, _ := cfg.Acts()
	net, err := circuit.NewNetwork(cfg.Sizes(data.Train.Set.Dim, data.Classes), acts)
	if err != nil {
		return nil, err
	}
	net.Pool = o.Pool
	net.Init(rand.New(rand.NewPCG(cfg.Seed, SubSeed(cfg.Seed, SeedInit))))
	pcg := rand.NewPCG(cfg.Seed, SubSeed(cfg.Seed, SeedShuffle))
	t := &Trainer{cfg: cfg, data: data, table: data.Norm.Table(), Net: net, method: m,
		shufflePCG: pcg, shuffle: rand.New(pcg)}
	t.eval = NewEvaluator(net, cfg, data.Norm, data.Classes)
	if t.env, err = NewEnv(cfg, m, net, cfg.Batch, cfg.Seed, o.Pool); err != nil {
		return nil, err
	}
	t.env.InputNorm = data.Norm // what the samples carry, whoever loaded them
	for _, p := range m.Phases {
		r, err := newLazyRunner(p, t.env)
		if err != nil {
			return nil, fmt.Errorf("%s phase: %w", p.Name(), err)
		}
		pr := &phaseRun{spec: p, run: r}
		if r.hasCircuit {
			pr.diagNames = append(pr.diagNames, "control")
		}
		// Gradient norms layer by layer, in the order of the groups.
		for i := 1; i <= net.L(); i++ {
			for _, g := range r.Groups() {
				if g.Layer == i {
					pr.diagNames = append(pr.diagNames, "grad_norm_"+g.Name)
				}
			}
		}
		t.phases = append(t.phases, pr)
	}
	t.x = mat.NewDense(cfg.Batch, data.Train.Set.Dim, nil)
	t.targets = mat.NewDense(cfg.Batch, net.NOut(), nil)
	t.labels = make([]int, cfg.Batch)
	return t, nil
}

// phase returns the run's phase with the given name.
func (t *Trainer) phase(name string) *phaseRun {
	for _, p := range t.phases {
		if p.spec.Name() == name {
			return p
		}
	}
	panic(fmt.Sprintf("train: no phase %q", name))
}

// Config returns the run's configuration.
func (t *Trainer) Config() Config { return t.cfg }

// Method returns the run's method.
func (t *Trainer) Method() Method { return t.method }

// Data returns the run's data.
func (t *Trainer) Data() *Data { return t.data }

// Circuit returns the circuit of the training phase, building it if the
// phase has not run yet (nil for backprop).
func (t *Trainer) Circuit() *circuit.Circuit { return t.phase("train").run.Circuit() }

// History returns the results of every finished epoch, pre-training
// first, in order (a copy).
func (t *Trainer) History() []EpochResult { return cloneHistory(t.history) }

// Epochs returns the number of prologue (feedback pre-training) epochs and
// of training epochs done.
func (t *Trainer) Epochs() (prologue, training int) {
	p, e, _ := t.method.Position(t.done)
	return p, e
}

// PretrainDone reports whether every prologue (feedback pre-training)
// epoch has run.
func (t *Trainer) PretrainDone() bool { return t.done >= len(t.method.Prologue) }

// Done reports whether every epoch has run.
func (t *Trainer) Done() bool { return t.done >= t.method.Stages(t.cfg.Epochs) }

// StagesLeft returns the number of epochs (of any phase) after the one
// under way (or next) until the run ends.
func (t *Trainer) StagesLeft() int {
	return max(t.method.Stages(t.cfg.Epochs)-t.done-1, 0)
}

// Position describes where a run stands: the phase and 1-based epoch under
// way (or next) and the minibatches of it already done.
type Position struct {
	Phase          string
	Epoch, Epochs  int
	Batch, Batches int
}

// String says where the run is, for messages.
func (p Position) String() string {
	return fmt.Sprintf("%s epoch %d/%d, minibatch %d/%d", p.Phase, p.Epoch, p.Epochs, p.Batch, p.Batches)
}

// stageEpoch returns the phase of stage done, its 1-based epoch and the
// number of epochs of it the run has: the count of that phase in the
// prologue, or the training epochs.
func (t *Trainer) stageEpoch(done int) (phase string, epoch, epochs int) {
	name, prologue := t.method.Stage(done)
	if !prologue {
		_, e, _ := t.method.Position(done)
		return name, e + 1, t.cfg.Epochs
	}
	for i, p := range t.method.Prologue {
		if p == name {
			epochs++
			if i <= done {
				epoch++
			}
		}
	}
	return name, epoch, epochs
}

// Position returns where the run stands.
func (t *Trainer) Position() Position {
	B := t.cfg.Batch
	p := Position{Batches: (t.data.Train.Len() + B - 1) / B}
	p.Phase, p.Epoch, p.Epochs = t.stageEpoch(t.done)
	if t.partial != nil {
		p.Batch = t.partial.next
	}
	return p
}

// Interrupted is the error Next returns when its context ends between
// minibatches. The trainer keeps the epoch's state, so that a Snapshot
// taken now, or the next call to Next, continues the epoch where it
// stopped.
type Interrupted struct {
	At  Position
	Err error // the context's error
}

func (e *Interrupted) Error() string { return fmt.Sprintf("interrupted at %s: %v", e.At, e.Err) }

// Unwrap returns the context's error.
func (e *Interrupted) Unwrap() error { return e.Err }

// Next runs the next epoch of the method (the prologue's first) and
// evaluates after it; an epoch interrupted earlier is continued. progress,
// when not nil, is called after every minibatch.
//
// When ctx ends, Next stops before the next minibatch and returns an
// *Interrupted error. When the simulation diverges it returns an error
// wrapping circuit.ErrDiverged that names the phase, epoch, minibatch and
// layer; the trainer's state is then no longer that of a good run.
func (t *Trainer) Next(ctx context.Context, progress func(Progress)) (EpochResult, error) {
	if t.Done() {
		return EpochResult{}, fmt.Errorf("all %d epochs are done", t.cfg.Epochs)
	}
	if t.partial == nil {
		name, epoch, _ := t.stageEpoch(t.done)
		t.partial = t.newEpoch(name, epoch)
	}
	r, err := t.runEpoch(ctx, progress)
	if err != nil {
		return r, err
	}
	t.history = append(t.history, r)
	t.done++
	t.releaseFinished()
	return r, nil
}

// releaseFinished lets the buffers of phases that will not run again go
// (feedback pre-training once the prologue is over).
func (t *Trainer) releaseFinished() {
	if !t.PretrainDone() {
		return
	}
	for _, p := range t.phases {
		if !p.released && !contains(t.method.Epoch, p.spec.Name()) {
			p.run.Release()
			p.released = true
		}
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// epochState is the state of an epoch under way.
type epochState struct {
	phase           string
	epoch           int
	order           []int
	next            int // minibatches done
	samples         int
	lossSum, accSum float64
	seconds         float64 // of windows, before the last interruption
	diagNames       []string
	diagSums        []float64
}

// newEpoch draws the epoch's order of samples.
func (t *Trainer) newEpoch(phase string, epoch int) *epochState {
	names := t.phase(phase).diagNames
	return &epochState{phase: phase, epoch: epoch, order: t.data.epochOrder(t.shuffle),
		diagNames: names, diagSums: make([]float64, len(names))}
}

// gnSamples is the number of samples of an epoch's last minibatch whose GN
// alignment is averaged (each needs its own Jacobian).
const gnSamples = 32

// lastBatchDiagnostics computes the diagnostics of an epoch's last
// minibatch x, after its window on circuit c: the GN alignment of the
// feedback weights at the feedforward state, each layer's
// feedback-to-forward input ratio at the window's last step and, when
// angles is not nil, the update angles it holds. Nothing it does changes
// the run.
func (t *Trainer) lastBatchDiagnostics(c *circuit.Circuit, x *mat.Dense, angles map[string]float64) map[string]float64 {
	d := maps.Clone(angles)
	if d == nil {
		d = map[string]float64{}
	}
	if c == nil { // no feedback weights, no controller
		return d
	}
	d["gn_alignment"] = t.Net.MeanGNAlignment(t.Net.Feedforward(nil, x), gnSamples)
	if c.StepsSincePresent() > 0 {
		for i, r := range c.FeedbackRatio() {
			d[fmt.Sprintf("feedback_ratio_layer%d", i+1)] = r
		}
	}
	return d
}

// angleHook returns a gradient hook that records, into dst, the angles in
// degrees between the forward updates of the window on x (targets tg) and
// the backprop gradients of the same minibatch.
func (t *Trainer) angleHook(dst map[string]float64, x, tg *mat.Dense) func() {
	return func() {
		g := circuit.NewGrads(t.Net)
		t.Net.Backprop(g, x, tg, t.cfg.Loss())
		per, total := circuit.UpdateAngles(t.Net, g)
		for i, a := range per {
			dst[fmt.Sprintf("angle_layer%d", i+1)] = a
		}
		dst["angle_total"] = total
	}
}

// learnsForward reports whether a circuit's rules update forward weights.
func learnsForward(c *circuit.Circuit) bool {
	for _, g := range c.Groups() {
		if g.Kind == "forward" {
			return true
		}
	}
	return false
}

// runEpoch runs the rest of the epoch t.partial and evaluates the network
// afterwards.
func (t *Trainer) runEpoch(ctx context.Context, progress func(Progress)) (EpochResult, error) {
	e := t.partial
	ph := t.phase(e.phase)
	_, _, epochs := t.stageEpoch(t.done)
	c := ph.run.Circuit()
	res := EpochResult{Phase: e.phase, Epoch: e.epoch}
	n := t.data.Train.Len()
	B := t.cfg.Batch
	batches := (n + B - 1) / B
	start := time.Now()
	startSamples := e.samples
	var lastDiag map[string]float64
	for k := e.next; k < batches; k++ {
		if err := ctx.Err(); err != nil {
			e.seconds += time.Since(start).Seconds()
			return res, &Interrupted{At: t.Position(), Err: err}
		}
		from := k * B
		b := min(B, n-from)
		x, tg := t.minibatch(t.data.Train, e.order, from, b)
		where := func() string { return fmt.Sprintf("%s epoch %d, minibatch %d/%d", e.phase, e.epoch, k+1, batches) }
		last := k == batches-1
		var angles map[string]float64
		if last && c != nil && learnsForward(c) {
			angles = map[string]float64{}
			c.GradientHook = t.angleHook(angles, x, tg)
		}
		w, err := ph.run.Window(x, tg)
		if c != nil {
			c.GradientHook = nil
		}
		if err != nil {
			if bad, ok := t.nonFiniteWeight(); ok && errors.Is(err, circuit.ErrDiverged) {
				return res, fmt.Errorf("%s: %w (%s)", where(), err, bad)
			}
			return res, fmt.Errorf("%s: %w", where(), err)
		}
		if overflowing(w.Loss) || overflowing(w.Control) {
			bad, ok := t.nonFiniteWeight()
			if !ok {
				bad = fmt.Sprintf("the output of layer %d gives a loss of %.3g and an amount of control of %.3g (not finite, or beyond %.0e, where squares overflow)", t.Net.L(), w.Loss, w.Control, Overflow)
			}
			return res, fmt.Errorf("%s: %w: %s", where(), circuit.ErrDiverged, bad)
		}
		if last {
			// The circuit that simulated (a chunk's, window-parallel).
			lastDiag = t.lastBatchDiagnostics(ph.run.StateCircuit(), x, angles)
		}
		e.lossSum += w.Loss
		e.accSum += w.Accuracy
		e.samples += b
		e.next = k + 1
		// Diagnostics, in the order of the phase's names.
		d, j := e.diagSums, 0
		if c != nil {
			d[j] += w.Control
			j++
		}
		groups, norms := ph.run.Groups(), ph.run.Norms()
		for i := 1; i <= t.Net.L(); i++ {
			for gi, g := range groups {
				if g.Layer == i {
					d[j] += norms[gi]
					j++
				}
			}
		}
		if progress != nil {
			el := time.Since(start)
			control := math.NaN()
			if c != nil {
				control = e.diagSums[0] / float64(k+1)
			}
			progress(Progress{
				Phase: e.phase, Epoch: e.epoch, Epochs: epochs, Batch: k + 1, Batches: batches,
				Samples: e.samples, Loss: e.lossSum / float64(k+1), Accuracy: e.accSum / float64(k+1), Control: control,
				Elapsed: el, SamplesPerSecond: float64(e.samples-startSamples) / el.Seconds(),
			})
		}
	}
	t.partial = nil
	res.Seconds = e.seconds + time.Since(start).Seconds()
	res.Samples = e.samples
	res.TrainLoss = e.lossSum / float64(batches)
	res.TrainAccuracy = e.accSum / float64(batches)
	res.Diagnostics = make(map[string]float64, len(e.diagNames))
	for i, name := range e.diagNames {
		res.Diagnostics[name] = e.diagSums[i] / float64(batches)
	}
	for k, v := range lastDiag {
		res.Diagnostics[k] = v
	}
	if prev, ok := t.lastEvaluation(ph); ok {
		// The forward weights are those the last evaluation saw.
		res.ValLoss, res.ValAccuracy, res.TestLoss, res.TestAccuracy = prev.ValLoss, prev.ValAccuracy, prev.TestLoss, prev.TestAccuracy
		res.EvalReused = true
		return res, nil
	}
	evalStart := time.Now()
	res.ValLoss, res.ValAccuracy = t.Evaluate(t.data.Validation)
	res.TestLoss, res.TestAccuracy = t.Evaluate(t.data.Test)
	t.eval.Release()
	res.EvalSeconds = time.Since(evalStart).Seconds()
	for _, sp := range []struct {
		name string
		n    int
		loss float64
	}{{"validation", t.data.Validation.Len(), res.ValLoss}, {"test", t.data.Test.Len(), res.TestLoss}} {
		if sp.n > 0 && overflowing(sp.loss) {
			return res, fmt.Errorf("%s epoch %d, evaluation: %w: the %s loss is %.3g (not finite, or beyond %.0e, where its square overflows)",
				e.phase, e.epoch, circuit.ErrDiverged, sp.name, sp.loss, Overflow)
		}
	}
	return res, nil
}

// Overflow is the magnitude beyond which a loss, an amount of control or
// an evaluation counts as diverged although it is a number: the square
// root of the largest float64, beyond which squares (norms, Adam's second
// moments) overflow. A network that learns is many orders of magnitude
// below it.
var Overflow = math.Sqrt(math.MaxFloat64)

// overflowing reports whether x is NaN, infinite or beyond Overflow.
func overflowing(x float64) bool { return !(math.Abs(x) <= Overflow) }

// lastEvaluation returns the last finished epoch's result when the phase
// ph updates only feedback weights: it does not change the forward
// weights (W and b), which alone decide
// the feedforward evaluation: that result's validation and test figures
// hold for this epoch too. It reports false when ph changes them or no
// epoch has finished.
func (t *Trainer) lastEvaluation(ph *phaseRun) (EpochResult, bool) {
	if len(t.history) == 0 {
		return EpochResult{}, false
	}
	for _, g := range ph.run.Groups() {
		if g.Kind != "feedback" {
			return EpochResult{}, false
		}
	}
	return t.history[len(t.history)-1], true
}

// nonFiniteWeight names the first layer whose weights are not finite.
func (t *Trainer) nonFiniteWeight() (string, bool) {
	for i := range t.Net.Forward {
		for _, p := range []struct {
			name string
			x    []float64
		}{
			{"W", t.Net.Forward[i].W.RawMatrix().Data},
			{"b", t.Net.Forward[i].B.RawVector().Data},
			{"Q", t.Net.Feedback[i].Q.RawMatrix().Data},
		} {
			for _, v := range p.x {
				if !finite(v) {
					return fmt.Sprintf("layer %d's %s holds %g", i+1, p.name, v), true
				}
			}
		}
	}
	return "", false
}

// optimizer returns the run's optimizer of the given name.
func (t *Trainer) optimizer(name string) synapse.Optimizer { return t.env.Optimizers[name] }

// ProbeAngles runs one training window of the epoch's forward-learning
// phase on a minibatch of sp (the samples at positions [from, from+B) of
// its own order, B the configured minibatch size or what is left), as a
// minibatch of training would, its plasticity applied by the optimizers,
// and returns the angles, in degrees, between each layer's forward update
// and backprop's gradient on the same samples, and that of the whole
// update: the diagnostic an epoch records for its last minibatch, on
// samples of the caller's choosing. Restore the weights (SetWeights)
// between probes to measure them all at one point of training.
func (t *Trainer) ProbeAngles(sp dataset.Split, from int) (perLayer []float64, total float64, err error) {
	b := min(t.cfg.Batch, sp.Len()-from)
	if from < 0 || b <= 0 {
		return nil, 0, fmt.Errorf("train: no samples at position %d of a split of %d", from, sp.Len())
	}
	x, tg := t.minibatch(sp, nil, from, b)
	for _, name := range t.method.Epoch {
		ph := t.phase(name)
		c := ph.run.Circuit()
		if c == nil || !learnsForward(c) {
			continue
		}
		angles := map[string]float64{}
		c.GradientHook = t.angleHook(angles, x, tg)
		_, err := ph.run.Window(x, tg)
		c.GradientHook = nil
		if err != nil {
			return nil, 0, err
		}
		for i := range t.Net.L() {
			perLayer = append(perLayer, angles[fmt.Sprintf("angle_layer%d", i+1)])
		}
		return perLayer, angles["angle_total"], nil
	}
	return nil, 0, fmt.Errorf("train: method %s has no phase whose forward weights learn", t.cfg.Method)
}

// minibatch fills the trainer's buffers with the b samples of sp at
// positions [from, from+b) of order (nil: sp's own) and their targets,
// and returns views of them.
func (t *Trainer) minibatch(sp dataset.Split, order []int, from, b int) (x, targets *mat.Dense) {
	x = t.x.Slice(0, b, 0, sp.Set.Dim).(*mat.Dense)
	targets = t.targets.Slice(0, b, 0, t.Net.NOut()).(*mat.Dense)
	sp.Batch(x, t.labels[:b], t.table, order, from)
	if t.cfg.Autoencoder() {
		targets.Copy(x)
	} else {
		circuit.SetSoftTargets(targets, t.labels[:b], t.cfg.TargetClassValue)
	}
	return x, targets
}
