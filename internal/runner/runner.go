// Package runner runs a configured training experiment for the commands:
// it loads the data, drives a train.Trainer epoch by epoch, reports
// progress, logs every epoch with zap, writes per-epoch metrics as CSV and
// returns a summary.
package runner

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/strongdfc/strongdfc/internal/linalg"
	"github.com/strongdfc/strongdfc/internal/sysinfo"
	"github.com/strongdfc/strongdfc/train"
)

// Options are how a run reports.
type Options struct {
	// DataDir overrides where the data set is read from.
	DataDir string
	// OutDir, when set, receives metrics.csv (one row per epoch).
	OutDir string
	// ProgressEvery is the interval between progress lines (0: 5 s);
	// Progress receives them (nil: no progress).
	ProgressEvery time.Duration
	Progress      io.Writer
	// Log receives the per-epoch records (nil: none).
	Log *zap.Logger
}

// Summary is what a run reports at its end.
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
	// SamplesPerSecond counts the samples of the training epochs over the
	// time of their windows (without evaluation and pre-training).
	SamplesPerSecond float64 `json:"samples_per_second"`
	PretrainSeconds  float64 `json:"pretrain_seconds"`
	WallSeconds      float64 `json:"wall_seconds"`
	Seed             uint64  `json:"seed"`
	Backend          string  `json:"backend"`
	GOMAXPROCS       int     `json:"gomaxprocs"`
	PeakRSSMB        float64 `json:"peak_rss_mb"`
	GoVersion        string  `json:"go_version"`
}

// Run trains cfg to the end (or until ctx is cancelled) and returns the
// summary. On error the summary holds what was done.
func Run(ctx context.Context, cfg train.Config, opt Options) (Summary, error) {
	start := time.Now()
	log := opt.Log
	if log == nil {
		log = zap.NewNop()
	}
	sum := Summary{
		Method: cfg.Method, Dataset: cfg.Dataset, Batch: cfg.Batch, Seed: cfg.Seed,
		Backend: linalg.Backend(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: sysinfo.GoVersion(),
		TestAccuracy: math.NaN(), TestLoss: math.NaN(), ValidationAccuracy: math.NaN(),
	}
	data, err := train.LoadData(cfg, opt.DataDir)
	if err != nil {
		return sum, err
	}
	log.Info("data",
		zap.String("dataset", cfg.Dataset), zap.Int("train", data.Train.Len()),
		zap.Int("validation", data.Validation.Len()), zap.Int("test", data.Test.Len()))
	tr, err := train.New(cfg, data)
	if err != nil {
		return sum, err
	}
	var metrics *csvWriter
	if opt.OutDir != "" {
		if metrics, err = newCSV(filepath.Join(opt.OutDir, "metrics.csv")); err != nil {
			return sum, err
		}
		defer metrics.Close()
	}
	every := opt.ProgressEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	var trainSamples int
	var trainSeconds float64
	for !tr.Done() {
		last := time.Now()
		progress := func(p train.Progress) {
			if opt.Progress == nil || (time.Since(last) < every && p.Batch != p.Batches) {
				return
			}
			last = time.Now()
			eta := time.Duration(float64(p.Elapsed) * float64(p.Batches-p.Batch) / float64(p.Batch))
			fmt.Fprintf(opt.Progress, "%-8s epoch %d/%d  batch %d/%d  loss %.4f  acc %.2f%%  %.1f samples/s  ETA %s\n",
				p.Phase, p.Epoch, p.Epochs, p.Batch, p.Batches, p.Loss, 100*p.Accuracy, p.SamplesPerSecond, eta.Round(time.Second))
		}
		r, err := tr.Next(ctx, progress)
		if err != nil {
			sum.WallSeconds = time.Since(start).Seconds()
			sum.PeakRSSMB = sysinfo.PeakRSSMB()
			if errors.Is(err, context.Canceled) {
				log.Warn("interrupted", zap.String("phase", r.Phase), zap.Int("epoch", r.Epoch))
			}
			return sum, err
		}
		log.Info("epoch",
			zap.String("phase", r.Phase), zap.Int("epoch", r.Epoch),
			zap.Float64("train_loss", r.TrainLoss), zap.Float64("train_accuracy", r.TrainAccuracy),
			zap.Float64("validation_accuracy", r.ValAccuracy), zap.Float64("test_accuracy", r.TestAccuracy),
			zap.Float64("test_loss", r.TestLoss),
			zap.Float64("seconds", r.Seconds), zap.Float64("samples_per_second", float64(r.Samples)/r.Seconds))
		if metrics != nil {
			if err := metrics.Write(r); err != nil {
				return sum, err
			}
		}
		if r.Phase == "pretrain" {
			sum.PretrainEpochs++
			sum.PretrainSeconds += r.Seconds
		} else {
			sum.Epochs++
			trainSamples += r.Samples
			trainSeconds += r.Seconds
		}
		sum.TestAccuracy, sum.TestLoss, sum.ValidationAccuracy = r.TestAccuracy, r.TestLoss, r.ValAccuracy
	}
	sum.TrainSamples = trainSamples
	if trainSeconds > 0 {
		sum.SamplesPerSecond = float64(trainSamples) / trainSeconds
	}
	sum.WallSeconds = time.Since(start).Seconds()
	sum.PeakRSSMB = sysinfo.PeakRSSMB()
	return sum, nil
}

// csvWriter writes one row per epoch and flushes it at once, so that an
// interrupted run keeps every finished epoch.
type csvWriter struct {
	f *os.File
	w *csv.Writer
}

var csvHeader = []string{"phase", "epoch", "train_loss", "train_accuracy", "validation_loss", "validation_accuracy",
	"test_loss", "test_accuracy", "samples", "seconds", "eval_seconds"}

func newCSV(path string) (*csvWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w (choose another -out folder; existing results are never overwritten)", err)
	}
	c := &csvWriter{f: f, w: csv.NewWriter(f)}
	if err := c.w.Write(csvHeader); err != nil {
		return nil, err
	}
	c.w.Flush()
	return c, c.w.Error()
}

func (c *csvWriter) Write(r train.EpochResult) error {
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', 10, 64) }
	rec := []string{r.Phase, strconv.Itoa(r.Epoch), g(r.TrainLoss), g(r.TrainAccuracy), g(r.ValLoss), g(r.ValAccuracy),
		g(r.TestLoss), g(r.TestAccuracy), strconv.Itoa(r.Samples), g(r.Seconds), g(r.EvalSeconds)}
	if err := c.w.Write(rec); err != nil {
		return err
	}
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return c.f.Sync()
}

func (c *csvWriter) Close() error { return c.f.Close() }
