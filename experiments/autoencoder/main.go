// Command autoencoder trains the MNIST autoencoder of the DFC paper,
// 784-256-32-256-784 (tanh, linear bottleneck, tanh, linear output), with
// single-phase Strong-DFC: the controller drives the 784 outputs to the
// image itself (error r* − r_L, the MSE's), while forward and feedback
// weights learn in the same window. It reports the test MSE (on the
// normalised images, averaged over pixels, as torch's MSELoss) and saves a
// PNG of test images (top row) above their reconstructions (bottom row).
//
//	go run -tags openblas ./experiments/autoencoder -epochs 1
//
// -method bp trains the same network by backpropagation instead (the MNIST
// baseline's Adam, the same clipping), for comparison.
//
// The paper gives this architecture and loss but, in the material this
// project reproduces, no Strong-DFC constants for it; the dynamics and
// optimizers here are MNIST single-phase Strong-DFC's, with shorter windows
// (-steps, 200 by default) because the 784-dimensional control makes every
// step about ten times as costly as in the classifier.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"
	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/dataset"
	"github.com/strongdfc/strongdfc/internal/command"
	"github.com/strongdfc/strongdfc/internal/linalg"
	"github.com/strongdfc/strongdfc/internal/sysinfo"
	"github.com/strongdfc/strongdfc/neuron"
	"github.com/strongdfc/strongdfc/scheduler"
	"github.com/strongdfc/strongdfc/synapse"
	"github.com/strongdfc/strongdfc/train"
)

// Summary is the last line of stdout.
type Summary struct {
	Method           string  `json:"method"`
	Epochs           int     `json:"epochs"`
	Steps            int     `json:"steps"`
	TrainSamples     int     `json:"train_samples"`
	TestMSE          float64 `json:"test_mse"`
	ValidationMSE    float64 `json:"validation_mse"`
	InitialTestMSE   float64 `json:"initial_test_mse"`
	SamplesPerSecond float64 `json:"samples_per_second"`
	WallSeconds      float64 `json:"wall_seconds"`
	Seed             uint64  `json:"seed"`
	Backend          string  `json:"backend"`
	PeakRSSMB        float64 `json:"peak_rss_mb"`
}

