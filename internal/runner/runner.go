// Package runner runs a configured training experiment for the commands
// (cmd/strongdfc and experiments/mnist): it loads the data, drives a
// train.Trainer epoch by epoch, shows progress, logs, and keeps the run
// folder: the resolved configuration, the command line, the program and
// machine, metrics.csv and metrics.jsonl, a checkpoint after every epoch,
// every ten minutes within one (Options.CheckpointEvery) and on
// interruption, the final weights, the summary and the plots.
//
// Nothing already written is lost: the run folder is created only once
// the configuration and the data have been checked, never over an
// existing one; the checkpoint is replaced atomically and only by a good
// state (never after a divergence); a resumed run's metrics files are
// rewritten from the checkpoint's history.
package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/strongdfc/strongdfc/checkpoint"
	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/internal/config"
	"github.com/strongdfc/strongdfc/internal/plots"
	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/internal/sysinfo"
	"github.com/strongdfc/strongdfc/train"
)

// Options are where a run reads and writes and how it reports.
type Options struct {
	// DataDir overrides where the data set is read from.
	DataDir string
	// Out is the folder under which the run folder Out/Name is created
	// (Name "" means the start time); Out "" writes no files.
	Out, Name string
	// Resume is a run folder to continue from its checkpoint (Out and
	// Name are then ignored).
	Resume string
	// From is another run's folder whose checkpoint this new run continues
	// (train.Trainer.Fork says what the configuration may change); the
	// run gets its own folder,
	// Out/Name, and From is left unchanged.
	From string
	// Restart lets the run start in Out/Name although the folder exists,
	// as long as it holds no checkpoint: what a run that stopped before
	// its first checkpoint left there is removed (runfolder.Claim). The
	// sweep executor starts its runs so; Name must be given.
	Restart bool
	// Preset and Command are recorded in the run folder.
	Preset  string
	Command []string
	// ResumeCommand is the command an interrupted run names to continue
	// it, with %s where the run folder goes ("": "strongdfc train
	// --resume %s"). A program that adds to the training what the CLI
	// does not (experiments/spiking's per-epoch spiking evaluation) names
	// itself here.
	ResumeCommand string
	// Display shows progress (nil: none).
	Display *Display
	// Log receives the log records (nil: none); the run folder's log.jsonl
	// receives them too, as JSON lines.
	Log *zap.Logger
	// Pool runs the simulation's products and loops (nil: a pool of
	// GOMAXPROCS workers for the run).
	Pool *compute.Pool
	// OnProgress is called after every minibatch and OnEpoch after every
	// epoch, once the epoch is saved (both may be nil).
	OnProgress func(train.Progress)
	OnEpoch    func(*train.Trainer, train.EpochResult)
	// CheckpointEvery is how often a run with a folder also writes its
	// checkpoint within an epoch, between two minibatches (0: every
	// DefaultCheckpointEvery; negative: only after epochs and when
	// interrupted), so that a run killed with no warning (kill -9, a lost
	// machine) loses at most that much.
	CheckpointEvery time.Duration
	// Observer, when not nil, watches the run from the training goroutine
	// (a live page: internal/live).
	Observer Observer
}

// resumeCommand is the command that continues the run in dir.
func (opt *Options) resumeCommand(dir string) string {
	if opt.ResumeCommand == "" {
		return "strongdfc train --resume " + dir
	}
	return fmt.Sprintf(opt.ResumeCommand, dir)
}

// An Observer watches a run from the goroutine that trains it: Started
// once the trainer is ready and the run folder written (dir is the run
// folder, "" when there is none), Progress after every minibatch with the
// estimated time until the run ends, Epoch after every epoch once it is
// saved. Between these calls the trainer is idle: an observer may read it
// (copy its weights) but must not change it, and must return quickly.
type Observer interface {
	Started(tr *train.Trainer, dir string)
	Progress(tr *train.Trainer, p train.Progress, remaining time.Duration)
	Epoch(tr *train.Trainer, r train.EpochResult)
}

// DefaultCheckpointEvery is how often a run's checkpoint is written within
// an epoch unless Options.CheckpointEvery says otherwise.
const DefaultCheckpointEvery = 10 * time.Minute

