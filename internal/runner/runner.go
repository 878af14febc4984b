// Package runner runs a configured training experiment for the commands
// (cmd/strongdfc and experiments/mnist): it loads the data, drives a
// train.Trainer epoch by epoch, shows progress, logs, and keeps the run
// folder: the resolved configuration, the command line, the program and
// machine, metrics.csv and metrics.jsonl, a checkpoint after every epoch
// and on interruption, the final weights, the summary and the plots.
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
	// Restart lets the run start in Out/Name although the folder exists,
	// as long as it holds no checkpoint: what a run that stopped before
	// its first checkpoint left there is removed (runfolder.Claim). The
	// sweep executor starts its runs so; Name must be given.
	Restart bool
	// Preset and Command are recorded in the run folder.
	Preset  string
	Command []string
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
	// Observer, when not nil, watches the run from the training goroutine
	// (a live page: internal/live).
	Observer Observer
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
	// WallSeconds is this session's time, from start to end (a resumed
	// run's earlier sessions are not in it); EpochSeconds is the time of
	// every epoch of the run (its windows and evaluations, pre-training
	// and sleep phases included) summed over all its sessions.
	WallSeconds  float64 `json:"wall_seconds"`
	EpochSeconds float64 `json:"epoch_seconds"`
	Seed         uint64  `json:"seed"`
	Backend      string  `json:"backend"`
	GOMAXPROCS   int     `json:"gomaxprocs"`
	PeakRSSMB    float64 `json:"peak_rss_mb"`
	GoVersion    string  `json:"go_version"`
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
	DataDir   string            `json:"data_dir,omitempty"`
	Started   time.Time         `json:"started"`
	Command   []string          `json:"command"`
	Resumed   []Resumed         `json:"resumed,omitempty"`
}

// Resumed records one continuation of a run.
type Resumed struct {
	Time    time.Time         `json:"time"`
	At      string            `json:"at"`
	Command []string          `json:"command"`
	Program runfolder.Program `json:"program"`
}

