// Command autoencoder trains the MNIST autoencoder of the DFC paper,
// 784-256-32-256-784 (tanh, linear bottleneck, tanh, linear output), with
// single-phase Strong-DFC through the same trainer as every other run (the
// presets mnist-autoencoder and, with -method bp, mnist-autoencoder-bp):
// the controller drives the 784 outputs to the image itself (error
// r* − r_L, the MSE's), while forward and feedback weights learn in the
// same window. It reports the test MSE (on the normalised images, averaged
// over pixels, as torch's MSELoss) as test_loss in the JSON summary on the
// last line of stdout, and saves reconstructions.png (test images in the
// top row, their reconstructions below) in the run folder.
//
//	go run -tags openblas ./experiments/autoencoder -epochs 1
//
// The run folder (default: a new folder under runs/) holds the
// configuration, metrics, checkpoints and plots like any run's, and
// `strongdfc train --resume DIR` continues it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"

	"go.uber.org/zap"
	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/checkpoint"
	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/dataset"
	"github.com/strongdfc/strongdfc/internal/command"
	"github.com/strongdfc/strongdfc/internal/prof"
	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/internal/runner"
	"github.com/strongdfc/strongdfc/presets"
	"github.com/strongdfc/strongdfc/train"
)

func main() {
	method := flag.String("method", "strong-dfc", "`method`: strong-dfc, or bp (backpropagation in the same network with the MNIST baseline's Adam, for comparison)")
	epochs := flag.Int("epochs", 1, "training `epochs`")
	steps := flag.Int("steps", 0, "time indices per window, T (default: the preset's, 200)")
	batch := flag.Int("batch", 128, "minibatch `size`")
	seed := flag.Uint64("seed", 1, "random `seed`")
	limit := flag.Int("train-limit", 0, "use only the first `N` training samples (0: all)")
	show := flag.Int("show", 10, "test images shown in reconstructions.png")
	every := flag.Duration("progress", 0, "`interval` between progress lines on stderr when it is not a terminal (default 5s)")
	opt := runner.Options{Command: os.Args}
	flag.StringVar(&opt.DataDir, "data", "", "`folder` with the MNIST IDX files")
	out := flag.String("out", "", "run `folder` to create (default: a new folder under runs/)")
	var pf prof.Flags
	pf.Register(flag.CommandLine)
	command.ParseCommandLine()

	cmd := runner.StartCommand(&opt, *every, pf)
	defer cmd.Close()
	log, ctx := cmd.Log, cmd.Ctx
	switch *method {
	case "strong-dfc":
		opt.Preset = "mnist-autoencoder"
	case "bp":
		opt.Preset = "mnist-autoencoder-bp"
	default:
		log.Fatal("unknown -method; use strong-dfc or bp", zap.String("method", *method))
	}
	cfg, err := presets.Lookup(opt.Preset)
	if err != nil {
		log.Fatal("preset", zap.Error(err))
	}
	cfg.Epochs, cfg.Batch, cfg.Seed, cfg.TrainLimit = *epochs, *batch, *seed, *limit
	if *steps > 0 {
		cfg.Dynamics.Steps = *steps
	}
	opt.Out = "runs"
	if *out != "" {
		opt.Out, opt.Name = filepath.Dir(*out), filepath.Base(*out)
	}
	sum, err := runner.Run(ctx, cfg, opt)
	if err == nil && sum.RunDir != "" {
		if rerr := reconstructions(sum.RunDir, opt.DataDir, *show); rerr != nil {
			log.Error("reconstructions", zap.Error(rerr))
		}
	}
	b, _ := json.Marshal(sum)
	fmt.Println(string(b))
	if err != nil {
		log.Error("run failed", zap.Error(err))
		os.Exit(1)
	}
}

// reconstructions draws the first test images of the finished run in dir
// and their reconstructions by its final weights into
// dir/reconstructions.png.
func reconstructions(dir, dataDir string, k int) error {
	cfg, net, err := checkpoint.ReadNetwork(filepath.Join(dir, runfolder.Weights))
	if err != nil {
		return err
	}
	data, err := train.LoadData(cfg, dataDir)
	if err != nil {
		return err
	}
	return writeReconstructions(filepath.Join(dir, "reconstructions.png"), net, data.Test, data.Norm, k)
}

// writeReconstructions draws the first k images of a split (top row)
// above their reconstructions by net (bottom row), each pixel three times
// enlarged.
func writeReconstructions(path string, net *circuit.Network, sp dataset.Split, norm dataset.Norm, k int) error {
	k = min(k, sp.Len())
	dim := sp.Set.Dim
	side := int(math.Round(math.Sqrt(float64(dim))))
	if side*side != dim {
		return fmt.Errorf("images of %d pixels are not square", dim)
	}
	x := mat.NewDense(k, dim, nil)
	sp.Batch(x, make([]int, k), norm.Table(), nil, 0)
	y := net.Predict(x)
	const z, gap = 3, 4
	img := image.NewGray(image.Rect(0, 0, k*(side*z+gap), 2*(side*z+gap)))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	pix := func(v float64) uint8 {
		p := (v*norm.Std + norm.Mean) * 255
		return uint8(math.Round(math.Max(0, math.Min(255, p))))
	}
	for s := range k {
		for rowIdx, m := range []*mat.Dense{x, y} {
			for r := range side {
				for col := range side {
					g := color.Gray{Y: 255 - pix(m.At(s, r*side+col))}
					for dy := range z {
						for dx := range z {
							img.SetGray(s*(side*z+gap)+col*z+dx, rowIdx*(side*z+gap)+r*z+dy, g)
						}
					}
				}
			}
		}
	}
	return runfolder.WriteAtomic(path, func(w io.Writer) error { return png.Encode(w, img) })
}
