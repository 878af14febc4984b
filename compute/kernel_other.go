//go:build !amd64 || openblas || purego

package compute

// Without the package's own kernel (other architectures, the build tags
// openblas and purego) every product goes to blas64.Gemm.

// haveKernel says whether this build and CPU can run the package's own
// kernel: never in this build.
const haveKernel = false

// Tiles of the own kernel; unused in this build.
const kernelTileRows, kernelTileCols = 1, 1

// kernelRange is never called in this build (useKernel stays false).
func (t *task) kernelRange(lo, hi int) {
	panic("compute: no GEMM kernel in this build")
}

// have512 says whether the CPU can run the AVX-512 micro-kernel: never in
// this build.
const have512 = false

// Backends lists the matrix-product implementations this build can run on
// this CPU: in this build only the one it was built with.
func Backends() []string { return []string{backend} }

// selectBackend has nothing to switch in this build.
func selectBackend(string) {}
