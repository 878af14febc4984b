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
	"github.com/strongdfc/strongdfc/dataset"
	"github.com/strongdfc/strongdfc/neuron"
	"github.com/strongdfc/strongdfc/scheduler"
	"github.com/strongdfc/strongdfc/synapse"
)

// Data are the splits a run uses and their normalisation.
type Data struct {
	Train, Validation, Test dataset.Split
	Norm                    dataset.Norm
	Classes                 int
}

// LoadData reads the configured data set from dir (or its default place
// when dir is ""), holds out the validation samples and applies the
// training-sample limit.
func LoadData(c Config, dir string) (*Data, error) {
	var (
		tr, te *dataset.Set
		err    error
		norm   dataset.Norm
	)
	switch c.Dataset {
	case "mnist":
		tr, te, err = dataset.LoadMNIST(dir)
		norm = dataset.MNISTNorm
	case "fashion-mnist":
		tr, te, err = dataset.LoadFashionMNIST(dir)
		norm = dataset.UnitNorm
	default:
		return nil, fmt.Errorf("unknown dataset %q", c.Dataset)
	}
	if err != nil {
		return nil, err
	}
	return SplitData(c, tr, te, norm)
}

// SplitData holds the validation samples out of train and applies the
// training-sample limit.
func SplitData(c Config, train, test *dataset.Set, norm dataset.Norm) (*Data, error) {
	d := &Data{Test: dataset.All(test), Norm: norm, Classes: train.Classes}
	if c.Validation > 0 {
		rest, held, err := dataset.RandomSplit(train, c.Validation, c.SplitSeed)
		if err != nil {
			return nil, err
		}
		d.Train, d.Validation = rest, held
	} else {
		d.Train = dataset.All(train)
	}
	d.Train = d.Train.Limit(c.TrainLimit)
	return d, nil
}

// Seeds derived from the run's seed, one per use, so that every random
// draw has its own reproducible source.
const (
	seedInit = iota + 1
	seedShuffle
	seedNoise
	seedPretrainNoise
	seedSleepNoise
)