// Summary is what a run reports at its end; summary.json holds it, and the
// experiments print it as their last line.
type Summary struct {
	Method             string  `json:"method"`
	Dataset            string  `json:"dataset"`
	Epochs             int     `json:"epochs"`
	PretrainEpochs     int     `json:"pretrain_epochs"`
	TrainSamples       int     `json:"train_samples"`
	Batch              int     `json:"batch"`
	TestAccuracy       float64 `json:"test_accuracy"`
	TestLoss           float64 `json:"test_loss"`
	ValidationAccuracy float64 `json:"validation_accuracy"`
	// BestValidationAccuracy is the highest validation accuracy after a
	// training epoch, BestEpoch that epoch.
	BestValidationAccuracy float64 `json:"best_validation_accuracy"`
	BestEpoch              int     `json:"best_epoch"`
	// SamplesPerSecond counts the samples of the training epochs over the
	// time of their windows (without evaluation and pre-training).
	SamplesPerSecond float64 `json:"samples_per_second"`
	PretrainSeconds  float64 `json:"pretrain_seconds"`
	// SleepEpochs and SleepSeconds count the sleep phases of the
	// two-phase methods (feedback learning between training epochs).
	SleepEpochs  int     `json:"sleep_epochs,omitempty"`
	SleepSeconds float64 `json:"sleep_seconds,omitempty"`
	// WallSeconds is the run's time over all its sessions (the first
	// and each --resume), each from its start to its end; a session that
	// was killed counts until its last checkpoint. SessionSeconds is the
	// last session's alone. EpochSeconds is the time of every epoch of
	// the run (its windows and evaluations, pre-training and sleep
	// phases included) summed over all its sessions.
	WallSeconds    float64 `json:"wall_seconds"`
	SessionSeconds float64 `json:"session_seconds"`
	EpochSeconds   float64 `json:"epoch_seconds"`
	Seed           uint64  `json:"seed"`
	Backend        string  `json:"backend"`
	GOMAXPROCS     int     `json:"gomaxprocs"`
	PeakRSSMB      float64 `json:"peak_rss_mb"`
	GoVersion      string  `json:"go_version"`
	// Status is "done", "interrupted", "diverged" or "failed"; Error and
	// StoppedAt say why and where a run that is not done stopped.
	Status    string `json:"status"`
	Error     string `json:"error,omitempty"`
	StoppedAt string `json:"stopped_at,omitempty"`
	RunDir    string `json:"run_dir,omitempty"`

	trainSeconds float64
}

// MarshalJSON writes NaN (a split not evaluated) as null.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary
	b, err := json.Marshal(struct {
		plain
		TestAccuracy           *float64 `json:"test_accuracy"`
		TestLoss               *float64 `json:"test_loss"`
		ValidationAccuracy     *float64 `json:"validation_accuracy"`
		BestValidationAccuracy *float64 `json:"best_validation_accuracy"`
	}{plain(s), num(s.TestAccuracy), num(s.TestLoss), num(s.ValidationAccuracy), num(s.BestValidationAccuracy)})
	return b, err
}

