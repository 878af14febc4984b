package train

import (
	"fmt"
	"math"

	"github.com/strongdfc/strongdfc/neuron"
	"github.com/strongdfc/strongdfc/scheduler"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/dataset"
)

// Data are the splits a run uses and their normalisation.
type Data struct {
	Train, Validation, Test dataset.Split
	Norm                    dataset.Norm
	Classes                 int
	// Dir is the folder the data set was read from (absolute; "" when
	// the data did not come from LoadData).
	Dir string
	// Blocks, when not empty, cuts the training split into consecutive
	// blocks of these sizes (summing to its length) that every epoch
	// presents in order, shuffled only within each block: a sequence of
	// tasks for continual learning.
	Blocks []int
}

// epochOrder draws an epoch's order of the training samples with rng.
func (d *Data) epochOrder(rng interface{ Perm(int) []int }) []int {
	n := d.Train.Len()
	if len(d.Blocks) == 0 {
		return rng.Perm(n)
	}
	order := make([]int, 0, n)
	for _, b := range d.Blocks {
		off := len(order)
		for _, i := range rng.Perm(b) {
			order = append(order, off+i)
		}
	}
	return order
}

// check reports blocks that do not cover the training split.
func (d *Data) check() error {
	if len(d.Blocks) == 0 {
		return nil
	}
	sum := 0
	for _, b := range d.Blocks {
		if b <= 0 {
			return fmt.Errorf("training blocks %v: sizes must be positive", d.Blocks)
		}
		sum += b
	}
	if sum != d.Train.Len() {
		return fmt.Errorf("training blocks %v hold %d samples, the training split %d", d.Blocks, sum, d.Train.Len())
	}
	return nil
}

// LoadData reads the configured data set from dir (or its default place
// when dir is "", see dataset.Locate), holds out the validation samples
// and applies the training-sample limit. Data.Dir records the folder read.
func LoadData(c Config, dir string) (*Data, error) {
	tr, te, used, err := dataset.Load(c.Dataset, dir)
	if err != nil {
		return nil, err
	}
	d, err := SplitData(c, tr, te, c.InputNorm())
	if err != nil {
		return nil, err
	}
	d.Dir = used
	return d, nil
}

// publishedNorm returns the normalisation of the data set's published
// runs: MNIST's and CIFAR-10's mean and standard deviation, Fashion-MNIST's
// pixels in [0, 1].
func (c Config) publishedNorm() dataset.Norm {
	switch c.Dataset {
	case dataset.MNIST:
		return dataset.MNISTNorm
	case dataset.CIFAR10:
		return dataset.CIFAR10Norm
	}
	return dataset.UnitNorm
}

// InputNorm returns the normalisation the run's samples are presented
// with: the published one, except with input spike trains whose decoded
// traces give the pixels in [0, 1] (spiking.input_norm unit), where the
// spike rates are in proportion to the pixels.
func (c Config) InputNorm() dataset.Norm {
	if c.Spiking.InputRateMax > 0 && c.Spiking.InputNorm != InputNormDataset {
		return dataset.UnitNorm
	}
	return c.publishedNorm()
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

// Evaluate returns the feedforward loss and accuracy of the network on a
// split (see Evaluator.Evaluate).
func (t *Trainer) Evaluate(sp dataset.Split) (loss, acc float64) { return t.eval.Evaluate(sp) }

// evalChunk is the number of samples evaluated per feedforward product.
const evalChunk = 500

// Evaluator computes the feedforward loss and accuracy of a network on
// splits of a data set, reusing its buffers. It is not safe for
// concurrent use.
type Evaluator struct {
	net        *circuit.Network
	table      *[256]float64
	classes    int
	target     float64
	loss       circuit.Loss
	autoencode bool

	x, t   *mat.Dense
	labels []int
	pass   *circuit.Pass
}

// NewEvaluator returns an evaluator of net for the task of configuration c
// on data normalised by norm with the given number of classes.
func NewEvaluator(net *circuit.Network, c Config, norm dataset.Norm, classes int) *Evaluator {
	return &Evaluator{net: net, table: norm.Table(), classes: classes, target: c.TargetClassValue,
		loss: c.Loss(), autoencode: c.Autoencoder()}
}

// Evaluate returns the feedforward loss (cross-entropy against the soft
// labels, or an autoencoder's MSE) and accuracy (NaN for an autoencoder)
// of the network on a split (NaN for an empty split).
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
		if e.autoencode {
			tb = xb
		} else {
			circuit.SetSoftTargets(tb, e.labels[:b], e.target)
		}
		pass := e.pass
		if b != evalChunk {
			pass = nil // a last, shorter chunk gets its own buffers
		}
		pass = e.net.Feedforward(pass, xb)
		if b == evalChunk {
			e.pass = pass
		}
		loss += e.loss.Value(pass.Output(), tb) * float64(b)
		if !e.autoencode {
			correct += circuit.Correct(pass.Output(), tb)
		}
	}
	if e.autoencode {
		return loss / float64(n), math.NaN()
	}
	return loss / float64(n), float64(correct) / float64(n)
}

