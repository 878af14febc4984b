//go:build !amd64 || purego || openblas

package compute

import gonumblas "gonum.org/v1/gonum/blas/gonum"

// useAxpyAsm is false: this build has no assembly of its own (a package
// that uses cgo, as the openblas build's does, cannot hold Go assembly).
const useAxpyAsm = false

// axpy is gonum's Daxpy in this build: on amd64 its SSE2 assembly,
// which multiplies and then adds, as axpyAsm does elsewhere.
func axpy(alpha float64, x, y []float64) {
	var g gonumblas.Implementation
	g.Daxpy(len(x), alpha, x, 1, y, 1)
}
