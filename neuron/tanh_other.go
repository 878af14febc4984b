//go:build !amd64

package neuron

const (
	useAVX2   = false
	useAVX512 = false
)

func tanhAVX2(dst, src *float64, n int) { panic("neuron: no AVX2 on this architecture") }

func tanhAVX512(dst, src *float64, n int) { panic("neuron: no AVX-512 on this architecture") }
