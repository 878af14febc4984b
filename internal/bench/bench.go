// Package bench measures how fast the simulator trains: windows of the
// published MNIST configuration on random data, the floating-point rate
// they reach, and the rate the machine's matrix products allow, measured in
// the same process.
package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/internal/sysinfo"
	"github.com/strongdfc/strongdfc/train"
)

// Options say how much to run.
type Options struct {
	// Windows are timed after Warmup untimed ones.
	Windows, Warmup int
	// Inputs is the input dimension and Classes the number of outputs of
	// the random data (784 and 10 for MNIST).
	Inputs, Classes int
	// Pool runs the products and loops (nil: one goroutine).
	Pool *compute.Pool
}

// Result is what the benchmark reports; its JSON is the last line of the
// bench command's output.
type Result struct {
	SamplesPerSecond float64 `json:"samples_per_second"`
	// GFLOPS counts the matrix-product arithmetic of the timed windows
	// (FLOPsPerWindow each) over their time.
	GFLOPS float64 `json:"gflops"`
	// BLASGFLOPS is the best rate of a representative product (the basal
	// input 128×256×256 or the stacked weight update 256×1280×256), timed
	// through the simulator's Gemm and as one direct BLAS call.
	BLASGFLOPS float64 `json:"blas_gflops"`
	BLASShape  string  `json:"blas_shape"`
	Efficiency float64 `json:"efficiency"`
	Backend    string  `json:"backend"`
	Core       string  `json:"openblas_core,omitempty"`
	GOMAXPROCS int     `json:"gomaxprocs"`
	Workers    int     `json:"workers"`
	PeakRSSMB  float64 `json:"peak_rss_mb"`

	Chunks         int     `json:"chunks,omitempty"`
	Windows        int     `json:"windows"`
	Batch          int     `json:"batch"`
	Steps          int     `json:"steps"`
	Seconds        float64 `json:"seconds"`
	FLOPsPerWindow float64 `json:"flops_per_window"`
	MillisPerStep  float64 `json:"ms_per_step"`
	GoVersion      string  `json:"go_version"`
}

// WindowFLOPs counts the floating-point operations of the matrix products
// of one training window of T time indices with both rules on: at the
// start, the feedforward pass (every layer's basal input); at each of the
// T−1 steps, the basal input of layers 2..L, the apical drive of every
// layer, and the two plasticity products; at the end, the input layer's
// weight update (one product, the input being constant).
func WindowFLOPs(sizes []int, batch, T int) float64 {
	b := float64(batch)
	L := len(sizes) - 1
	nOut := float64(sizes[L])
	var start, step float64
	for i := 1; i <= L; i++ {
		ni, np := float64(sizes[i]), float64(sizes[i-1])
		start += 2 * b * ni * np      // feedforward basal input
		step += 2 * b * ni * nOut * 2 // apical drive and feedback rule
		if i > 1 {
			step += 2 * b * ni * np * 2 // basal input and forward rule
		}
	}
	end := 2 * b * float64(sizes[1]) * float64(sizes[0])
	return start + float64(T-1)*step + end
}

