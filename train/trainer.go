package train

import (
	"context"
	"fmt"
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
)

func subSeed(seed uint64, use int) uint64 {
	x := seed ^ (uint64(use) * 0x9e3779b97f4a7c15)
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Progress describes a run's position after a minibatch.
type Progress struct {
	Phase            string // "pretrain" or "train"
	Epoch, Epochs    int    // 1-based epoch of the phase, and their number
	Batch, Batches   int    // minibatches done in this epoch, and their number
	Samples          int    // samples done in this epoch
	Loss, Accuracy   float64
	Elapsed          time.Duration // since the epoch started
	SamplesPerSecond float64
}

// EpochResult are the metrics of one epoch.
type EpochResult struct {
	Phase string
	Epoch int
	// TrainLoss and TrainAccuracy are means over the epoch's minibatches of
	// the feedforward loss and accuracy before each update (as the
	// reference logs them).
	TrainLoss, TrainAccuracy float64
	// Validation and test metrics of the feedforward network after the
	// epoch (NaN when the split is empty or not evaluated).
	ValLoss, ValAccuracy, TestLoss, TestAccuracy float64
	Samples                                      int
	Seconds                                      float64 // training windows only
	EvalSeconds                                  float64
}

// Trainer runs a configured experiment.
type Trainer struct {
	cfg   Config
	data  *Data
	table *[256]float64
	Net   *circuit.Network

	fwdOpt, fbOpt, preOpt *synapse.Adam
	circ, pre             *circuit.Circuit
	sched, preSched       *scheduler.Scheduler
	noise, preNoise       *neuron.Gaussian
	shuffle               *rand.Rand

	// Epoch and PretrainEpoch count the epochs done.
	Epoch, PretrainEpoch int

	x       *mat.Dense
	targets *mat.Dense
	labels  []int
	// evaluation buffers, reused so that evaluating allocates nothing
	evalX, evalT *mat.Dense
	evalLabels   []int
	evalPass     *circuit.Pass
	// loss and accuracy of the feedforward output of the last window,
	// recorded by an observer at k = 0
	lastLoss, lastAcc float64
}

// recordFeedforward returns an observer that records, at the start of a
// window (when the state is the feedforward pass), the loss and accuracy
// of the output against the window's targets.
func (t *Trainer) recordFeedforward(c *circuit.Circuit) scheduler.Observer {
	return func(k int, _ *scheduler.Clock) {
		if k == 0 {
			t.lastLoss = circuit.CrossEntropy{}.Value(c.Output(), c.Target())
			t.lastAcc = circuit.Accuracy(c.Output(), c.Target())
		}
	}
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
	t := &Trainer{cfg: cfg, data: data, table: data.Norm.Table(), Net: net,
		shuffle: rand.New(rand.NewPCG(cfg.Seed, subSeed(cfg.Seed, seedShuffle))),
		noise:   neuron.NewGaussian(subSeed(cfg.Seed, seedNoise)),
	}
	if t.fwdOpt, err = synapse.NewAdam(cfg.Forward.AdamConfig(), net.ForwardParams()); err != nil {
		return nil, err
	}
	if t.fbOpt, err = synapse.NewAdam(cfg.Feedback.AdamConfig(), net.FeedbackParams()); err != nil {
		return nil, err
	}
	if t.circ, err = circuit.New(net, cfg.TrainParams(), cfg.Batch, t.noise, t.fwdOpt, t.fbOpt); err != nil {
		return nil, err
	}
	if t.sched, err = scheduler.New(scheduler.Config{Steps: cfg.Dynamics.Steps}, cfg.Dynamics.DT); err != nil {
		return nil, err
	}
	t.sched.Observe(cfg.Dynamics.Steps, t.recordFeedforward(t.circ))
	if cfg.Pretrain.Epochs > 0 {
		t.preNoise = neuron.NewGaussian(subSeed(cfg.Seed, seedPretrainNoise))
		if t.preOpt, err = synapse.NewAdam(cfg.pretrainAdam().AdamConfig(), net.FeedbackParams()); err != nil {
			return nil, err
		}
		if t.pre, err = circuit.New(net, cfg.pretrainParams(), cfg.Batch, t.preNoise, nil, t.preOpt); err != nil {
			return nil, err
		}
		if t.preSched, err = scheduler.New(scheduler.Config{Steps: cfg.Pretrain.Dynamics.Steps}, cfg.Pretrain.Dynamics.DT); err != nil {
			return nil, err
		}
		t.preSched.Observe(cfg.Pretrain.Dynamics.Steps, t.recordFeedforward(t.pre))
	}
	t.x = mat.NewDense(cfg.Batch, data.Train.Set.Dim, nil)
	t.targets = mat.NewDense(cfg.Batch, data.Classes, nil)
	t.labels = make([]int, cfg.Batch)
	return t, nil
}

// Config returns the run's configuration.
func (t *Trainer) Config() Config { return t.cfg }

// Data returns the run's data.
func (t *Trainer) Data() *Data { return t.data }

// Circuit returns the training circuit.
func (t *Trainer) Circuit() *circuit.Circuit { return t.circ }

// PretrainDone reports whether every feedback pre-training epoch has run.
func (t *Trainer) PretrainDone() bool { return t.PretrainEpoch >= t.cfg.Pretrain.Epochs }

// Done reports whether every epoch has run.
func (t *Trainer) Done() bool { return t.PretrainDone() && t.Epoch >= t.cfg.Epochs }

// Next runs the next epoch, pre-training first, and evaluates after it.
// progress, when not nil, is called after every minibatch.
func (t *Trainer) Next(ctx context.Context, progress func(Progress)) (EpochResult, error) {
	if !t.PretrainDone() {
		r, err := t.runEpoch(ctx, "pretrain", t.pre, t.preSched, t.PretrainEpoch+1, t.cfg.Pretrain.Epochs, progress)
		if err != nil {
			return r, err
		}
		t.PretrainEpoch++
		if t.PretrainDone() {
			// Pre-training is over: let its circuit's memory go.
			t.pre, t.preSched, t.preOpt, t.preNoise = nil, nil, nil, nil
		}
		return r, nil
	}
	if t.Epoch >= t.cfg.Epochs {
		return EpochResult{}, fmt.Errorf("all %d epochs are done", t.cfg.Epochs)
	}
	r, err := t.runEpoch(ctx, "train", t.circ, t.sched, t.Epoch+1, t.cfg.Epochs, progress)
	if err != nil {
		return r, err
	}
	t.Epoch++
	return r, nil
}

// runEpoch runs one pass over the shuffled training split with circuit c
// and evaluates the network afterwards.
func (t *Trainer) runEpoch(ctx context.Context, phase string, c *circuit.Circuit, s *scheduler.Scheduler, epoch, epochs int, progress func(Progress)) (EpochResult, error) {
	res := EpochResult{Phase: phase, Epoch: epoch}
	n := t.data.Train.Len()
	order := t.shuffle.Perm(n)
	B := t.cfg.Batch
	batches := (n + B - 1) / B
	var lossSum, accSum float64
	start := time.Now()
	for k := range batches {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		from := k * B
		b := min(B, n-from)
		x := t.x.Slice(0, b, 0, t.data.Train.Set.Dim).(*mat.Dense)
		tg := t.targets.Slice(0, b, 0, t.data.Classes).(*mat.Dense)
		t.data.Train.Batch(x, t.labels[:b], t.table, order, from)
		circuit.SetSoftTargets(tg, t.labels[:b], t.cfg.TargetClassValue)
		if err := s.Window(c, x, tg); err != nil {
			return res, fmt.Errorf("%s epoch %d, minibatch %d: %w", phase, epoch, k+1, err)
		}
		lossSum += t.lastLoss
		accSum += t.lastAcc
		res.Samples += b
		if progress != nil {
			el := time.Since(start)
			progress(Progress{
				Phase: phase, Epoch: epoch, Epochs: epochs, Batch: k + 1, Batches: batches,
				Samples: res.Samples, Loss: lossSum / float64(k+1), Accuracy: accSum / float64(k+1),
				Elapsed: el, SamplesPerSecond: float64(res.Samples) / el.Seconds(),
			})
		}
	}
	res.Seconds = time.Since(start).Seconds()
	res.TrainLoss = lossSum / float64(batches)
	res.TrainAccuracy = accSum / float64(batches)
	evalStart := time.Now()
	res.ValLoss, res.ValAccuracy = t.Evaluate(t.data.Validation)
	res.TestLoss, res.TestAccuracy = t.Evaluate(t.data.Test)
	res.EvalSeconds = time.Since(evalStart).Seconds()
	return res, nil
}

// evalChunk is the number of samples evaluated per feedforward product.
const evalChunk = 500

// Evaluate returns the feedforward loss (cross-entropy against the soft
// labels) and accuracy of the network on a split (NaN for an empty split).
func (t *Trainer) Evaluate(sp dataset.Split) (loss, acc float64) {
	n := sp.Len()
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	if t.evalX == nil {
		t.evalX = mat.NewDense(evalChunk, sp.Set.Dim, nil)
		t.evalT = mat.NewDense(evalChunk, t.data.Classes, nil)
		t.evalLabels = make([]int, evalChunk)
	}
	correct := 0
	for from := 0; from < n; from += evalChunk {
		b := min(evalChunk, n-from)
		xb := t.evalX.Slice(0, b, 0, sp.Set.Dim).(*mat.Dense)
		tb := t.evalT.Slice(0, b, 0, t.data.Classes).(*mat.Dense)
		sp.Batch(xb, t.evalLabels[:b], t.table, nil, from)
		circuit.SetSoftTargets(tb, t.evalLabels[:b], t.cfg.TargetClassValue)
		pass := t.evalPass
		if b != evalChunk {
			pass = nil // a last, shorter chunk gets its own buffers
		}
		pass = t.Net.Feedforward(pass, xb)
		if b == evalChunk {
			t.evalPass = pass
		}
		loss += circuit.CrossEntropy{}.Value(pass.Output(), tb) * float64(b)
		correct += circuit.Correct(pass.Output(), tb)
	}
	return loss / float64(n), float64(correct) / float64(n)
}
