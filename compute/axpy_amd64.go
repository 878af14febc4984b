//go:build amd64 && !purego

package compute

import "golang.org/x/sys/cpu"

// useAxpyAsm says whether Axpy runs axpyAVX2.
var useAxpyAsm = cpu.X86.HasAVX2

// axpyAVX2 is Axpy for len(y) == len(x), in AVX2 assembly (multiply, then
// add: no FMA).
//
//go:noescape
func axpyAVX2(alpha float64, x, y []float64)
