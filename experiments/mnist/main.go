// Command mnist trains a 784-256-256-256-10 network by single-phase
// Strong-DFC on MNIST with the published configuration: one epoch of
// feedback pre-training, then training, reporting progress on stderr,
// logging every epoch, and printing a JSON summary as the last line of
// stdout (also when it fails). With -out DIR it keeps a run folder in DIR
// (see cmd/strongdfc: configuration, metrics, checkpoints, plots), which
// `strongdfc train --resume DIR` continues.
//
// -method and -dataset choose another published configuration (the preset
// DATASET-METHOD, e.g. -dataset fashion-mnist -method dfc; CIFAR-10, which
// has none, gets MNIST's: -dataset cifar10 -data DIR); -set
// key=value changes any value of it, as strongdfc's --set does. Flags take
// one dash or two (-epochs, --epochs).
//
//	go run ./experiments/mnist -epochs 1 -train-limit 5000 -batch 32 -steps 100   # a first look: 85 %, 2 minutes
//	go run ./experiments/mnist -epochs 1
//	go run ./experiments/mnist -dataset fashion-mnist -epochs 1
//
// Exit status: 0 success, 1 error (bad input, failed or diverged run), 2
// wrong usage, 130 and 143 interrupted by SIGINT and SIGTERM (go run
// reports every failure as 1; build the command for these).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/strongdfc/strongdfc/dataset"
	"github.com/strongdfc/strongdfc/internal/command"
	"github.com/strongdfc/strongdfc/internal/config"
	"github.com/strongdfc/strongdfc/internal/prof"
	"github.com/strongdfc/strongdfc/internal/runner"
	"github.com/strongdfc/strongdfc/presets"
	"github.com/strongdfc/strongdfc/train"
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		signal.Stop(sig) // a second signal kills at once
		cancel(signalError{s})
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// signalError is the cause of a context cancelled by a signal.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string { return "received " + e.sig.String() }