func num(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// Meta is meta.json: what ran, where, with which seeds.
type Meta struct {
	Program   runfolder.Program `json:"program"`
	Preset    string            `json:"preset,omitempty"`
	Seed      uint64            `json:"seed"`
	SplitSeed uint64            `json:"split_seed"`
	NoiseSeed uint64            `json:"noise_seed"`
	// DataDir is the folder the data set was read from (absolute),
	// whether --data named it or it was the data set's default place.
	DataDir string    `json:"data_dir,omitempty"`
	Started time.Time `json:"started"`
	Command []string  `json:"command"`
	// WallSeconds is the first session's time from its start to its end
	// (to its last checkpoint while it runs, or when it was killed).
	WallSeconds float64   `json:"wall_seconds,omitempty"`
	Resumed     []Resumed `json:"resumed,omitempty"`
	// From is the run folder whose checkpoint this run continued (Fork),
	// and FromAt where that checkpoint was taken.
	From   string `json:"from,omitempty"`
	FromAt string `json:"from_at,omitempty"`
}

// Resumed records one continuation of a run.
type Resumed struct {
	Time    time.Time         `json:"time"`
	At      string            `json:"at"`
	Command []string          `json:"command"`
	Program runfolder.Program `json:"program"`
	// DataDir is the data folder of this session when it differs from
	// the first session's.
	DataDir string `json:"data_dir,omitempty"`
	// WallSeconds is this session's time (see Meta.WallSeconds).
	WallSeconds float64 `json:"wall_seconds,omitempty"`
}

// wallSeconds returns the time of all the sessions meta records.
func (m *Meta) wallSeconds() float64 {
	w := m.WallSeconds
	for _, r := range m.Resumed {
		w += r.WallSeconds
	}
	return w
}

// session returns where the current (last) session's time is kept.
func (m *Meta) session() *float64 {
	if len(m.Resumed) > 0 {
		return &m.Resumed[len(m.Resumed)-1].WallSeconds
	}
	return &m.WallSeconds
}

// Run trains cfg to the end, or until ctx ends or the run diverges, and
// returns the summary. When ctx ends, the state is saved to the run
// folder's checkpoint and the error is a *train.Interrupted. When the run
// diverges, the error wraps circuit.ErrDiverged and the checkpoint of the
// last good epoch is kept.
//
// With opt.Resume, a run folder with a checkpoint continues from it; one
// without (its run stopped before its first checkpoint) starts from its
// beginning with the configuration given (config.yaml's), keeping its
// command.txt, meta.json and log.jsonl; a finished run that is not
// extended is left as it is and its summary returned.
func Run(ctx context.Context, cfg train.Config, opt Options) (sum Summary, err error) {
	// A run's live data are 85–115 MB for MNIST, and it makes little
	// garbage; collecting at 1.5× the live heap instead of Go's default 2×
	// costs nothing measurable, and the soft limit of limitMemory bounds
	// the bursts between windows (peak 138–144 MB,
	// docs/performance.md). GOGC, when set, decides instead.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(50))
	}
	// The soft memory limit the run sets (limitMemory) ends with it, so
	// that whatever the process does next (another run) is not held to it.
	defer unlimitMemory()
	start := time.Now()
	log := opt.Log
	if log == nil {
		log = zap.NewNop()
	}
	sum = Summary{
		Method: cfg.Method, Dataset: cfg.Dataset, Batch: cfg.Batch, Seed: cfg.Seed,
		Backend: compute.Backend(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: sysinfo.GoVersion(),
		TestAccuracy: math.NaN(), TestLoss: math.NaN(), ValidationAccuracy: math.NaN(), BestValidationAccuracy: math.NaN(),
		Status: "failed",
	}
	var (
		earlier  float64 // the time of the run's earlier sessions
		finished bool    // a finished run's summary is returned as it is
	)
	finish := func() {
		if finished {
			return
		}
		sum.SessionSeconds = time.Since(start).Seconds()
		sum.WallSeconds = earlier + sum.SessionSeconds
		sum.PeakRSSMB = sysinfo.PeakRSSMB()
		if err != nil && sum.Error == "" {
			sum.Error = err.Error()
		}
	}
	defer finish()
	if err := cfg.Validate(); err != nil {
		return sum, err
	}

	// Check everything before writing anything. The run folder's lock is
	// taken first and held until the summary is written (this deferred
	// call runs last): no other process writes the folder meanwhile.
	var run *runfolder.Run
	var lock *runfolder.Lock
	defer func() {
		if uerr := lock.Unlock(); uerr != nil && err == nil {
			err = uerr
		}
	}()
	switch {
	case opt.Resume != "":
		if run, err = runfolder.Open(opt.Resume); err != nil {
			return sum, fmt.Errorf("resume: %w", err)
		}
		if lock, err = runfolder.TryLock(run.Dir); err != nil {
			return sum, fmt.Errorf("resume: %w", err)
		}
	case opt.Restart && opt.Out != "":
		if run, lock, err = runfolder.Claim(opt.Out, opt.Name); err != nil {
			return sum, err
		}
	}
	data, err := train.LoadData(cfg, opt.DataDir)
	if err != nil {
		return sum, err
	}
	// Reading the data set leaves its compressed files and buffers as
	// garbage: collected now, before the trainer and a checkpoint are
	// built on top of it, they do not raise the run's peak.
	debug.FreeOSMemory()
	pool := opt.Pool
	if pool == nil {
		pool = compute.NewPool(0)
		defer pool.Close()
	}
	tr, err := train.New(cfg, data, train.Options{Pool: pool})
	if err != nil {
		return sum, err
	}
	fromStart := false // a resumed run without a checkpoint
	var fromAt string  // where a fork's checkpoint was taken
	switch {
	case opt.From != "" && opt.Resume != "":
		return sum, fmt.Errorf("a run either resumes its own folder or continues another's (from), not both")
	case opt.From != "":
		parent, err := runfolder.Open(opt.From)
		if err != nil {
			return sum, fmt.Errorf("from: %w", err)
		}
		if !parent.HasCheckpoint() {
			return sum, fmt.Errorf("from: %s has no checkpoint to continue", parent.Dir)
		}
		snap, err := checkpoint.Read(parent.Path(runfolder.Checkpoint))
		if err != nil {
			return sum, fmt.Errorf("from: %w", err)
		}
		if err := tr.Fork(snap); err != nil {
			return sum, fmt.Errorf("from %s: %w", parent.Dir, err)
		}
		fromAt = tr.Position().String()
		if tr.Done() {
			return sum, fmt.Errorf("from: %s was complete at its checkpoint (%s); give more epochs to go on", parent.Dir, fromAt)
		}
	}
	switch {
	case opt.Resume != "" && run.HasCheckpoint():
		cp := run.Path(runfolder.Checkpoint)
		snap, err := checkpoint.Read(cp)
		if err != nil {
			return sum, fmt.Errorf("resume: %w", err)
		}
		if err := sameConfig(run, snap.Config, cfg); err != nil {
			return sum, err
		}
		if err := tr.Restore(snap); err != nil {
			return sum, fmt.Errorf("resume: %s: %w", cp, err)
		}
		debug.FreeOSMemory() // the checkpoint's arrays, now copied into the trainer
		if s, ok := doneSummary(run); ok && tr.Done() {
			log.Info("the run is already complete; nothing in its folder is changed (give --epochs N to extend it)",
				zap.String("run", run.Dir), zap.Int("epochs", cfg.Epochs))
			finished = true
			return s, nil
		}
	case opt.Resume != "":
		fromStart = true
	case run != nil: // Restart: the folder is ours now
		if err := run.Clear(); err != nil {
			return sum, err
		}
	case opt.Out != "":
		if run, err = runfolder.Create(opt.Out, opt.Name, start); err != nil {
			return sum, err
		}
		// Locked before anything is written in it: a sweep executor
		// that Claims the new folder first keeps it, and this run stops.
		if lock, err = runfolder.TryLock(run.Dir); err != nil {
			return sum, err
		}
	}

	var metrics *metrics
	saveMeta := func() error { return nil }
	if run != nil {
		sum.RunDir = run.Dir
		run.RemoveStaleTemps()
		flog, closeLog, err := fileLogger(run, log)
		if err != nil {
			return sum, err
		}
		defer closeLog()
		log = flog
		meta, err := writeStart(run, cfg, opt, tr, start, data.Dir, fromStart)
		if err != nil {
			return sum, err
		}
		if opt.From != "" {
			if meta.From, err = filepath.Abs(opt.From); err != nil {
				return sum, err
			}
			meta.FromAt = fromAt
			if err := run.WriteJSON(runfolder.Meta, meta); err != nil {
				return sum, err
			}
		}
		earlier = meta.wallSeconds()
		saveMeta = func() error {
			*meta.session() = time.Since(start).Seconds()
			return run.WriteJSON(runfolder.Meta, meta)
		}
		if metrics, err = openMetrics(run, len(cfg.Hidden)+1, tr.History()); err != nil {
			return sum, err
		}
		defer metrics.close()
		defer func() {
			finish()
			if werr := saveMeta(); werr != nil && err == nil {
				err = werr
			}
			if werr := run.WriteJSON(runfolder.Summary, sum); werr != nil && err == nil {
				err = werr
			}
		}()
	}
	log.Info("data",
		zap.String("dataset", cfg.Dataset), zap.String("folder", data.Dir), zap.Int("train", data.Train.Len()),
		zap.Int("validation", data.Validation.Len()), zap.Int("test", data.Test.Len()))
	switch {
	case fromStart:
		log.Warn("the run stopped before its first checkpoint; it starts from its beginning with its recorded configuration",
			zap.String("run", run.Dir), zap.String("config", run.Path(runfolder.Config)))
	case opt.Resume != "":
		log.Info("resumed", zap.String("run", run.Dir), zap.Stringer("at", tr.Position()))
		if tr.Done() {
			log.Info("the run is already complete; give --epochs N to extend it", zap.Int("epochs", cfg.Epochs))
		}
	case run != nil:
		log.Info("run folder", zap.String("dir", run.Dir))
	}
	if opt.From != "" {
		log.Info("continues another run's checkpoint", zap.String("from", opt.From), zap.String("at", fromAt))
	}
	if !tr.Done() {
		if pre, ep := tr.Epochs(); len(tr.Method().Prologue)-pre > tr.Config().Epochs-ep {
			// strongdfc train --preset mnist-dfc --epochs 1: 20
			// epochs of pre-training come first; say so loudly.
			log.Warn("plan: more epochs of feedback pre-training than of training", zap.String("epochs", plan(tr)))
		} else {
			log.Info("plan", zap.String("epochs", plan(tr)))
		}
	}
	for _, r := range tr.History() {
		sum.add(r)
	}
	if opt.Observer != nil {
		opt.Observer.Started(tr, sum.RunDir)
	}

	var plotted time.Time
	pc := newPace(tr)
	for !tr.Done() {
		// Collect what setting up, the last epoch's end or a checkpoint
		// left, with no limit while the next phase may build its
		// circuits; the first minibatch sets one (limitMemory).
		unlimitMemory()
		pos := tr.Position()
		limited := false
		progress := func(p train.Progress) {
			if !limited {
				limitMemory()
				limited = true
			}
			rem := pc.remaining(tr, p, pos.Batch)
			if opt.Display != nil {
				opt.Display.update(p, pos.Batch, rem)
			}
			if opt.OnProgress != nil {
				opt.OnProgress(p)
			}
			if opt.Observer != nil {
				opt.Observer.Progress(tr, p, rem)
			}
		}
		r, err := next(ctx, tr, progress, run != nil, opt.CheckpointEvery)
		var in *train.Interrupted
		switch {
		case errors.As(err, &in) && ctx.Err() == nil:
			// A checkpoint within the epoch: the epoch goes on. meta.json
			// keeps the session's time with it (the whole run's wall time
			// after a kill).
			if cerr := saveCheckpoint(run, tr, log); cerr != nil {
				log.Error("the checkpoint could not be written; the previous one is kept", zap.Error(cerr))
			} else if merr := saveMeta(); merr != nil {
				log.Error("meta.json could not be written", zap.Error(merr))
			}
			continue
		case errors.As(err, &in):
			if opt.Display != nil {
				opt.Display.stop()
			}
			sum.Status, sum.StoppedAt = "interrupted", in.At.String()
			if run == nil {
				log.Warn("interrupted", zap.Stringer("at", in.At))
				return sum, err
			}
			if cerr := saveCheckpoint(run, tr, log); cerr != nil {
				log.Error("the checkpoint could not be written; the previous one is kept", zap.Error(cerr))
				return sum, errors.Join(err, cerr)
			}
			writePlots(run, tr, log)
			log.Warn("interrupted; the state is saved", zap.Stringer("at", in.At),
				zap.String("resume with", opt.resumeCommand(run.Dir)))
			return sum, err
		case errors.Is(err, circuit.ErrDiverged):
			if opt.Display != nil {
				opt.Display.stop()
			}
			sum.Status, sum.StoppedAt = "diverged", pos.String()
			fields := []zap.Field{zap.Error(err)}
			if run != nil {
				fields = append(fields, zap.String("kept", kept(run, pos)),
					zap.String("to change the run", "resuming repeats it bit for bit and diverges again; start a new run from its configuration with changes: strongdfc train --config "+
						run.Path(runfolder.Config)+" --set KEY=VALUE --name NEW"))
				writePlots(run, tr, log)
			}
			log.Error("the run diverged", fields...)
			return sum, err
		case err != nil:
			if opt.Display != nil {
				opt.Display.stop()
			}
			log.Error("the run failed", zap.Error(err))
			return sum, err
		}
		if opt.Display != nil {
			opt.Display.finish()
		}
		pc.add(r, pos.Batches)
		if run != nil {
			// The checkpoint first: resuming rewrites the metrics from it.
			if err := saveCheckpoint(run, tr, log); err != nil {
				return sum, err
			}
			if err := saveMeta(); err != nil {
				return sum, err
			}
			if err := metrics.append(r); err != nil {
				return sum, err
			}
			if time.Since(plotted) >= plotEvery {
				writePlots(run, tr, log)
				plotted = time.Now()
			}
		}
		logEpoch(log, r)
		sum.add(r)
		if opt.OnEpoch != nil {
			opt.OnEpoch(tr, r)
		}
		if opt.Observer != nil {
			opt.Observer.Epoch(tr, r)
		}
	}
	sum.Status = "done"
	if run != nil {
		if err := run.WriteFile(runfolder.Weights, func(w io.Writer) error { return checkpoint.WriteWeights(w, cfg, tr.Net) }); err != nil {
			return sum, err
		}
		writePlots(run, tr, log)
	}
	log.Info("done", zap.Float64("test_accuracy", sum.TestAccuracy), zap.Float64("validation_accuracy", sum.ValidationAccuracy),
		zap.Duration("wall", time.Since(start).Round(time.Second)))
	return sum, nil
}

// kept says what a diverged run's folder keeps to continue from.
func kept(run *runfolder.Run, pos train.Position) string {
	if run.HasCheckpoint() {
		return run.Path(runfolder.Checkpoint) + ": the last good state, at " + pos.String()
	}
	return "no checkpoint: the run diverged before its first one was written (config.yaml, meta.json, the metrics and the log are kept)"
}

// RunConfig resolves the configuration of the run folder dir, to resume
// it or to continue it elsewhere: its config.yaml decoded on top of the
// configuration its checkpoint was written with (when it has one), then
// set ("key=value"). Keys added to the program after the run started are
// then those the run had, not today's preset values, so an older run
// resumes as it was. It returns the configuration and its preset's name.
func RunConfig(dir string, set []string) (train.Config, string, error) {
	run, err := runfolder.Open(dir)
	if err != nil {
		return train.Config{}, "", err
	}
	src := config.Sources{File: run.Path(runfolder.Config), Set: set}
	if run.HasCheckpoint() {
		saved, err := checkpoint.ReadConfig(run.Path(runfolder.Checkpoint))
		if err != nil {
			return train.Config{}, "", err
		}
		src.Base = &saved
	}
	return config.Resolve(src)
}

// sameConfig refuses to resume from a checkpoint written with another
// configuration than cfg (config.yaml's, with --epochs), naming the keys
// that differ.
func sameConfig(run *runfolder.Run, saved, cfg train.Config) error {
	a, b := saved.Normalize(), cfg.Normalize()
	a.Epochs, b.Epochs = 0, 0
	if reflect.DeepEqual(a, b) {
		return nil
	}
	return fmt.Errorf("resume: the configuration to resume with differs from the one %s was written with: %s (checkpoint vs now; was %s edited?); a resumed run keeps its configuration: undo the change, or start a new run from the changed configuration: strongdfc train --config %s --name NEW",
		run.Path(runfolder.Checkpoint), train.ConfigDiff(a, b), run.Path(runfolder.Config), run.Path(runfolder.Config))
}

// doneSummary returns the summary a finished run wrote, when it says
// "done".
func doneSummary(run *runfolder.Run) (Summary, bool) {
	b, err := os.ReadFile(run.Path(runfolder.Summary))
	if err != nil {
		return Summary{}, false
	}
	nan := math.NaN()
	s := Summary{TestAccuracy: nan, TestLoss: nan, ValidationAccuracy: nan, BestValidationAccuracy: nan}
	if json.Unmarshal(b, &s) != nil || s.Status != "done" {
		return Summary{}, false
	}
	return s, true
}

// plan says which epochs of which phases the run has left, for the log:
// "20 epochs of feedback pre-training (--pretrain-epochs N changes it),
// then 1 training epoch (each with 1 sleep epoch before it)".
func plan(tr *train.Trainer) string {
	m := tr.Method()
	cfg := tr.Config()
	pre, ep := tr.Epochs()
	var parts []string
	if n := len(m.Prologue) - pre; n > 0 {
		parts = append(parts, fmt.Sprintf("%s of feedback pre-training (--pretrain-epochs N changes it)", count(n, "epoch")))
	}
	if n := cfg.Epochs - ep; n > 0 {
		s := count(n, "training epoch")
		var before, after int
		seenTrain := false
		for _, name := range m.Epoch {
			switch {
			case name == "train":
				seenTrain = true
			case seenTrain:
				after++
			default:
				before++
			}
		}
		var extra []string
		if before > 0 {
			extra = append(extra, count(before, "sleep epoch")+" before")
		}
		if after > 0 {
			extra = append(extra, count(after, "sleep epoch")+" after")
		}
		if len(extra) > 0 {
			s += " (each with " + strings.Join(extra, " and ") + " it)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", then ")
}

// count writes n things: "1 epoch", "2 epochs".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// plotEvery is the least time between redrawing the plots after an epoch;
// they are always drawn when a run ends or stops.
const plotEvery = 30 * time.Second

// add counts a finished epoch into the summary.
func (s *Summary) add(r train.EpochResult) {
	s.EpochSeconds += r.Seconds + r.EvalSeconds
	switch r.Phase {
	case "pretrain":
		s.PretrainEpochs++
		s.PretrainSeconds += r.Seconds
	case "sleep":
		s.SleepEpochs++
		s.SleepSeconds += r.Seconds
	default:
		s.Epochs++
		s.TrainSamples += r.Samples
		s.trainSeconds += r.Seconds
		if s.trainSeconds > 0 {
			s.SamplesPerSecond = float64(s.TrainSamples) / s.trainSeconds
		}
		if !(r.ValAccuracy <= s.BestValidationAccuracy) { // NaN best: take any
			s.BestValidationAccuracy, s.BestEpoch = r.ValAccuracy, r.Epoch
		}
	}
	s.TestAccuracy, s.TestLoss, s.ValidationAccuracy = r.TestAccuracy, r.TestLoss, r.ValAccuracy
}

// pace estimates how long the rest of a run takes. A phase's time per
// minibatch is the current epoch's pace for the phase under way, the
// last finished epoch's for a phase already timed, and for a phase not
// timed yet (training while feedback pre-training runs) the current pace
// scaled by the ratio of the two phases' work per window (windowCost).
// Each epoch adds its phase's last evaluation time (none where the
// evaluation is reused).
type pace struct {
	batch   map[string]float64 // seconds per minibatch of each phase's last finished epoch
	eval    map[string]float64 // seconds of the evaluation after each phase's last epoch
	evalAny float64            // seconds of the last evaluation that ran
	cost    map[string]float64 // work of a window of each phase (0: not known)
}

// newPace returns the pace of tr's run, with the epochs it has done.
func newPace(tr *train.Trainer) *pace {
	p := &pace{batch: map[string]float64{}, eval: map[string]float64{}, cost: map[string]float64{}}
	m := tr.Method()
	for _, ph := range m.Phases {
		p.cost[ph.Name()] = windowCost(m, tr.Net.Sizes, ph)
	}
	b := tr.Config().Batch
	batches := (tr.Data().Train.Len() + b - 1) / b
	for _, r := range tr.History() {
		p.add(r, batches)
	}
	return p
}

// add counts a finished epoch of the given number of minibatches.
func (p *pace) add(r train.EpochResult, batches int) {
	if batches > 0 && r.Seconds > 0 {
		p.batch[r.Phase] = r.Seconds / float64(batches)
	}
	p.eval[r.Phase] = r.EvalSeconds
	if !r.EvalReused {
		p.evalAny = r.EvalSeconds
	}
}

// remaining estimates the time until the run ends from progress pr of
// the epoch under way (minibatches done since startBatch in pr.Elapsed).
func (p *pace) remaining(tr *train.Trainer, pr train.Progress, startBatch int) time.Duration {
	done := pr.Batch - startBatch
	if done <= 0 {
		return 0
	}
	cur := pr.Elapsed.Seconds() / float64(done)
	perBatch := func(phase string) float64 {
		if phase == pr.Phase {
			return cur
		}
		if b, ok := p.batch[phase]; ok {
			return b
		}
		if a, b := p.cost[phase], p.cost[pr.Phase]; a > 0 && b > 0 {
			return cur * a / b
		}
		return cur
	}
	evalOf := func(phase string) float64 {
		if e, ok := p.eval[phase]; ok {
			return e
		}
		return p.evalAny
	}
	secs := float64(pr.Batches-pr.Batch)*cur + evalOf(pr.Phase)
	m := tr.Method()
	total := m.Stages(tr.Config().Epochs)
	for i := total - tr.StagesLeft(); i < total; i++ {
		name, _ := m.Stage(i)
		secs += float64(pr.Batches)*perBatch(name) + evalOf(name)
	}
	return time.Duration(secs * float64(time.Second))
}

// windowCost models the work of one window of phase ph per sample, in
// multiply-adds of its matrix products (as bench.WindowFLOPs counts them
// for the published training window): at each step the basal input of
// layers 2..L and the apical drive of every layer, and for each of the
// phase's rules its product, n_i × n_{i−1} per layer for a rule of the
// forward weights, n_i × n_L for one of the feedback weights. It returns
// 0 for a phase that is not a simulated window.
func windowCost(m train.Method, sizes []int, ph train.Phase) float64 {
	sim, ok := ph.(train.Simulated)
	if !ok || sim.Window.Steps < 2 || len(sizes) < 2 {
		return 0
	}
	L := len(sizes) - 1
	var basal, apical float64
	for i := 1; i <= L; i++ {
		ni, np, nl := float64(sizes[i]), float64(sizes[i-1]), float64(sizes[L])
		if i > 1 {
			basal += ni * np
		}
		apical += ni * nl
	}
	step := basal + apical
	for _, r := range sim.Rules {
		for _, o := range m.Optimizers {
			if o.Name != r.Optimizer {
				continue
			}
			switch o.Of {
			case train.OfForward:
				step += basal
			case train.OfFeedback:
				step += apical
			}
		}
	}
	return float64(sim.Window.Steps-1) * step
}

func logEpoch(log *zap.Logger, r train.EpochResult) {
	fields := []zap.Field{
		zap.String("phase", r.Phase), zap.Int("epoch", r.Epoch),
		zap.Float64("train_loss", r.TrainLoss), zap.Float64("train_accuracy", r.TrainAccuracy),
		zap.Float64("validation_accuracy", r.ValAccuracy), zap.Float64("test_accuracy", r.TestAccuracy),
		zap.Float64("test_loss", r.TestLoss),
		zap.Float64("seconds", r.Seconds), zap.Float64("samples_per_second", float64(r.Samples)/r.Seconds),
	}
	for _, k := range []string{"control", "gn_alignment", "angle_total"} {
		if v, ok := r.Diagnostics[k]; ok {
			fields = append(fields, zap.Float64(k, v))
		}
	}
	log.Info("epoch", fields...)
}

// next runs the trainer's next epoch, or, when a run folder keeps its
// checkpoints, as much of it as fits in every (the checkpoint interval):
// the *train.Interrupted it then returns, while ctx goes on, asks for a
// checkpoint within the epoch.
func next(ctx context.Context, tr *train.Trainer, progress func(train.Progress), folder bool, every time.Duration) (train.EpochResult, error) {
	if !folder || every < 0 {
		return tr.Next(ctx, progress)
	}
	if every == 0 {
		every = DefaultCheckpointEvery
	}
	// Cancelled from the progress callback, after a minibatch: every call
	// makes progress, however short the interval.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	return tr.Next(cctx, func(p train.Progress) {
		progress(p)
		if time.Since(start) >= every {
			cancel()
		}
	})
}

// saveCheckpoint writes the trainer's state atomically over the run's
// checkpoint.
func saveCheckpoint(run *runfolder.Run, tr *train.Trainer, log *zap.Logger) error {
	t := time.Now()
	// A view: written at once, while the trainer does not run, with no
	// second copy of the weights and moments in memory.
	snap, err := tr.SnapshotView()
	if err != nil {
		return err
	}
	if err := run.WriteFile(runfolder.Checkpoint, func(w io.Writer) error { return checkpoint.Write(w, snap) }); err != nil {
		return err
	}
	log.Debug("checkpoint", zap.Stringer("at", tr.Position()), zap.Duration("took", time.Since(t)))
	return nil
}

// writePlots draws the figures of the trainer's history; a figure that
// fails is logged, not fatal.
func writePlots(run *runfolder.Run, tr *train.Trainer, log *zap.Logger) {
	h := tr.History()
	if len(h) == 0 {
		return
	}
	dir := run.Path(runfolder.Plots)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Warn("plots", zap.Error(err))
		return
	}
	// In a fixed order (a map's would change from run to run).
	for _, f := range []struct {
		name string
		fig  plots.Figure
	}{
		{"learning_curves", plots.LearningCurves(h, LossName(tr.Config()))},
		{"diagnostics", plots.Diagnostics(h)},
	} {
		if len(f.fig.Panels) == 0 {
			continue
		}
		if err := f.fig.Save(dir, f.name); err != nil {
			log.Warn("plots", zap.String("figure", f.name), zap.Error(err))
		}
	}
}

