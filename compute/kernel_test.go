//go:build amd64 && !openblas && !purego

package compute

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkKern6x8 measures the micro-kernel alone on packed panels that
// stay in L1 (k = kcMax), the upper bound of what packing and blocking can
// reach.
func BenchmarkKern6x8(b *testing.B) {
	if !haveKernel {
		b.Skip("the CPU lacks AVX2 or FMA")
	}
	benchKernel(b, 1, 1, 1, func(a, p []float64, _, _ int, c *float64) {
		kern6x8(kcMax, &a[0], &p[0], c, nr, 1, 1)
	})
}

// benchKernel measures a micro-kernel on nA packed micro-panels of A and
// nB of B with k = kcMax (they stay in L1 and L2): run calls it once, and
// it computes tiles micro-tiles of mr×nr. It reports GFLOP/s of wall time
// and cpu-GFLOP/s, as BenchmarkGemm does.
func benchKernel(b *testing.B, nA, nB, tiles int, run func(a, p []float64, psA, psB int, c *float64)) {
	rng := rand.New(rand.NewPCG(1, 2))
	psA, psB := panelStride(mr, kcMax), panelStride(nr, kcMax)
	a, p := alignedFloats(nA*psA), alignedFloats(nB*psB)
	for i := range a {
		a[i] = rng.NormFloat64()
	}
	for i := range p {
		p[i] = rng.NormFloat64()
	}
	var c [4 * mr * nr]float64
	cpu0 := cpuTime()
	for b.Loop() {
		run(a, p, psA, psB, &c[0])
	}
	flops := 2 * float64(tiles*mr*nr*kcMax) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(flops/cpu.Seconds()/1e9, "cpu-GFLOP/s")
	}
}