// Run trains cfg to the end, or until ctx ends or the run diverges, and
// returns the summary. When ctx ends, the state is saved to the run
// folder's checkpoint and the error is a *train.Interrupted. When the run
// diverges, the error wraps circuit.ErrDiverged and the checkpoint of the
// last good epoch is kept.
func Run(ctx context.Context, cfg train.Config, opt Options) (sum Summary, err error) {
	// A run's live data are about 85 MB for MNIST, and it makes little
	// garbage; collecting at 1.5× the live heap instead of Go's default 2×
	// keeps the peak memory near 130 MB at no measurable cost. GOGC, when
	// set, decides instead.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(50))
	}
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
	finish := func() {
		sum.WallSeconds = time.Since(start).Seconds()
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
			return sum, err
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
	pool := opt.Pool
	if pool == nil {
		pool = compute.NewPool(0)
		defer pool.Close()
	}
	tr, err := train.New(cfg, data, train.Options{Pool: pool})
	if err != nil {
		return sum, err
	}
	switch {
	case opt.Resume != "":
		snap, err := checkpoint.Read(run.Path(runfolder.Checkpoint))
		if err != nil {
			return sum, fmt.Errorf("resume: %w", err)
		}
		if err := tr.Restore(snap); err != nil {
			return sum, fmt.Errorf("resume: %s: %w", run.Path(runfolder.Checkpoint), err)
		}
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
	if run != nil {
		sum.RunDir = run.Dir
		run.RemoveStaleTemps()
		flog, closeLog, err := fileLogger(run, log)
		if err != nil {
			return sum, err
		}
		defer closeLog()
		log = flog
		if err := writeStart(run, cfg, opt, tr, start); err != nil {
			return sum, err
		}
		if metrics, err = openMetrics(run, len(cfg.Hidden)+1, tr.History()); err != nil {
			return sum, err
		}
		defer metrics.close()
		defer func() {
			finish()
			if werr := run.WriteJSON(runfolder.Summary, sum); werr != nil && err == nil {
				err = werr
			}
		}()
	}
	log.Info("data",
		zap.String("dataset", cfg.Dataset), zap.Int("train", data.Train.Len()),
		zap.Int("validation", data.Validation.Len()), zap.Int("test", data.Test.Len()))
	if opt.Resume != "" {
		log.Info("resumed", zap.String("run", run.Dir), zap.Stringer("at", tr.Position()))
		if tr.Done() {
			log.Info("the run is already complete; give --epochs N to extend it", zap.Int("epochs", cfg.Epochs))
		}
	} else if run != nil {
		log.Info("run folder", zap.String("dir", run.Dir))
	}
	for _, r := range tr.History() {
		sum.add(r)
	}
	if opt.Observer != nil {
		opt.Observer.Started(tr, sum.RunDir)
	}

	var plotted time.Time
	for !tr.Done() {
		pos := tr.Position()
		progress := func(p train.Progress) {
			if opt.Display != nil {
				opt.Display.update(p, pos.Batch, remaining(tr, p, pos.Batch))
			}
			if opt.OnProgress != nil {
				opt.OnProgress(p)
			}
			if opt.Observer != nil {
				opt.Observer.Progress(tr, p, remaining(tr, p, pos.Batch))
			}
		}
		r, err := tr.Next(ctx, progress)
		var in *train.Interrupted
		switch {
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
			writePlots(run, tr.History(), log)
			log.Warn("interrupted; the state is saved", zap.Stringer("at", in.At),
				zap.String("resume with", "strongdfc train --resume "+run.Dir))
			return sum, err
		case errors.Is(err, circuit.ErrDiverged):
			if opt.Display != nil {
				opt.Display.stop()
			}
			sum.Status = "diverged"
			fields := []zap.Field{zap.Error(err)}
			if run != nil {
				fields = append(fields, zap.String("kept", run.Path(runfolder.Checkpoint)+" (the last good checkpoint, "+pos.String()+")"))
				writePlots(run, tr.History(), log)
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
		if run != nil {
			// The checkpoint first: resuming rewrites the metrics from it.
			if err := saveCheckpoint(run, tr, log); err != nil {
				return sum, err
			}
			if err := metrics.append(r); err != nil {
				return sum, err
			}
			if time.Since(plotted) >= plotEvery {
				writePlots(run, tr.History(), log)
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
		writePlots(run, tr.History(), log)
	}
	log.Info("done", zap.Float64("test_accuracy", sum.TestAccuracy), zap.Float64("validation_accuracy", sum.ValidationAccuracy),
		zap.Duration("wall", time.Since(start).Round(time.Second)))
	return sum, nil
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

// remaining estimates the time until the run ends from the pace of the
// current epoch (minibatches done since startBatch in p.Elapsed).
func remaining(tr *train.Trainer, p train.Progress, startBatch int) time.Duration {
	done := p.Batch - startBatch
	if done <= 0 {
		return 0
	}
	per := p.Elapsed / time.Duration(done)
	left := p.Batches - p.Batch + tr.StagesLeft()*p.Batches
	return per * time.Duration(left)
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

// saveCheckpoint writes the trainer's state atomically over the run's
// checkpoint.
func saveCheckpoint(run *runfolder.Run, tr *train.Trainer, log *zap.Logger) error {
	t := time.Now()
	snap, err := tr.Snapshot()
	if err != nil {
		return err
	}
	if err := run.WriteFile(runfolder.Checkpoint, func(w io.Writer) error { return checkpoint.Write(w, snap) }); err != nil {
		return err
	}
	log.Debug("checkpoint", zap.Stringer("at", tr.Position()), zap.Duration("took", time.Since(t)))
	return nil
}

// writePlots draws the figures; a figure that fails is logged, not fatal.
func writePlots(run *runfolder.Run, h []train.EpochResult, log *zap.Logger) {
	if len(h) == 0 {
		return
	}
	dir := run.Path(runfolder.Plots)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Warn("plots", zap.Error(err))
		return
	}
	for name, fig := range map[string]plots.Figure{"learning_curves": plots.LearningCurves(h), "diagnostics": plots.Diagnostics(h)} {
		if len(fig.Panels) == 0 {
			continue
		}
		if err := fig.Save(dir, name); err != nil {
			log.Warn("plots", zap.String("figure", name), zap.Error(err))
		}
	}
}

// writeStart records the configuration, the command line and meta.json
// (at creation), or appends the resuming command (on resume).
func writeStart(run *runfolder.Run, cfg train.Config, opt Options, tr *train.Trainer, start time.Time) error {
	cmd := strings.Join(quoteAll(opt.Command), " ")
	if err := run.AppendLine(runfolder.Command, cmd); err != nil {
		return err
	}
	if opt.Resume != "" {
		var m Meta
		b, err := os.ReadFile(run.Path(runfolder.Meta))
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil {
			return fmt.Errorf("resume: %s: %w", run.Path(runfolder.Meta), err)
		}
		m.Resumed = append(m.Resumed, Resumed{Time: start, At: tr.Position().String(), Command: opt.Command, Program: runfolder.ProgramInfo()})
		if err := run.WriteJSON(runfolder.Meta, m); err != nil {
			return err
		}
		// --epochs may have extended the run: the configuration file must
		// repeat the run as it now is.
		return writeConfig(run, cfg, m.Preset)
	}
	if err := writeConfig(run, cfg, opt.Preset); err != nil {
		return err
	}
	return run.WriteJSON(runfolder.Meta, Meta{
		Program: runfolder.ProgramInfo(), Preset: opt.Preset,
		Seed: cfg.Seed, SplitSeed: cfg.SplitSeed, NoiseSeed: train.NoiseSeed(cfg.Seed),
		DataDir: opt.DataDir, Started: start, Command: opt.Command,
	})
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
