// Command mnist trains a 784-256-256-256-10 network by single-phase
// Strong-DFC on MNIST with the published configuration: one epoch of
// feedback pre-training, then training, reporting progress on stderr,
// logging every epoch, and printing a JSON summary as the last line of
// stdout. With -out DIR it keeps a run folder in DIR (see cmd/strongdfc:
// configuration, metrics, checkpoints, plots), which `strongdfc train
// --resume DIR` continues.
//
// -method and -dataset choose another published configuration (the preset
// DATASET-METHOD, e.g. -dataset fashion-mnist -method dfc).
//
//	go run ./experiments/mnist -epochs 1
//	go run ./experiments/mnist -dataset fashion-mnist -epochs 1
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/strongdfc/strongdfc/internal/prof"
	"github.com/strongdfc/strongdfc/internal/runner"
	"github.com/strongdfc/strongdfc/presets"
)

func main() {
	cfg := presets.MNIST()
	opt := runner.Options{Command: os.Args}
	var out string
	method := flag.String("method", cfg.Method, "learning `method`: strong-dfc, strong-dfc-2phase, dfc, dfc-ss, dfc-ssa or bp")
	dataset := flag.String("dataset", cfg.Dataset, "data `set`: mnist or fashion-mnist")
	var every = flag.Duration("progress", 0, "`interval` between progress lines on stderr when it is not a terminal (default 5s)")
	flag.IntVar(&cfg.Epochs, "epochs", cfg.Epochs, "training `epochs` (the published run has 40)")
	flag.IntVar(&cfg.Batch, "batch", cfg.Batch, "minibatch `size` in samples")
	flag.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "`seed` of every random draw (weights, shuffling, noise)")
	flag.IntVar(&cfg.TrainLimit, "train-limit", 0, "use only the first `N` training samples (0: all 55 000)")
	flag.IntVar(&cfg.Pretrain.Epochs, "pretrain-epochs", cfg.Pretrain.Epochs, "`epochs` of feedback pre-training before training")
	flag.StringVar(&opt.DataDir, "data", "", "`folder` with the IDX files (default: MNIST from the GoMNIST module in the Go module cache, Fashion-MNIST from /usr/share/datasets/fashion-mnist)")
	flag.StringVar(&out, "out", "", "run `folder` to create for the configuration, metrics, checkpoints, weights and plots (never overwritten; default: none)")
	var pf prof.Flags
	pf.Register(flag.CommandLine)
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "mnist: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	opt.Preset = *dataset + "-" + *method
	if opt.Preset != "mnist-strong-dfc" {
		// Another published configuration, with the flags given on top.
		set := cfg
		preset, err := presets.Lookup(opt.Preset)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mnist:", err)
			os.Exit(2)
		}
		cfg = preset
		flag.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "epochs":
				cfg.Epochs = set.Epochs
			case "batch":
				cfg.Batch = set.Batch
			case "seed":
				cfg.Seed = set.Seed
			case "train-limit":
				cfg.TrainLimit = set.TrainLimit
			case "pretrain-epochs":
				cfg.Pretrain.Epochs = set.Pretrain.Epochs
			}
		})
	}
	if out != "" {
		opt.Out, opt.Name = filepath.Dir(out), filepath.Base(out)
	}
	opt.Display = runner.NewDisplay(os.Stderr, runner.IsTerminal(os.Stderr), *every)
	log := runner.ConsoleLogger(opt.Display, zapcore.InfoLevel)
	defer log.Sync() //nolint:errcheck
	opt.Log = log
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	stopProf, addr, err := pf.Start()
	if err != nil {
		log.Fatal("profiling", zap.Error(err))
	}
	if addr != "" {
		log.Info("pprof", zap.String("url", "http://"+addr+"/debug/pprof/"))
	}
	sum, err := runner.Run(ctx, cfg, opt)
	if perr := stopProf(); perr != nil {
		log.Error("profiling", zap.Error(perr))
	}
	b, _ := json.Marshal(sum)
	fmt.Println(string(b))
	if err != nil {
		log.Error("run failed", zap.Error(err))
		os.Exit(1)
	}
}