// LossName names the loss of the configuration's task in figures:
// "cross-entropy", or "mean squared error" for an autoencoder.
func LossName(cfg train.Config) string {
	if cfg.Autoencoder() {
		return "mean squared error"
	}
	return "cross-entropy"
}

// writeStart records the configuration, the command line and meta.json
// (at creation), or appends the resuming command and session (on resume;
// fromStart: a resumed run without a checkpoint, which starts from its
// beginning), and returns the meta data it wrote. dataDir is the folder
// the data set is read from.
func writeStart(run *runfolder.Run, cfg train.Config, opt Options, tr *train.Trainer, start time.Time, dataDir string, fromStart bool) (*Meta, error) {
	cmd := strings.Join(quoteAll(opt.Command), " ")
	if err := run.AppendLine(runfolder.Command, cmd); err != nil {
		return nil, err
	}
	_, noMeta := os.Stat(run.Path(runfolder.Meta))
	if opt.Resume != "" && !(fromStart && errors.Is(noMeta, os.ErrNotExist)) {
		m := &Meta{}
		b, err := os.ReadFile(run.Path(runfolder.Meta))
		if err == nil {
			err = json.Unmarshal(b, m)
		}
		if err != nil {
			return nil, fmt.Errorf("resume: %s: %w", run.Path(runfolder.Meta), err)
		}
		at := tr.Position().String()
		if fromStart {
			at = "the beginning (no checkpoint)"
		}
		r := Resumed{Time: start, At: at, Command: opt.Command, Program: runfolder.ProgramInfo()}
		if dataDir != m.DataDir {
			r.DataDir = dataDir
		}
		m.Resumed = append(m.Resumed, r)
		if err := run.WriteJSON(runfolder.Meta, m); err != nil {
			return nil, err
		}
		// --epochs may have extended the run: the configuration file must
		// repeat the run as it now is.
		return m, writeConfig(run, cfg, m.Preset)
	}
	// A new run, or a resumed one killed before it wrote meta.json.
	preset := opt.Preset
	if err := writeConfig(run, cfg, preset); err != nil {
		return nil, err
	}
	m := &Meta{
		Program: runfolder.ProgramInfo(), Preset: preset,
		Seed: cfg.Seed, SplitSeed: cfg.SplitSeed, NoiseSeed: train.NoiseSeed(cfg.Seed),
		DataDir: dataDir, Started: start, Command: opt.Command,
	}
	return m, run.WriteJSON(runfolder.Meta, m)
}

