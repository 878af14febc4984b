package neuron

import "golang.org/x/sys/cpu"

// useAVX2 and useAVX512 select the assembly tanh.
var (
	useAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	useAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ
)

// tanhAVX2 sets dst[i] = tanh(src[i]) for i < n; n is a multiple of 4.
//
//go:noescape
func tanhAVX2(dst, src *float64, n int)

// tanhAVX512 sets dst[i] = tanh(src[i]) for i < n; n is a multiple of 8.
//
//go:noescape
func tanhAVX512(dst, src *float64, n int)
