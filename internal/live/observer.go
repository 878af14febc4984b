package live

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/dataset"
	"github.com/strongdfc/strongdfc/internal/config"
	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/internal/runner"
	"github.com/strongdfc/strongdfc/internal/trace"
	"github.com/strongdfc/strongdfc/train"
)

// Options say when and what an Observer records.
type Options struct {
	// Every is the least time between two recorded windows while a page
	// is open (0: 30 s); Idle the least time between two while none is
	// (0: 5 min), checked after each epoch. The run's last epoch is always
	// followed by one.
	Every, Idle time.Duration
	// WatchTimeout is how long after its last request a page counts as
	// open (0: 15 s; the page asks every 2 s).
	WatchTimeout time.Duration
	// Samples is the number of samples of a window (0: 3), the first ones
	// of the test split (else of validation, else of train); Neurons the
	// neurons recorded per layer (0: 3); Records the most records of a
	// window (0: 101; every ⌈T/(Records−1)⌉-th step).
	Samples, Neurons, Records int
	// Log receives the recording errors (nil: none).
	Log *zap.Logger
}

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Every, 30*time.Second)
	def(&o.Idle, 5*time.Minute)
	def(&o.WatchTimeout, 15*time.Second)
	for _, p := range []struct {
		n *int
		v int
	}{{&o.Samples, 3}, {&o.Neurons, 3}, {&o.Records, 101}} {
		if *p.n <= 0 {
			*p.n = p.v
		}
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
}

// Observer publishes a run into a Feed from the training goroutine (it is
// a runner.Observer) and records windows in a goroutine of its own.
type Observer struct {
	feed *Feed
	opt  Options

	// Set by Started; then read by the training goroutine and, while busy,
	// by the recording goroutine (never written while busy).
	dir     string
	sim     train.Simulated
	net     *circuit.Network // the spare network the windows run on
	env     *train.Env
	x, tg   *mat.Dense
	samples []int
	labels  []int
	split   string
	every   int

	// Of the training goroutine only: the number of pre-training epochs,
	// the start of the last recording (or of the run) and the number of
	// recordings started.
	pretrain int
	last     time.Time
	count    int
	busy     atomic.Bool
	wg       sync.WaitGroup
}

var _ runner.Observer = (*Observer)(nil)

// NewObserver returns an observer publishing into feed.
func NewObserver(feed *Feed, opt Options) *Observer {
	opt.defaults()
	return &Observer{feed: feed, opt: opt}
}

// Started describes the run in the feed and prepares the recording of
// windows: a spare network, the samples and their targets.
func (o *Observer) Started(tr *train.Trainer, dir string) {
	cfg := tr.Config()
	m := tr.Method()
	o.dir = dir
	in := Info{Name: o.feed.Info().Name, Dir: dir, Live: true, Method: cfg.Method, Dataset: cfg.Dataset}
	if dir != "" {
		in.Name = filepath.Base(dir)
	}
	for _, p := range m.Prologue {
		if p == "pretrain" {
			in.PretrainEpochs++
		}
	}
	o.pretrain = in.PretrainEpochs
	if dir != "" {
		if b, err := os.ReadFile(filepath.Join(dir, runfolder.Config)); err == nil {
			in.ConfigYAML = string(b)
		}
		if b, err := os.ReadFile(filepath.Join(dir, runfolder.Meta)); err == nil && json.Valid(b) {
			in.Meta = b
		}
	}
	if in.ConfigYAML == "" {
		if y, err := config.Marshal(cfg, "", "Configuration of the run."); err == nil {
			in.ConfigYAML = string(y)
		}
	}
	if sim, ok := m.Phase("train").(train.Simulated); ok {
		o.prepare(tr, sim)
		in.Windows = o.net != nil
	}
	o.feed.SetInfo(in)
	o.feed.Start(tr.History())
	o.last = time.Now()
}

