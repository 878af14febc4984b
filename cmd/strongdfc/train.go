package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/strongdfc/strongdfc/dataset"
	"github.com/strongdfc/strongdfc/internal/config"
	"github.com/strongdfc/strongdfc/internal/prof"
	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/internal/runner"
	"github.com/strongdfc/strongdfc/train"
)

// configFlags are the flags that choose a configuration (train and
// trace).
type configFlags struct {
	preset, file string
	set          []string
	// run is the run folder (--resume, --from) whose configuration is
	// resolved instead of preset and file: its config.yaml on top of its
	// checkpoint's configuration (runner.RunConfig).
	run string
}

func (c *configFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.preset, "preset", "", "named configuration to start from, see: strongdfc presets (default: the config file's preset key, else "+config.DefaultPreset+")")
	f.StringVar(&c.file, "config", "", "YAML configuration `file` whose keys change the preset's values (e.g. a run's config.yaml, which repeats that run); unknown keys are errors")
	f.StringArrayVar(&c.set, "set", nil, "change one configuration value, `key=value` with a dotted key and a YAML value (forward.lr=1e-3, dynamics.steps=200, hidden=[64,64]); repeatable, applied after --config")
}

func (c *configFlags) resolve() (train.Config, string, error) {
	if c.run != "" {
		return runner.RunConfig(c.run, c.set)
	}
	return config.Resolve(config.Sources{Preset: c.preset, File: c.file, Set: c.set})
}

// describe names the sources of a configuration, for error messages.
func (c *configFlags) describe(preset string, flags []string) string {
	parts := []string{"preset " + preset}
	switch {
	case c.run != "":
		parts = append(parts, filepath.Join(c.run, runfolder.Config))
	case c.file != "":
		parts = append(parts, c.file)
	}
	for _, s := range c.set {
		parts = append(parts, "--set "+s)
	}
	for _, f := range flags {
		parts = append(parts, "--"+f)
	}
	return strings.Join(parts, " + ")
}