// run runs the command line args and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	base := presets.MNIST()
	fs := flag.NewFlagSet("mnist", flag.ContinueOnError)
	fs.SetOutput(stderr)
	method := fs.String("method", base.Method, "learning `method`: strong-dfc, strong-dfc-2phase, dfc, dfc-ss, dfc-ssa or bp")
	dataName := fs.String("dataset", base.Dataset, "data `set`: mnist, fashion-mnist or cifar10 (which has no published configuration: MNIST's, and -data DIR)")
	every := fs.Duration("progress", 0, "`interval` between progress lines on stderr when it is not a terminal (default 5s)")
	epochs := fs.Int("epochs", base.Epochs, "training `epochs` (the published run has 40)")
	batch := fs.Int("batch", base.Batch, "minibatch `size` in samples")
	seed := fs.Uint64("seed", base.Seed, "`seed` of every random draw (weights, shuffling, noise)")
	trainLimit := fs.Int("train-limit", 0, "use only the first `N` training samples (0: all 55 000)")
	pretrainEpochs := fs.Int("pretrain-epochs", base.Pretrain.Epochs, "`epochs` of feedback pre-training before training")
	steps := fs.Int("steps", base.Dynamics.Steps, "time `steps` T of every window: training, pre-training and sleep (dynamics.steps, pretrain.dynamics.steps, sleep.dynamics.steps); fewer run faster, and learn less per sample")
	var sets []string
	fs.Func("set", "change one configuration value, `key=value` with a dotted key and a YAML value (forward.lr=1e-3, pretrain.dynamics.steps=100, hidden=[64,64]); repeatable, applied before the flags above", func(s string) error {
		sets = append(sets, s)
		return nil
	})
	opt := runner.Options{Command: append([]string{"mnist"}, args...)}
	fs.StringVar(&opt.DataDir, "data", "", "`folder` with the data set's files (default: MNIST from the GoMNIST module in the Go module cache, Fashion-MNIST from /usr/share/datasets/fashion-mnist)")
	out := fs.String("out", "", "run `folder` to create for the configuration, metrics, checkpoints, weights and plots (never overwritten; default: none)")
	var pf prof.Flags
	pf.Register(fs)

	// fail reports an error that stopped the command before it ran: a
	// message on stderr and, as after every run, a JSON line on stdout.
	fail := func(code int, err error) int {
		fmt.Fprintln(stderr, "mnist:", err)
		b, _ := json.Marshal(struct {
			Status string `json:"status"`
			Error  string `json:"error"`
		}{"failed", err.Error()})
		fmt.Fprintln(stdout, string(b))
		return code
	}
	if err := command.ParseFlags(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return fail(2, err)
	}
	if fs.NArg() > 0 {
		return fail(2, fmt.Errorf("unexpected arguments %q (flags are -name value; see -help)", fs.Args()))
	}
	opt.Preset = *dataName + "-" + *method
	if *dataName == dataset.CIFAR10 {
		opt.Preset = dataset.MNIST + "-" + *method // the network's input size follows the data
	}
	cfg, err := presets.Lookup(opt.Preset)
	if err != nil {
		return fail(2, fmt.Errorf("-dataset %s -method %s: %w", *dataName, *method, err))
	}
	cfg.Dataset = *dataName
	for _, kv := range sets {
		if cfg, err = config.Override(cfg, kv); err != nil {
			return fail(1, err)
		}
	}
	changed := map[string]bool{}
	fs.Visit(func(f *flag.Flag) {
		changed[f.Name] = true
		switch f.Name {
		case "epochs":
			cfg.Epochs = *epochs
		case "batch":
			cfg.Batch = *batch
		case "seed":
			cfg.Seed = *seed
		case "train-limit":
			cfg.TrainLimit = *trainLimit
		case "pretrain-epochs":
			cfg.Pretrain.Epochs = *pretrainEpochs
		case "steps":
			cfg.Dynamics.Steps = *steps
			if cfg.Pretrain.Dynamics.Steps > 0 {
				cfg.Pretrain.Dynamics.Steps = *steps
			}
			if cfg.Sleep.Dynamics.Steps > 0 {
				cfg.Sleep.Dynamics.Steps = *steps
			}
		}
	})
	cfg = cfg.Normalize()
	if err := cfg.Validate(); err != nil {
		return fail(1, fmt.Errorf("configuration (preset %s%s): %w", opt.Preset, describe(sets), err))
	}
	if *out != "" {
		opt.Out, opt.Name = filepath.Dir(*out), filepath.Base(*out)
	}
	opt.Display = runner.NewDisplay(stderr, isTerminal(stderr), *every)
	log := runner.ConsoleLogger(opt.Display, zapcore.InfoLevel)
	defer log.Sync() //nolint:errcheck
	opt.Log = log
	if len(changed) == 0 {
		log.Info("this is the published run: 40 epochs, hours on a laptop; for a first look (85 % in about 2 minutes on 2 cores) try: -epochs 1 -train-limit 5000 -batch 32 -steps 100")
	}
	stopProf, addr, err := pf.Start()
	if err != nil {
		return fail(2, err)
	}
	if addr != "" {
		log.Info("pprof", zap.String("url", "http://"+addr+"/debug/pprof/"))
	}
	sum, err := runner.Run(ctx, cfg, opt)
	if perr := stopProf(); perr != nil {
		log.Error("profiling", zap.Error(perr))
	}
	b, _ := json.Marshal(sum)
	fmt.Fprintln(stdout, string(b))
	var in *train.Interrupted
	var se signalError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &in) && errors.As(context.Cause(ctx), &se) && se.sig == syscall.SIGTERM:
		return 143
	case errors.As(err, &in):
		return 130
	}
	log.Error("run failed", zap.Error(err))
	return 1
}

// describe lists -set values for messages.
func describe(sets []string) string {
	var b strings.Builder
	for _, s := range sets {
		b.WriteString(" + -set " + s)
	}
	return b.String()
}

// isTerminal reports whether w is a terminal (then progress is a bar).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && runner.IsTerminal(f)
}