// prepare makes what the windows are recorded with; on failure the run
// has no windows (the reason is published).
func (o *Observer) prepare(tr *train.Trainer, sim train.Simulated) {
	cfg, data := tr.Config(), tr.Data()
	var sp dataset.Split
	for _, s := range []struct {
		name  string
		split dataset.Split
	}{{"test", data.Test}, {"validation", data.Validation}, {"train", data.Train}} {
		if s.split.Len() > 0 {
			o.split, sp = s.name, s.split
			break
		}
	}
	S := min(o.opt.Samples, sp.Len())
	if S == 0 {
		return
	}
	net := tr.Net.Clone()
	net.Pool = nil
	env, err := train.NewEnv(cfg, tr.Method(), net, S, cfg.Seed, nil)
	if err != nil {
		o.feed.setWindowError(fmt.Errorf("windows cannot be recorded: %w", err))
		return
	}
	o.sim, o.net, o.env = sim, net, env
	o.samples, o.labels = make([]int, S), make([]int, S)
	for i := range o.samples {
		o.samples[i] = i
	}
	o.x = mat.NewDense(S, sp.Set.Dim, nil)
	sp.Batch(o.x, o.labels, data.Norm.Table(), o.samples, 0)
	o.tg = mat.NewDense(S, net.NOut(), nil)
	if cfg.Autoencoder() {
		o.tg.Copy(o.x)
	} else {
		circuit.SetSoftTargets(o.tg, o.labels, cfg.TargetClassValue)
	}
	T := sim.Window.Steps
	o.every = max(1, (T-1+o.opt.Records-2)/(o.opt.Records-1))
}

// Progress publishes the position and starts a window when one is due
// (a page is open and the last is older than Options.Every).
func (o *Observer) Progress(tr *train.Trainer, p train.Progress, remaining time.Duration) {
	o.feed.Progress(p, remaining)
	if o.watchedDue() {
		o.record(tr, p)
	}
}

// watchedDue reports whether a page is open and the last window is older
// than Options.Every (or there is none yet).
func (o *Observer) watchedDue() bool {
	return o.feed.Watched(o.opt.WatchTimeout) && (o.count == 0 || time.Since(o.last) >= o.opt.Every)
}

// Epoch publishes the epoch and starts a window when one is due: as in
// Progress, or when the last is older than Options.Idle, or when the run
// is over (then after the one under way, if any).
func (o *Observer) Epoch(tr *train.Trainer, r train.EpochResult) {
	o.feed.Epoch(r)
	// The epoch's end (x = e for training epoch e, 0 for the last
	// pre-training epoch).
	p := train.Progress{Phase: r.Phase, Epoch: r.Epoch, Epochs: o.pretrain, Batch: 1, Batches: 1}
	if tr.Done() {
		o.Wait()
		o.record(tr, p)
		return
	}
	if time.Since(o.last) >= o.opt.Idle || o.watchedDue() {
		o.record(tr, p)
	}
}

// record copies the network's weights into the spare network and records
// a window of it in a goroutine, unless a recording is under way.
func (o *Observer) record(tr *train.Trainer, p train.Progress) {
	if o.net == nil || !o.busy.CompareAndSwap(false, true) {
		return
	}
	o.last = time.Now()
	o.count++
	o.net.CopyFrom(tr.Net)
	x, _ := epochX(p)
	if p.Phase == "sleep" {
		x = float64(p.Epoch) // a sleep phase next to training epoch p.Epoch
	}
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		defer o.busy.Store(false)
		if err := o.recordWindow(p, x); err != nil {
			o.feed.setWindowError(err)
			o.opt.Log.Warn("live page: recording a window failed", zap.Error(err))
		}
	}()
}

// recordWindow records a window of the spare network, publishes it and
// saves it in the run folder. It measures the CPU time the recording
// takes on its thread (the recording runs on one goroutine).
func (o *Observer) recordWindow(p train.Progress, x float64) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start, cpu := time.Now(), threadCPU()
	t, err := trace.Record(o.sim, o.env, nil, o.x, o.tg, o.samples, o.labels,
		trace.Options{Steps: o.sim.Window.Steps, Every: o.every, Neurons: o.opt.Neurons})
	if err != nil {
		return fmt.Errorf("recording a window: %w", err)
	}
	w := newWindow(t, o.split)
	w.Recorded, w.Seconds, w.CPUSeconds = time.Now(), time.Since(start).Seconds(), Num(threadCPU()-cpu)
	w.Phase, w.Epoch, w.Batch, w.Batches, w.X = p.Phase, p.Epoch, p.Batch, p.Batches, x
	pt := UPoint{X: Num(x), UNorm: Num(w.UNorm), Time: w.Recorded, Seconds: w.Seconds, CPUSeconds: w.CPUSeconds}
	w.History = append(append([]UPoint(nil), o.feed.uNormHistory()...), pt)
	b, err := json.Marshal(w)
	if err != nil {
		return err
	}
	o.feed.setWindow(b, pt)
	if o.dir != "" {
		return runfolder.WriteAtomic(filepath.Join(o.dir, WindowFile), func(wr io.Writer) error {
			_, err := wr.Write(b)
			return err
		})
	}
	return nil
}

// Wait waits until the window under way, if any, is recorded and saved.
func (o *Observer) Wait() { o.wg.Wait() }
