// Command results runs every method of the results table on the chosen
// data sets with their published configurations and writes one JSON line
// per run (results.jsonl) and a Markdown table.
//
//	go run -tags openblas ./experiments/results -epochs 1
//
// -pretrain-epochs N runs N epochs of feedback pre-training instead of each
// preset's published number; every row records the number that ran.
//
// DFC, DFC-SS and DFC-SSA share their feedback pre-training (same
// configuration and seed), so it runs once and the other two continue
// from it; the result is bit for bit the run each would make from the
// start (train.Trainer.RestorePretrained), which
// `go run ./cmd/strongdfc train --preset DATASET-METHOD --epochs N`
// repeats.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/internal/command"
	"github.com/strongdfc/strongdfc/internal/sysinfo"
	"github.com/strongdfc/strongdfc/presets"
	"github.com/strongdfc/strongdfc/train"
)

// Row is one run of the table.
type Row struct {
	Method             string             `json:"method"`
	Dataset            string             `json:"dataset"`
	Preset             string             `json:"preset"`
	Epochs             int                `json:"epochs"`
	PretrainEpochs     int                `json:"pretrain_epochs"`
	SleepEpochs        int                `json:"sleep_epochs"`
	Seed               uint64             `json:"seed"`
	TrainSamples       int                `json:"train_samples"`
	TestAccuracy       float64            `json:"test_accuracy"`
	ValidationAccuracy float64            `json:"validation_accuracy"`
	TestLoss           float64            `json:"test_loss"`
	WallSeconds        float64            `json:"wall_seconds"`
	SharedPretrain     bool               `json:"shared_pretraining,omitempty"`
	SamplesPerSecond   float64            `json:"samples_per_second"`
	Diagnostics        map[string]float64 `json:"diagnostics"`
	Backend            string             `json:"backend"`
	Core               string             `json:"openblas_core,omitempty"`
	Machine            string             `json:"machine"`
	Date               string             `json:"date"`
}

func main() {
	epochs := flag.Int("epochs", 1, "training `epochs` of every run")
	datasets := flag.String("datasets", "mnist,fashion-mnist", "comma-separated data `sets`")
	methods := flag.String("methods", "bp,strong-dfc,strong-dfc-2phase,dfc,dfc-ss,dfc-ssa", "comma-separated `methods`")
	seed := flag.Uint64("seed", 1, "`seed` of every run")
	limit := flag.Int("train-limit", 0, "use only the first `N` training samples (0: all)")
	out := flag.String("out", "results", "`folder` for results.jsonl, table.md and each run's epochs")
	dataDir := flag.String("data", "", "`folder` with the IDX files (default: each data set's usual place)")
	pretrain := flag.Int("pretrain-epochs", -1, "feedback pre-training `epochs` of every run (-1: each preset's published number; the row records what ran)")
	cs := command.Parse()
	defer cs.Close()
	log, ctx := cs.Log, cs.Ctx
	jf := cs.Append(*out, "results.jsonl")
	defer jf.Close()

	var rows []Row
	for _, ds := range strings.Split(*datasets, ",") {
		var shared *train.Snapshot
		var sharedSeconds float64
		for _, m := range strings.Split(*methods, ",") {
			name := ds + "-" + m
			cfg, err := presets.Lookup(name)
			if err != nil {
				log.Fatal("preset", zap.Error(err))
			}
			cfg.Epochs, cfg.Seed, cfg.TrainLimit = *epochs, *seed, *limit
			if *pretrain >= 0 && cfg.Pretrain.Epochs > 0 {
				cfg.Pretrain.Epochs = *pretrain
			}
			row, snap, secs, err := run(ctx, cs.Pool, log, name, cfg, *dataDir, shared, sharedSeconds, filepath.Join(*out, name+".jsonl"))
			if err != nil {
				log.Error("run failed", zap.String("preset", name), zap.Error(err))
				if ctx.Err() != nil {
					return
				}
				continue
			}
			if snap != nil {
				shared, sharedSeconds = snap, secs
			}
			b, _ := json.Marshal(row)
			fmt.Fprintln(jf, string(b))
			jf.Sync()
			rows = append(rows, row)
			log.Info("row", zap.String("preset", name), zap.Float64("test_accuracy", row.TestAccuracy), zap.Float64("wall_seconds", row.WallSeconds))
		}
	}
	table := markdown(rows)
	if err := os.WriteFile(filepath.Join(*out, "table.md"), []byte(table), 0o644); err != nil {
		log.Error("table", zap.Error(err))
	}
	fmt.Print(table)
}

