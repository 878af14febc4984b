// Command mnist trains a 784-256-256-256-10 network by single-phase
// Strong-DFC on MNIST with the published configuration: one epoch of
// feedback pre-training, then training, reporting progress on stderr,
// logging every epoch, and printing a JSON summary as the last line of
// stdout.
//
//	go run ./experiments/mnist -epochs 1
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"go.uber.org/zap"

	"github.com/strongdfc/strongdfc/internal/prof"
	"github.com/strongdfc/strongdfc/internal/runner"
	"github.com/strongdfc/strongdfc/train"
)

func main() {
	cfg := train.MNIST()
	var opt runner.Options
	flag.IntVar(&cfg.Epochs, "epochs", cfg.Epochs, "training `epochs` (the published run has 40)")
	flag.IntVar(&cfg.Batch, "batch", cfg.Batch, "minibatch `size` in samples")
	flag.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "`seed` of every random draw (weights, shuffling, noise)")
	flag.IntVar(&cfg.TrainLimit, "train-limit", 0, "use only the first `N` training samples (0: all 55 000)")
	flag.IntVar(&cfg.Pretrain.Epochs, "pretrain-epochs", cfg.Pretrain.Epochs, "`epochs` of feedback pre-training before training")
	flag.StringVar(&opt.DataDir, "data", "", "`folder` with the MNIST IDX files (default: the GoMNIST module in the Go module cache)")
	flag.StringVar(&opt.OutDir, "out", "", "`folder` for per-epoch metrics (metrics.csv); created if missing, never overwritten")
	flag.DurationVar(&opt.ProgressEvery, "progress", 0, "`interval` between progress lines on stderr (default 5s)")
	var pf prof.Flags
	pf.Register(flag.CommandLine)
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "mnist: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}

	log, err := zap.NewDevelopment()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer log.Sync()
	opt.Log, opt.Progress = log, os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	stopProf, addr, err := pf.Start()
	if err != nil {
		log.Fatal("profiling", zap.Error(err))
	}
	if addr != "" {
		log.Info("pprof", zap.String("url", "http://"+addr+"/debug/pprof/"))
	}
	log.Info("start", zap.Any("config", cfg))
	sum, err := runner.Run(ctx, cfg, opt)
	if perr := stopProf(); perr != nil {
		log.Error("profiling", zap.Error(perr))
	}
	if err != nil {
		log.Error("run failed", zap.Error(err))
		os.Exit(1)
	}
	log.Info("done", zap.Float64("test_accuracy", sum.TestAccuracy), zap.Float64("wall_seconds", sum.WallSeconds))
	out, _ := json.Marshal(sum)
	fmt.Println(string(out))
}
