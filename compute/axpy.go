package compute

import "fmt"

// Axpy adds alpha·x to y: y[i] += alpha·x[i] for i < len(x). Each term is a
// product rounded to float64 and then a sum rounded (never a fused
// multiply-add), so that the result has the same bits on every CPU and
// build, and the same as gonum's Daxpy on amd64. It is the row addition of
// event-driven transmission (a spike adds its weight row), a few hundred
// elements at a time: with AVX2 it runs as this package's vector assembly;
// in the purego and openblas builds and on other CPUs, as gonum's Daxpy. It
// panics when y is shorter than x.
func Axpy(alpha float64, x, y []float64) {
	if len(y) < len(x) {
		panic(fmt.Sprintf("compute: Axpy: y has %d elements, x %d", len(y), len(x)))
	}
	axpy(alpha, x, y[:len(x)])
}

// axpyGo is Axpy in Go, for CPUs without AVX2; the conversion keeps the
// compiler from fusing the product and the sum.
func axpyGo(alpha float64, x, y []float64) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += float64(alpha * v)
	}
}
