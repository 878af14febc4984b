//go:build amd64 && !purego && !openblas

package compute

import "golang.org/x/sys/cpu"

// useAxpyAsm says whether axpy runs the assembly.
var useAxpyAsm = cpu.X86.HasAVX2

// axpy is Axpy for len(y) == len(x): the AVX2 assembly when the CPU
// has it, else axpyGo.
func axpy(alpha float64, x, y []float64) {
	if useAxpyAsm {
		axpyAsm(alpha, x, y)
		return
	}
	axpyGo(alpha, x, y)
}

// axpyAsm is axpy in AVX2 assembly (multiply, then add: no FMA).
//
//go:noescape
func axpyAsm(alpha float64, x, y []float64)