func newTrain() *cobra.Command {
	var (
		cf                                         configFlags
		dataDir, out, name, resume, from, logLevel string
		serve                                      string
		allowRemote                                bool
		epochs, batch, trainLimit, pretrainEpochs  int
		steps                                      int
		seed                                       uint64
		every                                      time.Duration
		dryRun                                     bool
		pf                                         prof.Flags
	)
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a network; keep everything in a run folder",
		Long: `Train a network from a configuration: a preset (--preset), changed by a
YAML file (--config) and by single values (--set key=value and the flags
below), in that order. The run gets a new folder OUT/NAME holding the
resolved configuration (config.yaml: "train --config OUT/NAME/config.yaml"
repeats the run), command.txt, meta.json (program, Go version, BLAS
backend, seeds), metrics.csv and metrics.jsonl (one row per epoch: losses,
accuracies, time, diagnostics), summary.json, log.jsonl, checkpoint.npz
(after every epoch, every 10 minutes within one, and on Ctrl-C/SIGTERM),
weights.npz and plots/ (PNG with their data as CSV). An existing folder is never overwritten.

"train --resume OUT/NAME" continues a run from its checkpoint; it ends with
the same bits as a run that was never interrupted. --epochs may extend it.

Progress is a bar with the epoch's and the run's remaining time on a
terminal, a line every --progress otherwise. The last line of stdout is a
JSON summary. A run that diverges (NaN or infinite values) stops with a
message naming the epoch, the minibatch and the layer, and keeps the
last good checkpoint.

Feedback pre-training runs before the training epochs, whatever --epochs
says (20 epochs in some presets; see "strongdfc presets"); --pretrain-epochs
changes it. A first look that learns in minutes shortens every window
and the data: --epochs 1 --train-limit 5000 --batch 32 --steps 100.`,
		Example: `  strongdfc train --preset mnist-strong-dfc --epochs 1 --train-limit 5000 --batch 32 --steps 100
  strongdfc train --preset mnist-strong-dfc --epochs 1 --name first
  strongdfc train --preset mnist-strong-dfc --serve 127.0.0.1:8040
  strongdfc train --config my.yaml --set forward.lr=5e-4 --seed 2
  strongdfc train --resume runs/first --epochs 40`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			var cfg train.Config
			var preset string
			var err error
			if from != "" && resume != "" {
				return usageError{fmt.Errorf("--from starts a new run from another's checkpoint, --resume continues a run in its own folder: give one of them")}
			}
			if resume != "" {
				for _, n := range []string{"preset", "config", "set", "seed", "batch", "train-limit", "pretrain-epochs", "steps", "out", "name"} {
					if f.Changed(n) {
						return usageError{fmt.Errorf("--resume continues a run with its own configuration; --%s cannot change it (only --epochs can, to extend the run)", n)}
					}
				}
				cf.run = resume
			}
			if from != "" {
				for _, n := range []string{"preset", "config"} {
					if f.Changed(n) {
						return usageError{fmt.Errorf("--from continues another run with its configuration, changed by --set and --epochs; --%s does not go with it", n)}
					}
				}
				cf.run = from
			}
			if cfg, preset, err = cf.resolve(); err != nil {
				return err
			}
			var changed []string
			for _, o := range []struct {
				name string
				set  func()
			}{
				{"epochs", func() { cfg.Epochs = epochs }},
				{"seed", func() { cfg.Seed = seed }},
				{"batch", func() { cfg.Batch = batch }},
				{"train-limit", func() { cfg.TrainLimit = trainLimit }},
				{"pretrain-epochs", func() { cfg.Pretrain.Epochs = pretrainEpochs }},
				{"steps", func() {
					cfg.Dynamics.Steps = steps
					if cfg.Pretrain.Dynamics.Steps > 0 {
						cfg.Pretrain.Dynamics.Steps = steps
					}
					if cfg.Sleep.Dynamics.Steps > 0 {
						cfg.Sleep.Dynamics.Steps = steps
					}
				}},
			} {
				if f.Changed(o.name) {
					o.set()
					changed = append(changed, o.name)
				}
			}
			if err := cfg.Validate(); err != nil {
				return fmt.Errorf("configuration (%s): %w", cf.describe(preset, changed), err)
			}
			if dryRun {
				y, err := config.Marshal(cfg, preset, "Resolved configuration ("+cf.describe(preset, changed)+").")
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(y)
				return err
			}
			var level zapcore.Level
			if err := level.Set(logLevel); err != nil {
				return usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", logLevel)}
			}
			display := runner.NewDisplay(cmd.ErrOrStderr(), isTerminal(cmd.ErrOrStderr()), every)
			log := runner.ConsoleLogger(display, level)
			defer log.Sync() //nolint:errcheck
			stopProf, addr, err := pf.Start()
			if err != nil {
				return err
			}
			if addr != "" {
				log.Info("pprof", zap.String("url", "http://"+addr+"/debug/pprof/"))
			}
			opt := runner.Options{DataDir: dataDir, Out: out, Name: name, Resume: resume, From: from, Preset: preset,
				Command: append([]string{"strongdfc"}, os.Args[1:]...), Display: display, Log: log}
			if testCommand != nil {
				opt.Command = testCommand
			}
			if testHooks != nil {
				testHooks(&opt)
			}
			var page *livePage
			if serve != "" {
				if page, err = startLive(serve, allowRemote, name, &opt, log); err != nil {
					stopProf() //nolint:errcheck
					return err
				}
			}
			sum, err := runner.Run(cmd.Context(), cfg, opt)
			if page != nil {
				page.finish(sum, err)
			}
			if perr := stopProf(); perr != nil {
				log.Error("profiling", zap.Error(perr))
			}
			b, _ := json.Marshal(sum)
			fmt.Fprintln(cmd.OutOrStdout(), string(b))
			return err
		},
	}
	cf.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&dataDir, "data", "", "`folder` with the data set's files: IDX, or CIFAR-10's binary batches (default: MNIST from the Go module cache, Fashion-MNIST from "+dataset.FashionMNISTDefaultDir+"; CIFAR-10 has none)")
	fl.IntVar(&epochs, "epochs", 0, "training `epochs` (default: the configuration's; the published runs have 40); feedback pre-training runs before them (--pretrain-epochs; see presets); with --resume, extends the run")
	fl.Uint64Var(&seed, "seed", 0, "`seed` of every random draw: initial weights, sample order, noise (default: the configuration's)")
	fl.IntVar(&batch, "batch", 0, "minibatch `size` in samples (default: the configuration's, 128 in the published runs)")
	fl.IntVar(&trainLimit, "train-limit", 0, "train on the first `N` training samples only, 0 for all (default: the configuration's)")
	fl.IntVar(&pretrainEpochs, "pretrain-epochs", 0, "`epochs` of feedback pre-training before training (default: the configuration's)")
	fl.IntVar(&steps, "steps", 0, "time `steps` T of every window: training, pre-training and sleep (dynamics.steps, pretrain.dynamics.steps, sleep.dynamics.steps; default: the configuration's, 500 in the published runs)")
	fl.StringVar(&out, "out", "runs", "`folder` in which the run folder is created")
	fl.StringVar(&name, "name", "", "run folder `name` (default: the start time, 20060102-150405); an existing one is an error")
	fl.StringVar(&from, "from", "", "start a new run folder from the checkpoint of the run in `folder`, with its configuration changed by --set in the optimizers' constants (forward.*, feedback.*, not kind or second_moment), clip_norm, stream_reset, forward_settle, dynamics.alpha, dynamics.integral_leak and, where neurons spike off a stream, spiking.rate_max, spiking.input_rate_max and spiking.tau_syn, and by --epochs (a lower learning rate or less spike noise from there on, say); that folder is left unchanged")
	fl.StringVar(&resume, "resume", "", "continue the run in `folder` from its checkpoint (no configuration flags but --epochs)")
	fl.DurationVar(&every, "progress", 5*time.Second, "`interval` between progress lines when stderr is not a terminal")
	fl.StringVar(&logLevel, "log-level", "info", "console log `level`: debug, info, warn or error (log.jsonl records debug and up)")
	fl.BoolVar(&dryRun, "dry-run", false, "print the resolved configuration as YAML and stop (nothing is written)")
	fl.StringVar(&serve, "serve", "", "serve a live page of the run at `address` while it trains (127.0.0.1:8040; :8040 means 127.0.0.1; port 0 picks a free one); it only reads")
	fl.BoolVar(&allowRemote, "allow-remote", false, "let --serve use an address other than loopback (every machine that reaches it can read the page)")
	gf := flag.NewFlagSet("profiling", flag.ContinueOnError)
	pf.Register(gf)
	fl.AddGoFlagSet(gf)
	return cmd
}

// isTerminal reports whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && runner.IsTerminal(f)
}

// Hooks for the tests: the recorded command line and access to the
// runner's options (progress and epoch callbacks).
var (
	testCommand []string
	testHooks   func(*runner.Options)
	// testServed receives the address of the live page of train --serve
	// and view.
	testServed func(url string)
)
