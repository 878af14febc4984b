package train_test

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/presets"
	"github.com/strongdfc/strongdfc/train"
)

// BenchmarkChunkReduce times the serial part of a window-parallel window
// of the published MNIST network (784-256-256-256-10): the sum of 16
// chunks' gradients and the optimizers' step. With one chunk's window
// time (experiments/bench -batch 8 -chunks 1 on one core) it gives the
// speed-up to expect from 16 cores (docs/performance.md).
func BenchmarkChunkReduce(b *testing.B) {
	for _, k := range []int{2, 16} {
		b.Run(map[int]string{2: "2chunks", 16: "16chunks"}[k], func(b *testing.B) {
			cfg := presets.MNIST()
			cfg.Batch, cfg.Chunks = 128, k
			cfg.Dynamics.Steps = 2
			pool := compute.NewPool(1)
			defer pool.Close()
			m, _ := cfg.MethodSpec()
			acts, _ := cfg.Acts()
			net, err := circuit.NewNetwork(cfg.Sizes(784, 10), acts)
			if err != nil {
				b.Fatal(err)
			}
			net.Init(rand.New(rand.NewPCG(1, 2)))
			net.Pool = pool
			env, err := train.NewEnv(cfg, m, net, cfg.Batch, cfg.Seed, pool)
			if err != nil {
				b.Fatal(err)
			}
			run, err := m.Phase("train").(train.Simulated).Start(env)
			if err != nil {
				b.Fatal(err)
			}
			x := mat.NewDense(cfg.Batch, 784, nil)
			tg := mat.NewDense(cfg.Batch, 10, nil)
			if _, err := run.Window(x, tg); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				if _, err := train.ReduceChunks(run, cfg.Batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
