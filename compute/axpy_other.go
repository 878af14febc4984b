//go:build !amd64 || purego

package compute

// useAxpyAsm is false: Axpy runs in Go in this build.
const useAxpyAsm = false

// axpyAVX2 is never called in this build.
func axpyAVX2(alpha float64, x, y []float64) { panic("compute: no AVX2 Axpy in this build") }