// writeConfig writes the run's resolved configuration.
func writeConfig(run *runfolder.Run, cfg train.Config, preset string) error {
	y, err := config.Marshal(cfg, preset,
		"Resolved configuration of the run in "+filepath.Base(run.Dir)+".",
		"`strongdfc train --config "+filepath.Join(run.Dir, runfolder.Config)+"` repeats the run.")
	if err != nil {
		return err
	}
	return run.WriteFile(runfolder.Config, func(w io.Writer) error { _, err := w.Write(y); return err })
}

// quoteAll quotes the arguments that a shell would split or expand.
func quoteAll(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return out
}

// fileLogger returns log teed with a JSON core writing to the run's
// log.jsonl (appending), and a function that closes the file.
func fileLogger(run *runfolder.Run, log *zap.Logger) (*zap.Logger, func(), error) {
	f, err := os.OpenFile(run.Path(runfolder.Log), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.AddSync(f), zapcore.DebugLevel)
	l := zap.New(zapcore.NewTee(log.Core(), core))
	return l, func() { l.Sync(); f.Close() }, nil //nolint:errcheck
}

// ConsoleLogger returns a logger for people, writing to w (a Display, so
// that log lines and the progress bar do not garble each other).
func ConsoleLogger(w io.Writer, level zapcore.Level) *zap.Logger {
	enc := zap.NewDevelopmentEncoderConfig()
	enc.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05")
	enc.EncodeCaller = nil
	enc.CallerKey = ""
	return zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(w), level))
}