func main() {
	epochs := flag.Int("epochs", 1, "training `epochs`")
	steps := flag.Int("steps", 200, "time indices per window, T")
	batch := flag.Int("batch", 128, "minibatch `size`")
	seed := flag.Uint64("seed", 1, "random `seed`")
	limit := flag.Int("train-limit", 0, "use only the first `N` training samples (0: all)")
	dataDir := flag.String("data", "", "`folder` with the MNIST IDX files")
	out := flag.String("out", "autoencoder", "output `folder` (metrics.csv, reconstructions.png)")
	show := flag.Int("show", 10, "test images shown in the PNG")
	method := flag.String("method", "strong-dfc", "`method`: strong-dfc, or bp (backpropagation in the same network with the MNIST baseline's Adam, for comparison)")
	cs := command.Parse()
	defer cs.Close()
	log, ctx := cs.Log, cs.Ctx
	start := time.Now()

	if *method != "strong-dfc" && *method != "bp" {
		log.Fatal("unknown -method; use strong-dfc or bp", zap.String("method", *method))
	}
	base := train.MNIST()
	if *method == "bp" {
		base.Forward = train.BPMNIST().Forward
	}
	base.Dynamics.Steps = *steps
	base.Batch, base.Seed, base.TrainLimit = *batch, *seed, *limit
	data, err := train.LoadData(base, *dataDir)
	if err != nil {
		log.Fatal("data", zap.Error(err))
	}
	net, err := circuit.NewNetwork([]int{784, 256, 32, 256, 784}, []neuron.Activation{neuron.Tanh, neuron.Linear, neuron.Tanh, neuron.Linear})
	if err != nil {
		log.Fatal("network", zap.Error(err))
	}
	net.Init(rand.New(rand.NewPCG(*seed, 1)))
	fwd, err := synapse.NewAdam(base.Forward.AdamConfig(), net.ForwardParams())
	if err != nil {
		log.Fatal("optimizer", zap.Error(err))
	}
	fb, err := synapse.NewAdam(base.Feedback.AdamConfig(), net.FeedbackParams())
	if err != nil {
		log.Fatal("optimizer", zap.Error(err))
	}
	p := base.TrainParams()
	p.Error, p.Loss = circuit.DifferenceError, circuit.MSE{}
	c, err := circuit.New(net, p, *batch, neuron.NewGaussian(*seed+1000), fwd, fb)
	if err != nil {
		log.Fatal("circuit", zap.Error(err))
	}
	sched, err := scheduler.New(scheduler.Config{Steps: *steps}, p.DT)
	if err != nil {
		log.Fatal("scheduler", zap.Error(err))
	}
	table := data.Norm.Table()
	var lastMSE float64
	sched.Observe(*steps, func(k int, _ *scheduler.Clock) {
		if k == 0 {
			lastMSE = circuit.MSE{}.Value(c.Output(), c.Target())
		}
	})
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal("output folder", zap.Error(err))
	}
	mf, err := os.Create(filepath.Join(*out, "metrics.csv"))
	if err != nil {
		log.Fatal("metrics", zap.Error(err))
	}
	defer mf.Close()
	fmt.Fprintln(mf, "epoch,train_mse,validation_mse,test_mse,seconds")

	sum := Summary{Method: *method, Epochs: *epochs, Steps: *steps, Seed: *seed, Backend: linalg.Backend()}
	sum.InitialTestMSE = evalMSE(net, data.Test, table)
	log.Info("start", zap.Float64("initial_test_mse", sum.InitialTestMSE), zap.Int("train", data.Train.Len()))
	shuffle := rand.New(rand.NewPCG(*seed, 2))
	x := mat.NewDense(*batch, 784, nil)
	labels := make([]int, *batch)
	var trainSecs float64
	for e := 1; e <= *epochs; e++ {
		n := data.Train.Len()
		order := shuffle.Perm(n)
		batches := (n + *batch - 1) / *batch
		t0, last := time.Now(), time.Now()
		var mseSum float64
		for k := range batches {
			if ctx.Err() != nil {
				log.Warn("interrupted")
				return
			}
			b := min(*batch, n-k**batch)
			xb := x.Slice(0, b, 0, 784).(*mat.Dense)
			data.Train.Batch(xb, labels[:b], table, order, k**batch)
			if *method == "bp" {
				lastMSE = backpropStep(net, fwd, xb, base.ClipNorm)
			} else if err := sched.Window(c, xb, xb); err != nil {
				log.Fatal("training stopped", zap.Int("epoch", e), zap.Int("minibatch", k+1), zap.Error(err))
			}
			if !finite(lastMSE) {
				log.Fatal("training diverged", zap.Int("epoch", e), zap.Int("minibatch", k+1), zap.Float64("train_mse", lastMSE))
			}
			mseSum += lastMSE
			if time.Since(last) > 30*time.Second {
				last = time.Now()
				el := time.Since(t0).Seconds()
				fmt.Fprintf(os.Stderr, "epoch %d minibatch %d/%d train MSE %.4f %.1f samples/s\n", e, k+1, batches, mseSum/float64(k+1), float64((k+1)**batch)/el)
			}
		}
		secs := time.Since(t0).Seconds()
		trainSecs += secs
		sum.TrainSamples += n
		sum.ValidationMSE = evalMSE(net, data.Validation, table)
		sum.TestMSE = evalMSE(net, data.Test, table)
		fmt.Fprintf(mf, "%d,%g,%g,%g,%g\n", e, mseSum/float64(batches), sum.ValidationMSE, sum.TestMSE, secs)
		log.Info("epoch", zap.Int("epoch", e), zap.Float64("train_mse", mseSum/float64(batches)),
			zap.Float64("validation_mse", sum.ValidationMSE), zap.Float64("test_mse", sum.TestMSE), zap.Float64("seconds", secs))
	}
	if err := writeReconstructions(filepath.Join(*out, "reconstructions.png"), net, data.Test, table, data.Norm, *show); err != nil {
		log.Error("reconstructions", zap.Error(err))
	}
	sum.SamplesPerSecond = float64(sum.TrainSamples) / trainSecs
	sum.WallSeconds = time.Since(start).Seconds()
	sum.PeakRSSMB = sysinfo.PeakRSSMB()
	j, _ := json.Marshal(sum)
	fmt.Println(string(j))
}

// backpropStep trains net on the minibatch x by backpropagation of the
// MSE of its reconstruction: gradients into the forward projections'
// buffers, per-layer clipping as in every method, one Adam step. It returns
// the minibatch's MSE before the step.
func backpropStep(net *circuit.Network, opt *synapse.Adam, x *mat.Dense, clip float64) float64 {
	var g circuit.Grads // views of the projections' own gradient buffers
	for _, f := range net.Forward {
		g.W = append(g.W, f.GradW)
		g.B = append(g.B, f.GradB)
	}
	mse := net.Backprop(g, x, x, circuit.MSE{})
	for _, f := range net.Forward {
		synapse.ClipNorm(clip, f.GradW.RawMatrix().Data, f.GradB.RawVector().Data)
	}
	opt.Step()
	return mse
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// evalMSE returns the feedforward MSE of the network's reconstructions of a
// split.
func evalMSE(net *circuit.Network, sp dataset.Split, table *[256]float64) float64 {
	const chunk = 500
	n := sp.Len()
	if n == 0 {
		return math.NaN()
	}
	x := mat.NewDense(min(chunk, n), 784, nil)
	labels := make([]int, min(chunk, n))
	var pass *circuit.Pass
	var s float64
	for from := 0; from < n; from += chunk {
		b := min(chunk, n-from)
		xb := x.Slice(0, b, 0, 784).(*mat.Dense)
		sp.Batch(xb, labels[:b], table, nil, from)
		if b != chunk {
			pass = nil
		}
		pass = net.Feedforward(pass, xb)
		s += circuit.MSE{}.Value(pass.Output(), xb) * float64(b)
	}
	return s / float64(n)
}

// writeReconstructions draws the first k test images (top row) above their
// reconstructions (bottom row), each pixel three times enlarged.
func writeReconstructions(path string, net *circuit.Network, sp dataset.Split, table *[256]float64, norm dataset.Norm, k int) error {
	k = min(k, sp.Len())
	x := mat.NewDense(k, 784, nil)
	sp.Batch(x, make([]int, k), table, nil, 0)
	y := net.Predict(x)
	const z, side, gap = 3, 28, 4
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
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