func subSeed(seed uint64, use int) uint64 {
	x := seed ^ (uint64(use) * 0x9e3779b97f4a7c15)
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// NoiseSeed returns the seed of the training noise of a run with the
// given seed (the trace command uses it to draw the same noise).
func NoiseSeed(seed uint64) uint64 { return subSeed(seed, seedNoise) }

// Progress describes a run's position after a minibatch.
type Progress struct {
	Phase            string // "pretrain" or "train"
	Epoch, Epochs    int    // 1-based epoch of the phase, and their number
	Batch, Batches   int    // minibatches done in this epoch, and their number
	Samples          int    // samples done in this epoch
	Loss, Accuracy   float64
	Elapsed          time.Duration // since the epoch started (or resumed)
	SamplesPerSecond float64
}

// Trainer runs a configured experiment. It is not safe for concurrent use.
type Trainer struct {
	cfg   Config
	data  *Data
	table *[256]float64
	Net   *circuit.Network

	fwdOpt, fbOpt, preOpt *synapse.Adam
	circ, pre, slp        *circuit.Circuit
	sched, preSched       *scheduler.Scheduler
	slpSched              *scheduler.Scheduler
	noise, preNoise       *neuron.Gaussian
	slpNoise              *neuron.Gaussian
	shufflePCG            *rand.PCG
	shuffle               *rand.Rand

	// Epoch and PretrainEpoch count the epochs done; Stage counts the
	// phases of the epoch under way that are done (see Config.Schedule).
	Epoch, PretrainEpoch, Stage int
	schedule                    []string

	// partial is the epoch under way when Next was interrupted; the next
	// call to Next continues it.
	partial *epochState
	history []EpochResult

	x       *mat.Dense
	targets *mat.Dense
	labels  []int
	eval    *Evaluator
	// What the observers record of the last window: the loss and accuracy
	// of the feedforward output (k = 0), the control's average over the
	// last quarter of the window, and from it the amount of control.
	lastLoss, lastAcc, lastControl float64
	uBar                           *mat.Dense
	uCount                         int
	// curTargets are the label targets of the window under way (the
	// circuit's set-point may differ from them).
	curTargets *mat.Dense
	// backprop's gradients (views of the projections' buffers) and norms.
	bpGrads circuit.Grads
	bpNorms []float64
}

// New builds the network (initialised from the seed), the circuits, the
// optimizers and the schedulers of a run.
func New(cfg Config, data *Data) (*Trainer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if data.Train.Len() == 0 {
		return nil, fmt.Errorf("no training samples")
	}
	act, _ := neuron.ParseActivation(cfg.Activation)
	net, err := circuit.MLP(cfg.Sizes(data.Train.Set.Dim, data.Classes), act)
	if err != nil {
		return nil, err
	}
	net.Init(rand.New(rand.NewPCG(cfg.Seed, subSeed(cfg.Seed, seedInit))))
	pcg := rand.NewPCG(cfg.Seed, subSeed(cfg.Seed, seedShuffle))
	t := &Trainer{cfg: cfg, data: data, table: data.Norm.Table(), Net: net,
		shufflePCG: pcg, shuffle: rand.New(pcg),
		noise: neuron.NewGaussian(subSeed(cfg.Seed, seedNoise)),
		uBar:  mat.NewDense(cfg.Batch, data.Classes, nil),
	}
	t.eval = NewEvaluator(net, data.Norm, data.Classes, cfg.TargetClassValue)
	if t.fwdOpt, err = synapse.NewAdam(cfg.Forward.AdamConfig(), net.ForwardParams()); err != nil {
		return nil, err
	}
	if t.fbOpt, err = synapse.NewAdam(cfg.Feedback.AdamConfig(), net.FeedbackParams()); err != nil {
		return nil, err
	}
	t.schedule = cfg.Schedule()
	switch cfg.Method {
	case MethodBP:
		for _, f := range net.Forward {
			t.bpGrads.W = append(t.bpGrads.W, f.GradW)
			t.bpGrads.B = append(t.bpGrads.B, f.GradB)
		}
		t.bpNorms = make([]float64, net.L())
	default:
		var fb *synapse.Adam
		if !cfg.twoPhase() {
			fb = t.fbOpt
		}
		if t.circ, err = circuit.New(net, cfg.TrainParams(), cfg.Batch, t.noise, t.fwdOpt, fb); err != nil {
			return nil, err
		}
		if cfg.Method != MethodDFCSSA {
			if t.sched, err = scheduler.New(scheduler.Config{Steps: cfg.Dynamics.Steps}, cfg.Dynamics.DT); err != nil {
				return nil, err
			}
			t.sched.Observe(1, t.observer(t.circ, cfg.Dynamics.Steps))
		}
	}
	if cfg.twoPhase() && cfg.Sleep.Before+cfg.Sleep.After > 0 {
		t.slpNoise = neuron.NewGaussian(subSeed(cfg.Seed, seedSleepNoise))
		if t.slp, err = circuit.New(net, cfg.SleepParams(), cfg.Batch, t.slpNoise, nil, t.fbOpt); err != nil {
			return nil, err
		}
		if t.slpSched, err = scheduler.New(scheduler.Config{Steps: cfg.Sleep.Dynamics.Steps}, cfg.Sleep.Dynamics.DT); err != nil {
			return nil, err
		}
		t.slpSched.Observe(1, t.observer(t.slp, cfg.Sleep.Dynamics.Steps))
	}
	if cfg.Pretrain.Epochs > 0 && cfg.Method != MethodBP {
		t.preNoise = neuron.NewGaussian(subSeed(cfg.Seed, seedPretrainNoise))
		if t.preOpt, err = synapse.NewAdam(cfg.pretrainAdam().AdamConfig(), net.FeedbackParams()); err != nil {
			return nil, err
		}
		if t.pre, err = circuit.New(net, cfg.PretrainParams(), cfg.Batch, t.preNoise, nil, t.preOpt); err != nil {
			return nil, err
		}
		if t.preSched, err = scheduler.New(scheduler.Config{Steps: cfg.Pretrain.Dynamics.Steps}, cfg.Pretrain.Dynamics.DT); err != nil {
			return nil, err
		}
		t.preSched.Observe(1, t.observer(t.pre, cfg.Pretrain.Dynamics.Steps))
	}
	t.x = mat.NewDense(cfg.Batch, data.Train.Set.Dim, nil)
	t.targets = mat.NewDense(cfg.Batch, data.Classes, nil)
	t.labels = make([]int, cfg.Batch)
	return t, nil
}

// observer returns the scheduler observer of circuit c's windows of T time
// indices. At k = 0 (the feedforward state) it records the loss and
// accuracy of the output against the targets; over the last quarter of
// the window it averages the control u, and at the last step it computes
// the amount of control from that average.
func (t *Trainer) observer(c *circuit.Circuit, T int) scheduler.Observer {
	from := T - max(T/4, 1)
	return func(k int, _ *scheduler.Clock) {
		if k == 0 {
			t.lastLoss = circuit.CrossEntropy{}.Value(c.Output(), t.curTargets)
			t.lastAcc = circuit.Accuracy(c.Output(), t.curTargets)
			t.uCount = 0
		}
		if k < from {
			return
		}
		u := c.Controller().U
		b, n := u.Dims()
		ub := t.uBar.Slice(0, b, 0, n).(*mat.Dense)
		if t.uCount == 0 {
			ub.Copy(u)
		} else {
			ub.Add(ub, u)
		}
		t.uCount++
		if k == T-1 {
			ub.Scale(1/float64(t.uCount), ub)
			t.lastControl = c.Network().ControlH(ub)
		}
	}
}

// Config returns the run's configuration.
func (t *Trainer) Config() Config { return t.cfg }

// Data returns the run's data.
func (t *Trainer) Data() *Data { return t.data }

// Circuit returns the training circuit.
func (t *Trainer) Circuit() *circuit.Circuit { return t.circ }

// History returns the results of every finished epoch, pre-training
// first, in order (a copy).
func (t *Trainer) History() []EpochResult { return cloneHistory(t.history) }

// PretrainDone reports whether every feedback pre-training epoch has run.
func (t *Trainer) PretrainDone() bool {
	return t.pre == nil || t.PretrainEpoch >= t.cfg.Pretrain.Epochs
}

// Done reports whether every epoch has run.
func (t *Trainer) Done() bool { return t.PretrainDone() && t.Epoch >= t.cfg.Epochs }

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

// Position returns where the run stands.
func (t *Trainer) Position() Position {
	B := t.cfg.Batch
	p := Position{Batches: (t.data.Train.Len() + B - 1) / B}
	if t.partial != nil {
		p.Phase, p.Epoch, p.Batch = t.partial.phase, t.partial.epoch, t.partial.next
	} else if !t.PretrainDone() {
		p.Phase, p.Epoch = "pretrain", t.PretrainEpoch+1
	} else {
		p.Phase, p.Epoch = t.schedule[t.Stage], t.Epoch+1
	}
	p.Epochs = t.cfg.Epochs
	if p.Phase == "pretrain" {
		p.Epochs = t.cfg.Pretrain.Epochs
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

// Next runs the next epoch, pre-training first, and evaluates after it;
// an epoch interrupted earlier is continued. progress, when not nil, is
// called after every minibatch.
//
// When ctx ends, Next stops before the next minibatch and returns an
// *Interrupted error. When the simulation diverges it returns an error
// wrapping circuit.ErrDiverged that names the phase, epoch, minibatch and
// layer; the trainer's state is then no longer that of a good run.
func (t *Trainer) Next(ctx context.Context, progress func(Progress)) (EpochResult, error) {
	if t.partial == nil {
		switch {
		case !t.PretrainDone():
			t.partial = t.newEpoch("pretrain", t.PretrainEpoch+1)
		case t.Epoch < t.cfg.Epochs:
			t.partial = t.newEpoch(t.schedule[t.Stage], t.Epoch+1)
		default:
			return EpochResult{}, fmt.Errorf("all %d epochs are done", t.cfg.Epochs)
		}
	}
	switch t.partial.phase {
	case "pretrain":
		r, err := t.runEpoch(ctx, t.pre, t.preSched, t.cfg.Pretrain.Epochs, progress)
		if err != nil {
			return r, err
		}
		t.PretrainEpoch++
		t.history = append(t.history, r)
		if t.PretrainDone() {
			t.releasePretrain()
		}
		return r, nil
	case "sleep":
		r, err := t.runEpoch(ctx, t.slp, t.slpSched, t.cfg.Epochs, progress)
		if err != nil {
			return r, err
		}
		t.endStage(r)
		return r, nil
	}
	r, err := t.runEpoch(ctx, t.circ, t.sched, t.cfg.Epochs, progress)
	if err != nil {
		return r, err
	}
	t.endStage(r)
	return r, nil
}

// endStage records a finished phase of a training epoch and moves on.
func (t *Trainer) endStage(r EpochResult) {
	t.history = append(t.history, r)
	t.Stage++
	if t.Stage == len(t.schedule) {
		t.Stage = 0
		t.Epoch++
	}
}

// releasePretrain lets the pre-training circuit's memory go.
func (t *Trainer) releasePretrain() {
	t.pre, t.preSched, t.preOpt, t.preNoise = nil, nil, nil, nil
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
	names := t.diagnosticNames(phase)
	return &epochState{phase: phase, epoch: epoch, order: t.shuffle.Perm(t.data.Train.Len()),
		diagNames: names, diagSums: make([]float64, len(names))}
}

// diagnosticNames are the names of the diagnostics averaged over an
// epoch's minibatches (see EpochResult.Diagnostics).
func (t *Trainer) diagnosticNames(phase string) []string {
	fwd, fb, control := t.learns(phase)
	var names []string
	if control {
		names = append(names, "control")
	}
	for i := 1; i <= t.Net.L(); i++ {
		if fwd {
			names = append(names, fmt.Sprintf("grad_norm_forward_layer%d", i))
		}
		if fb {
			names = append(names, fmt.Sprintf("grad_norm_feedback_layer%d", i))
		}
	}
	return names
}

// learns says what a phase learns and whether it has a controller.
func (t *Trainer) learns(phase string) (fwd, fb, control bool) {
	switch phase {
	case "pretrain", "sleep":
		return false, true, true
	}
	if t.cfg.Method == MethodBP {
		return true, false, false
	}
	return true, !t.cfg.twoPhase(), true
}

// gnSamples is the number of samples of an epoch's last minibatch whose GN
// alignment is averaged (each needs its own Jacobian).
const gnSamples = 32

// lastBatchDiagnostics computes the diagnostics of an epoch's last
// minibatch x (with targets tg), after its window on circuit c: the GN
// alignment of the feedback weights at the feedforward state, each layer's
// feedback-to-forward input ratio at the window's last step and, when
// angles is not nil, the update angles it holds. Nothing it does changes
// the run.
func (t *Trainer) lastBatchDiagnostics(c *circuit.Circuit, x *mat.Dense, angles map[string]float64) map[string]float64 {
	d := maps.Clone(angles)
	if d == nil {
		d = map[string]float64{}
	}
	if c == nil { // backprop: no feedback weights, no controller
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
		t.Net.Backprop(g, x, tg, circuit.CrossEntropy{})
		per, total := circuit.UpdateAngles(t.Net, g)
		for i, a := range per {
			dst[fmt.Sprintf("angle_layer%d", i+1)] = a
		}
		dst["angle_total"] = total
	}
}

// runEpoch runs the rest of the epoch t.partial with circuit c and
// evaluates the network afterwards.
func (t *Trainer) runEpoch(ctx context.Context, c *circuit.Circuit, s *scheduler.Scheduler, epochs int, progress func(Progress)) (EpochResult, error) {
	e := t.partial
	res := EpochResult{Phase: e.phase, Epoch: e.epoch}
	n := t.data.Train.Len()
	B := t.cfg.Batch
	batches := (n + B - 1) / B
	start := time.Now()
	startSamples := e.samples
	L := t.Net.L()
	var lastDiag map[string]float64
	for k := e.next; k < batches; k++ {
		if err := ctx.Err(); err != nil {
			e.seconds += time.Since(start).Seconds()
			return res, &Interrupted{At: t.Position(), Err: err}
		}
		from := k * B
		b := min(B, n-from)
		x := t.x.Slice(0, b, 0, t.data.Train.Set.Dim).(*mat.Dense)
		tg := t.targets.Slice(0, b, 0, t.data.Classes).(*mat.Dense)
		t.data.Train.Batch(x, t.labels[:b], t.table, e.order, from)
		circuit.SetSoftTargets(tg, t.labels[:b], t.cfg.TargetClassValue)
		where := func() string { return fmt.Sprintf("%s epoch %d, minibatch %d/%d", e.phase, e.epoch, k+1, batches) }
		last := k == batches-1
		var angles map[string]float64
		if last && c != nil && c.Params().LearnForward {
			angles = map[string]float64{}
			c.GradientHook = t.angleHook(angles, x, tg)
		}
		t.curTargets = tg
		err := t.window(c, s, x, tg)
		if c != nil {
			c.GradientHook = nil
		}
		if err != nil {
			if w, ok := t.nonFiniteWeight(); ok && errors.Is(err, circuit.ErrDiverged) {
				return res, fmt.Errorf("%s: %w (%s)", where(), err, w)
			}
			return res, fmt.Errorf("%s: %w", where(), err)
		}
		if !finite(t.lastLoss) || !finite(t.lastControl) {
			w, ok := t.nonFiniteWeight()
			if !ok {
				w = fmt.Sprintf("the output of layer %d is not finite (loss %g, amount of control %g)", t.Net.L(), t.lastLoss, t.lastControl)
			}
			return res, fmt.Errorf("%s: %w: %s", where(), circuit.ErrDiverged, w)
		}
		if last {
			lastDiag = t.lastBatchDiagnostics(c, x, angles)
		}
		e.lossSum += t.lastLoss
		e.accSum += t.lastAcc
		e.samples += b
		e.next = k + 1
		// Diagnostics, in the order of diagnosticNames.
		d := e.diagSums
		fwd, fb, control := t.learns(e.phase)
		j := 0
		if control {
			d[j] += t.lastControl
			j++
		}
		fwdNorms := t.bpNorms
		if c != nil {
			fwdNorms = c.FwdNorms
		}
		for i := range L {
			if fwd {
				d[j] += fwdNorms[i]
				j++
			}
			if fb {
				d[j] += c.FbNorms[i]
				j++
			}
		}
		if progress != nil {
			el := time.Since(start)
			progress(Progress{
				Phase: e.phase, Epoch: e.epoch, Epochs: epochs, Batch: k + 1, Batches: batches,
				Samples: e.samples, Loss: e.lossSum / float64(k+1), Accuracy: e.accSum / float64(k+1),
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
	evalStart := time.Now()
	res.ValLoss, res.ValAccuracy = t.Evaluate(t.data.Validation)
	res.TestLoss, res.TestAccuracy = t.Evaluate(t.data.Test)
	res.EvalSeconds = time.Since(evalStart).Seconds()
	return res, nil
}

// window runs one minibatch: a window of circuit c on scheduler s, or,
// without a scheduler, the analytic update (Present and Apply), or,
// without a circuit, a backprop step. It leaves the feedforward loss and
// accuracy and the amount of control in t.last*.
func (t *Trainer) window(c *circuit.Circuit, s *scheduler.Scheduler, x, tg *mat.Dense) error {
	switch {
	case c == nil:
		return t.backpropStep(x, tg)
	case s == nil:
		c.Present(x, tg, true)
		t.lastLoss = circuit.CrossEntropy{}.Value(c.Output(), tg)
		t.lastAcc = circuit.Accuracy(c.Output(), tg)
		if err := c.Apply(); err != nil {
			return err
		}
		t.lastControl = 0
		if u := c.AnalyticControl(); u != nil {
			t.lastControl = t.Net.ControlH(u)
		}
		return nil
	}
	return s.Window(c, x, tg)
}

// backpropStep trains the network by backpropagation on one minibatch:
// gradients of the batch-mean cross-entropy, per-layer clipping, an Adam
// step of the forward weights.
func (t *Trainer) backpropStep(x, tg *mat.Dense) error {
	out := t.Net.Predict(x)
	t.lastLoss = circuit.CrossEntropy{}.Value(out, tg)
	t.lastAcc = circuit.Accuracy(out, tg)
	t.lastControl = 0
	t.Net.Backprop(t.bpGrads, x, tg, circuit.CrossEntropy{})
	for i, f := range t.Net.Forward {
		t.bpNorms[i] = synapse.ClipNorm(t.cfg.ClipNorm, f.GradW.RawMatrix().Data, f.GradB.RawVector().Data)
		if !finite(t.bpNorms[i]) {
			return fmt.Errorf("%w: backprop gradient of layer %d is %g", circuit.ErrDiverged, i+1, t.bpNorms[i])
		}
	}
	t.fwdOpt.Step()
	return nil
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

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Evaluate returns the feedforward loss (cross-entropy against the soft
// labels) and accuracy of the network on a split (NaN for an empty split).
func (t *Trainer) Evaluate(sp dataset.Split) (loss, acc float64) { return t.eval.Evaluate(sp) }

// evalChunk is the number of samples evaluated per feedforward product.
const evalChunk = 500

// Evaluator computes the feedforward loss and accuracy of a network on
// splits of a data set, reusing its buffers. It is not safe for
// concurrent use.
type Evaluator struct {
	net     *circuit.Network
	table   *[256]float64
	classes int
	target  float64

	x, t   *mat.Dense
	labels []int
	pass   *circuit.Pass
}

// NewEvaluator returns an evaluator of net on data normalised by norm,
// with soft labels of value targetClassValue among classes.
func NewEvaluator(net *circuit.Network, norm dataset.Norm, classes int, targetClassValue float64) *Evaluator {
	return &Evaluator{net: net, table: norm.Table(), classes: classes, target: targetClassValue}
}

// Evaluate returns the feedforward loss (cross-entropy against the soft
// labels) and accuracy of the network on a split (NaN for an empty split).
func (e *Evaluator) Evaluate(sp dataset.Split) (loss, acc float64) {
	n := sp.Len()
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	if e.x == nil {
		e.x = mat.NewDense(evalChunk, sp.Set.Dim, nil)
		e.t = mat.NewDense(evalChunk, e.classes, nil)
		e.labels = make([]int, evalChunk)
	}
	correct := 0
	for from := 0; from < n; from += evalChunk {
		b := min(evalChunk, n-from)
		xb := e.x.Slice(0, b, 0, sp.Set.Dim).(*mat.Dense)
		tb := e.t.Slice(0, b, 0, e.classes).(*mat.Dense)
		sp.Batch(xb, e.labels[:b], e.table, nil, from)
		circuit.SetSoftTargets(tb, e.labels[:b], e.target)
		pass := e.pass
		if b != evalChunk {
			pass = nil // a last, shorter chunk gets its own buffers
		}
		pass = e.net.Feedforward(pass, xb)
		if b == evalChunk {
			e.pass = pass
		}
		loss += circuit.CrossEntropy{}.Value(pass.Output(), tb) * float64(b)
		correct += circuit.Correct(pass.Output(), tb)
	}
	return loss / float64(n), float64(correct) / float64(n)
}