// OpenTrainer returns a trainer restored from the checkpoint of the run
// folder dir (its configuration, its data set read from dataDir or
// found as a run finds it), to be evaluated; nothing in the folder is
// changed.
func OpenTrainer(dir, dataDir string) (*train.Trainer, error) {
	run, err := runfolder.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("open run: %w", err)
	}
	if !run.HasCheckpoint() {
		return nil, fmt.Errorf("open run: %s has no checkpoint (it saves one every 10 minutes and at every epoch's end)", run.Dir)
	}
	cfg, _, err := RunConfig(dir, nil)
	if err != nil {
		return nil, fmt.Errorf("open run %s: %w", run.Dir, err)
	}
	snap, err := checkpoint.Read(run.Path(runfolder.Checkpoint))
	if err != nil {
		return nil, fmt.Errorf("open run %s: %w", run.Dir, err)
	}
	data, err := train.LoadData(cfg, dataDir)
	if err != nil {
		return nil, fmt.Errorf("open run %s: %w", run.Dir, err)
	}
	tr, err := train.New(cfg, data)
	if err != nil {
		return nil, fmt.Errorf("open run %s: %w", run.Dir, err)
	}
	if err := tr.Restore(snap); err != nil {
		return nil, fmt.Errorf("open run %s: %w", run.Path(runfolder.Checkpoint), err)
	}
	return tr, nil
}