// Run trains cfg's network on random data for the configured windows.
func Run(cfg train.Config, opt Options) (Result, error) {
	if opt.Windows <= 0 {
		return Result{}, fmt.Errorf("bench: at least one window must be timed")
	}
	sizes := cfg.Sizes(opt.Inputs, opt.Classes)
	acts, err := cfg.Acts()
	if err != nil {
		return Result{}, err
	}
	net, err := circuit.NewNetwork(sizes, acts)
	if err != nil {
		return Result{}, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 1))
	net.Init(rng)
	net.Pool = opt.Pool
	m, err := cfg.MethodSpec()
	if err != nil {
		return Result{}, err
	}
	phase, ok := m.Phase("train").(train.Simulated)
	if !ok {
		return Result{}, fmt.Errorf("bench: method %s simulates no training windows", cfg.Method)
	}
	env, err := train.NewEnv(cfg, m, net, cfg.Batch, cfg.Seed, opt.Pool)
	if err != nil {
		return Result{}, err
	}
	// Start, not Build: the phase runs as training runs it (window-parallel
	// chunks included).
	run, err := phase.Start(env)
	if err != nil {
		return Result{}, err
	}
	defer run.Release()
	x := mat.NewDense(cfg.Batch, opt.Inputs, nil)
	labels := make([]int, cfg.Batch)
	targets := mat.NewDense(cfg.Batch, opt.Classes, nil)
	window := func() error {
		for i := range cfg.Batch {
			for j := range opt.Inputs {
				x.Set(i, j, rng.NormFloat64())
			}
			labels[i] = rng.IntN(opt.Classes)
		}
		circuit.SetSoftTargets(targets, labels, cfg.TargetClassValue)
		_, err := run.Window(x, targets)
		return err
	}
	for range opt.Warmup {
		if err := window(); err != nil {
			return Result{}, err
		}
	}
	start := time.Now()
	for range opt.Windows {
		if err := window(); err != nil {
			return Result{}, err
		}
	}
	secs := time.Since(start).Seconds()
	r := Result{
		Windows: opt.Windows, Batch: cfg.Batch, Chunks: cfg.Chunks, Steps: cfg.Dynamics.Steps, Seconds: secs,
		FLOPsPerWindow: WindowFLOPs(sizes, cfg.Batch, cfg.Dynamics.Steps),
		Backend:        compute.Backend(), Core: compute.Core(), GOMAXPROCS: runtime.GOMAXPROCS(0), Workers: opt.Pool.Workers(),
		GoVersion: sysinfo.GoVersion(),
	}
	r.SamplesPerSecond = float64(opt.Windows*cfg.Batch) / secs
	r.GFLOPS = r.FLOPsPerWindow * float64(opt.Windows) / secs / 1e9
	r.MillisPerStep = secs * 1e3 / float64(opt.Windows*(cfg.Dynamics.Steps-1))
	r.BLASGFLOPS, r.BLASShape = BLASRate(opt.Pool, cfg.Batch, sizes[1])
	r.Efficiency = r.GFLOPS / r.BLASGFLOPS
	r.PeakRSSMB = sysinfo.PeakRSSMB()
	return r, nil
}

// BLASRate returns the best rate, in GFLOP/s, of the representative
// products of a batch and a hidden width n, tiled on pool and as one
// direct call, and the shape that reached it.
func BLASRate(pool *compute.Pool, batch, n int) (float64, string) {
	rng := rand.New(rand.NewPCG(5, 6))
	gen := func(r, c int) blas64.General {
		g := blas64.General{Rows: r, Cols: c, Stride: c, Data: make([]float64, r*c)}
		for i := range g.Data {
			g.Data[i] = rng.NormFloat64()
		}
		return g
	}
	shapes := []struct {
		name    string
		m, n, k int
		tB      blas.Transpose
	}{
		{fmt.Sprintf("%dx%dx%d (basal input)", batch, n, n), batch, n, n, blas.Trans},
		{fmt.Sprintf("%dx%dx%d (weight update)", n, n, 10*batch), n, n, 10 * batch, blas.NoTrans},
	}
	best, bestName := 0.0, ""
	for _, s := range shapes {
		a := gen(s.m, s.k)
		var b blas64.General
		if s.tB == blas.Trans {
			b = gen(s.n, s.k)
		} else {
			b = gen(s.k, s.n)
		}
		c := gen(s.m, s.n)
		for _, direct := range []bool{false, true} {
			mul := func() {
				if direct {
					blas64.Gemm(blas.NoTrans, s.tB, 1, a, b, 0, c)
				} else {
					pool.Gemm(blas.NoTrans, s.tB, 1, a, b, 0, c)
				}
			}
			mul()
			n, start := 0, time.Now()
			for time.Since(start) < 400*time.Millisecond {
				mul()
				n++
			}
			rate := 2 * float64(s.m*s.n*s.k) * float64(n) / time.Since(start).Seconds() / 1e9
			if rate > best {
				best, bestName = rate, s.name
			}
		}
	}
	return best, bestName
}
