package compute

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// gemmShapes are the products of one MNIST time step and window (batch
// 128, 256-neuron layers, 784 inputs, 10 outputs, 10-step stacks).
var gemmShapes = []struct {
	name    string
	m, n, k int
	tA, tB  blas.Transpose
	beta    float64
}{
	{"basal", 128, 256, 256, blas.NoTrans, blas.Trans, 0},         // R·Wᵀ of layers 2–4
	{"apical", 128, 256, 10, blas.NoTrans, blas.Trans, 0},         // U·Qᵀ
	{"output", 128, 10, 256, blas.NoTrans, blas.Trans, 0},         // basal input of the output layer
	{"first", 128, 256, 784, blas.NoTrans, blas.Trans, 0},         // basal input of layer 1
	{"updateNT", 256, 256, 1280, blas.NoTrans, blas.Trans, 1},     // forward rule (Correlator)
	{"feedbackNT", 10, 256, 1280, blas.NoTrans, blas.Trans, 1},    // feedback rule (Correlator)
	{"updateFirstTN", 256, 784, 128, blas.Trans, blas.NoTrans, 1}, // layer 1's rule, δᵀ·input
	{"update", 256, 256, 1280, blas.NoTrans, blas.NoTrans, 0},
	{"updateTN", 256, 256, 1280, blas.Trans, blas.NoTrans, 0},
	{"basal8", 8, 256, 256, blas.NoTrans, blas.Trans, 0}, // a chunk of 8 samples (chunks: 16)
	{"first8", 8, 256, 784, blas.NoTrans, blas.Trans, 0}, // its first layer
	{"basal1", 1, 256, 256, blas.NoTrans, blas.Trans, 0}, // one sample (trace, the live view)
}

// BenchmarkGemm measures the simulator's products with each backend Gemm
// can run here (Backends: the package's own kernel with and without its
// AVX-512 micro-kernel, tiles of gonum's or OpenBLAS's blas64.Gemm), on one goroutine (serial, a nil
// pool) and on a pool of GOMAXPROCS workers (pool), and as one direct
// blas64.Gemm call (direct; gonum runs its own goroutines). It reports
// GFLOP/s of wall time and, on Linux, cpu-GFLOP/s: the FLOPs over the CPU
// time the process used. On a machine shared with other work the second is
// the steadier measure of a serial product's speed (the wall time includes
// the time the thread waited for a CPU); for the pool it also counts the
// workers' spinning.
func BenchmarkGemm(b *testing.B) {
	pool := NewPool(0)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range gemmShapes {
		ar, ac := s.m, s.k
		if s.tA == blas.Trans {
			ar, ac = s.k, s.m
		}
		br, bc := s.k, s.n
		if s.tB == blas.Trans {
			br, bc = s.n, s.k
		}
		a, bm, c := randGeneral(rng, ar, ac, ac), randGeneral(rng, br, bc, bc), randGeneral(rng, s.m, s.n, s.n)
		shape := fmt.Sprintf("%s_%dx%dx%d", s.name, s.m, s.n, s.k)
		flops := 2 * float64(s.m*s.n*s.k)
		var cpu0 time.Duration
		start := func(b *testing.B) {
			b.ResetTimer()
			cpu0 = cpuTime()
		}
		report := func(b *testing.B) {
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(flops*float64(b.N)/cpu.Seconds()/1e9, "cpu-GFLOP/s")
			}
		}
		for _, name := range Backends() {
			for _, p := range []*Pool{nil, pool} {
				where := "serial"
				if p != nil {
					where = "pool"
				}
				b.Run(shape+"/"+name+"/"+where, func(b *testing.B) {
					withBackend(b, name, func() {
						start(b)
						for b.Loop() {
							p.Gemm(s.tA, s.tB, 1, a, bm, s.beta, c)
						}
					})
					report(b)
				})
			}
		}
		b.Run(shape+"/direct", func(b *testing.B) {
			start(b)
			for b.Loop() {
				blas64.Gemm(s.tA, s.tB, 1, a, bm, s.beta, c)
			}
			report(b)
		})
	}
}

// withBackend runs f with the products on the named backend, then restores
// the default.
func withBackend(tb testing.TB, name string, f func()) {
	saved := Backend()
	if err := SetBackend(name); err != nil {
		tb.Fatal(err)
	}
	defer func() {
		if err := SetBackend(saved); err != nil {
			tb.Fatal(err)
		}
	}()
	f()
}
