package compute

import (
	"testing"
)

// BenchmarkPutRows measures writing one step's rows of a 256-unit quantity
// (a chunk of 64 samples) into a plasticity stack, neuron-major as the
// correlator stacks them (ld = 10 steps × 64 rows) and batch-major.
func BenchmarkPutRows(b *testing.B) {
	const rows, n, ld = 64, 256, 640
	src := make([]float64, rows*n)
	for i := range src {
		src[i] = float64(i)
	}
	for _, tc := range []struct {
		name string
		dst  Strided
	}{
		{"neuron-major", Strided{Data: make([]float64, n*ld), RowStride: 1, ColStride: ld}},
		{"batch-major", Strided{Data: make([]float64, ld*n), RowStride: n, ColStride: 1}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				for i0 := 0; i0 < rows; i0 += RowBlock {
					tc.dst.PutRows(i0, i0+RowBlock, src, n, n)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(rows*n), "ns/value")
		})
	}
}
