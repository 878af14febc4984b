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
	rng := rand.New(rand.NewPCG(1, 2))
	a, p := alignedFloats(mr*kcMax), alignedFloats(nr*kcMax)
	for i := range a {
		a[i] = rng.NormFloat64()
	}
	for i := range p {
		p[i] = rng.NormFloat64()
	}
	var c [mr * nr]float64
	cpu0 := cpuTime()
	for b.Loop() {
		kern6x8(kcMax, &a[0], &p[0], &c[0], nr, 1, 1)
	}
	flops := 2 * mr * nr * kcMax * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(flops/cpu.Seconds()/1e9, "cpu-GFLOP/s")
	}
}
