package neuron

// zig8 draws from eight streams side by side with AVX-512 (ziggurat_amd64.s):
// lane l's state is st[0..3][l]; for k < n it writes lane l's k-th draw's
// fast-path value to dst[l·stride + k] and stops after the first draw some
// lane must finish with normalSlow, returning the draws done, those lanes
// in mask, and their j and layer in fail[l] and fail[8+l].
//
//go:noescape
func zig8(st *[4][8]uint64, dst *float64, stride, n int, fail *[16]int64) (done int, mask uint64)
