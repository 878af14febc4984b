package neuron

import "golang.org/x/sys/cpu"

// useAVX2 selects the assembly tanh.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// tanhAVX2 sets dst[i] = tanh(src[i]) for i < n; n is a multiple of 4.
//
//go:noescape
func tanhAVX2(dst, src *float64, n int)
