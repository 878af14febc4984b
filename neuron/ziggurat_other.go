//go:build !amd64

package neuron

func zig8(st *[4][8]uint64, dst *float64, stride, n int, fail *[16]int64) (done int, mask uint64) {
	panic("neuron: no AVX-512 on this architecture")
}