// run trains one configuration. For the DFC variants it continues from
// shared (DFC's state at the end of pre-training, which took sharedSecs)
// when given, and otherwise returns that state for the next ones.
func run(ctx context.Context, pool *compute.Pool, log *zap.Logger, name string, cfg train.Config, dataDir string, shared *train.Snapshot, sharedSecs float64, epochsFile string) (Row, *train.Snapshot, float64, error) {
	start := time.Now()
	data, err := train.LoadData(cfg, dataDir)
	if err != nil {
		return Row{}, nil, 0, err
	}
	tr, err := train.New(cfg, data, train.Options{Pool: pool})
	if err != nil {
		return Row{}, nil, 0, err
	}
	weak := cfg.Weak()
	row := Row{Method: cfg.Method, Dataset: cfg.Dataset, Preset: name, Epochs: cfg.Epochs, Seed: cfg.Seed,
		Backend: compute.Backend(), Core: compute.Core(), Machine: machine(), Date: time.Now().UTC().Format("2006-01-02")}
	if weak && shared != nil {
		if err := tr.RestorePretrained(shared); err != nil {
			return Row{}, nil, 0, err
		}
		row.SharedPretrain = true
	}
	var snap *train.Snapshot
	var pretrainSecs float64
	ef, err := os.Create(epochsFile)
	if err != nil {
		return Row{}, nil, 0, err
	}
	defer ef.Close()
	last := time.Now()
	progress := func(p train.Progress) {
		if time.Since(last) < 30*time.Second && p.Batch != p.Batches {
			return
		}
		last = time.Now()
		fmt.Fprintf(os.Stderr, "%s: %s epoch %d/%d minibatch %d/%d acc %.2f%% %.1f samples/s\n",
			name, p.Phase, p.Epoch, p.Epochs, p.Batch, p.Batches, 100*p.Accuracy, p.SamplesPerSecond)
	}
	var trainSamples int
	var trainSecs float64
	for !tr.Done() {
		r, err := tr.Next(ctx, progress)
		if err != nil {
			return Row{}, nil, 0, err
		}
		b, _ := json.Marshal(r)
		fmt.Fprintln(ef, string(b))
		log.Info("epoch", zap.String("preset", name), zap.String("phase", r.Phase), zap.Int("epoch", r.Epoch),
			zap.Float64("test_accuracy", r.TestAccuracy), zap.Float64("seconds", r.Seconds))
		switch r.Phase {
		case "pretrain":
			row.PretrainEpochs++
			pretrainSecs += r.Seconds
			if weak && shared == nil && tr.PretrainDone() {
				if snap, err = tr.Snapshot(); err != nil {
					return Row{}, nil, 0, err
				}
			}
		case "sleep":
			row.SleepEpochs++
		default:
			trainSamples += r.Samples
			trainSecs += r.Seconds
			row.TestAccuracy, row.ValidationAccuracy, row.TestLoss = r.TestAccuracy, r.ValAccuracy, r.TestLoss
			row.Diagnostics = r.Diagnostics
		}
	}
	row.TrainSamples = trainSamples
	if trainSecs > 0 {
		row.SamplesPerSecond = float64(trainSamples) / trainSecs
	}
	row.WallSeconds = time.Since(start).Seconds()
	if row.SharedPretrain {
		row.WallSeconds += sharedSecs
		row.PretrainEpochs = cfg.Pretrain.Epochs
	}
	return row, snap, pretrainSecs, nil
}

func machine() string {
	return fmt.Sprintf("%d CPUs, %s", sysinfo.NumCPU(), sysinfo.CPUModel())
}

// published are the paper's test accuracies after 40 epochs.
var published = map[string]string{
	"mnist-bp": "98.17 %", "fashion-mnist-bp": "89.40 %",
	"mnist-dfc": "97.80 %", "fashion-mnist-dfc": "88.70 %",
	"mnist-strong-dfc": "97.72 %", "fashion-mnist-strong-dfc": "87.26 %",
	"mnist-strong-dfc-2phase": "97.75 %", "fashion-mnist-strong-dfc-2phase": "87.22 %",
}

func markdown(rows []Row) string {
	var b strings.Builder
	b.WriteString("| method | data set | test accuracy | epochs (pre-training) | seed | wall time | samples/s | published (40 epochs) |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		pub := published[r.Preset]
		if pub == "" {
			pub = "—"
		}
		acc := "—"
		if !math.IsNaN(r.TestAccuracy) {
			acc = fmt.Sprintf("%.2f %%", 100*r.TestAccuracy)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d (%d) | %d | %s | %.0f | %s |\n", r.Method, r.Dataset, acc, r.Epochs, r.PretrainEpochs,
			r.Seed, time.Duration(r.WallSeconds*float64(time.Second)).Round(time.Second), r.SamplesPerSecond, pub)
	}
	return b.String()
}