// Release drops the evaluator's buffers (the input, targets and
// feedforward pass of evalChunk samples: 9 MB for the published MNIST
// network); the next Evaluate makes them again. A trainer releases them
// after an epoch's evaluation, so that they are not held through the
// epoch's figures and checkpoint and the next epoch's training.
func (e *Evaluator) Release() { e.x, e.t, e.labels, e.pass = nil, nil, nil, nil }

var nanValue = math.NaN()

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// SimulatedAccuracy returns the accuracy of the network's own dynamics on
// a split: the samples are presented, batch at a time, to a circuit with
// the training phase's neurons and dynamics, its controller off and no
// plasticity, for windows of steps time indices, and each sample's class
// is its largest output averaged over the window's last quarter. For a
// network of spiking neurons this is the spiking network's accuracy;
// Evaluate's feedforward pass is its mean field. The noise is drawn from
// its own seed (SeedEvalNoise), so evaluating changes nothing of the run,
// and from the index of each window's first sample, so that a window's
// draws do not depend on the windows before it.
// rate is the hidden neurons' mean firing rate, in spikes per unit of
// time (0 when they do not spike).
func (t *Trainer) SimulatedAccuracy(sp dataset.Split, steps, batch int) (acc, rate float64, err error) {
	accs, rate, err := t.SimulatedAccuracies(sp, []int{steps}, batch)
	if err != nil {
		return math.NaN(), 0, err
	}
	return accs[0], rate, nil
}

// SimulatedAccuracies is SimulatedAccuracy for several presentation
// times at the cost of the longest: the samples are presented for
// max(steps) time indices, and acc[m] is the accuracy read out over the
// last quarter of the first steps[m] of them, which is what a window of
// steps[m] time indices gives: a window's first steps do not depend on
// its length, because each window's noise is drawn afresh from the
// evaluation seed and the index of its first sample. rate is measured
// over the longest window.
func (t *Trainer) SimulatedAccuracies(sp dataset.Split, steps []int, batch int) (acc []float64, rate float64, err error) {
	ph, ok := t.method.Phase("train").(Simulated)
	if !ok {
		return nil, 0, fmt.Errorf("method %s simulates no training windows", t.cfg.Method)
	}
	n := sp.Len()
	longest := 0
	for _, s := range steps {
		if s < 2 {
			return nil, 0, fmt.Errorf("simulated accuracy with a window of %d steps: a window needs at least 2", s)
		}
		longest = max(longest, s)
	}
	if n == 0 || len(steps) == 0 || batch <= 0 {
		return nil, 0, fmt.Errorf("simulated accuracy of %d samples with windows of %v steps in batches of %d", n, steps, batch)
	}
	ph.Rules = nil
	ph.Circuit.Target = circuit.NoTarget
	ph.Window = scheduler.Config{Steps: longest}
	env := *t.env
	env.Batch = min(batch, n)
	// Every window draws from the evaluation seed and its first sample's
	// index, so that what a window draws does not depend on the windows
	// before it.
	seed := SubSeed(t.env.Seed, SeedEvalNoise)
	noise := neuron.NewGaussian(seed)
	c, s, _, err := ph.Build(&env, noise)
	if err != nil {
		return nil, 0, err
	}
	x := mat.NewDense(env.Batch, sp.Set.Dim, nil)
	labels := make([]int, env.Batch)
	// One readout per presentation time: the output summed over the last
	// quarter of its first steps[m] time indices, k in [from[m], steps[m]).
	means := make([]*mat.Dense, len(steps))
	views := make([]*mat.Dense, len(steps))
	from := make([]int, len(steps))
	for m, st := range steps {
		means[m] = mat.NewDense(env.Batch, t.Net.NOut(), nil)
		from[m] = st - max(st/4, 1)
	}
	var spikes, neuronSteps float64
	s.Observe(1, func(k int, _ *scheduler.Clock) {
		for m, v := range views {
			switch {
			case k == from[m]:
				v.Copy(c.Output())
			case k > from[m] && k < steps[m]:
				v.Add(v, c.Output())
			}
		}
		if k == 0 {
			return
		}
		for i := 1; i < t.Net.L(); i++ {
			if v := neuron.Spikes(c.Layer(i).Soma()); v >= 0 {
				m := c.State(i).Extra[v]
				spikes += mat.Sum(m)
				r, n := m.Dims()
				neuronSteps += float64(r * n)
			}
		}
	})
	correct := make([]int, len(steps))
	for lo := 0; lo < n; lo += env.Batch {
		b := min(env.Batch, n-lo)
		xb := x.Slice(0, b, 0, sp.Set.Dim).(*mat.Dense)
		for m := range views {
			views[m] = means[m].Slice(0, b, 0, t.Net.NOut()).(*mat.Dense)
		}
		sp.Batch(xb, labels[:b], t.table, nil, lo)
		noise.Reseed(SubSeed(seed, lo))
		if err := s.Window(c, xb, nil); err != nil {
			return nil, 0, err
		}
		tg := mat.NewDense(b, t.Net.NOut(), nil)
		circuit.SetSoftTargets(tg, labels[:b], 1)
		for m, v := range views {
			correct[m] += circuit.Correct(v, tg)
		}
	}
	if neuronSteps > 0 {
		rate = spikes / neuronSteps / c.Clock().DT()
	}
	acc = make([]float64, len(steps))
	for m := range acc {
		acc[m] = float64(correct[m]) / float64(n)
	}
	return acc, rate, nil
}
