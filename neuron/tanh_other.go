//go:build !amd64

package neuron

const useAVX2 = false

func tanhAVX2(dst, src *float64, n int) { panic("neuron: no AVX2 on this architecture") }
