//go:build !openblas && !purego

package compute

import "golang.org/x/sys/cpu"

// The package's own kernel needs AVX2 and FMA (and an OS that saves the
// YMM registers, which cpu.X86.HasAVX2 includes); its 12×16 micro-kernel
// also needs AVX-512F and DQ (cpu.X86.HasAVX512F includes the OS's saving
// of the ZMM registers and mask registers).
func init() {
	if haveKernel {
		useKernel = true
		backend = "go-avx2"
	}
	if have512 {
		use512 = true
		backend = "go-avx512"
	}
}

// haveKernel says whether this build and CPU can run the package's own
// kernel (tests run both implementations when it can).
var haveKernel = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// have512 says whether the CPU can also run kern12x16 (tests compare
// products with and without it when it can).
var have512 = haveKernel && cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ

// use512 says whether kernelTile computes the micro-tiles it can in 12×16
// blocks with kern12x16 (the bits of C are the same either way). It is set
// at start-up where the CPU has AVX-512; tests switch it to compare.
var use512 = false

// kern6x8 sets C[0:6, 0:8] = alpha·Σ_p a[6p:6p+6] ⊗ b[8p:8p+8] + beta·C for
// p < k, where C starts at c with a row stride of ldc elements. a and b are
// packed micro-panels of op(A) (6 rows) and op(B) (8 columns). When beta
// is zero (of either sign) C is not read. Implemented in kernel_amd64.s
// with AVX2 and FMA.
//
//go:noescape
func kern6x8(k int, a, b, c *float64, ldc int, alpha, beta float64)

// kern12x16 sets C[0:12, 0:16] = alpha·Σ_p A_p ⊗ B_p + beta·C for p < k,
// where C starts at c with a row stride of ldc elements, from two
// consecutive packed micro-panels of op(A), psA values apart (rows 0–5 at a,
// rows 6–11 at a+psA), and two of op(B), psB values apart (columns 0–7 at b,
// columns 8–15 at b+psB). When beta is zero (of either sign) C is not read.
// The result is bit for bit that of kern6x8 on the four 6×8 sub-tiles: each
// element is the same chain of FMAs and the same final fma(alpha, AB,
// beta·C). Implemented in kernel512_amd64.s with AVX-512F; only for CPUs
// where have512.
//
//go:noescape
func kern12x16(k int, a *float64, psA int, b *float64, psB int, c *float64, ldc int, alpha, beta float64)

// kern24x8 sets T[0:24, 0:8] = Σ_p A_p ⊗ B_p for p < k, where T starts at
// t with a row stride of 8, from four consecutive packed micro-panels of
// op(A), psA values apart (rows 6q to 6q+5 at a+q·psA), and one of op(B).
// Each element is bit for bit what kern6x8 with alpha 1 and beta 0 gives
// on the four 6×8 sub-tiles. Implemented in kernel24_amd64.s with AVX-512F
// (FMAs that broadcast their element of A from memory); only for CPUs
// where have512.
//
//go:noescape
func kern24x8(k int, a *float64, psA int, b, t *float64)

// kern24x8d is kern24x8 with the 24 rows of the A side read in place,
// lda elements apart (row r at a+r·lda, k values each), instead of from
// packed micro-panels: the same bits as kern24x8 on the packed copy.
// Implemented in kernel24_amd64.s with AVX-512F; only where have512.
//
//go:noescape
func kern24x8d(k int, a *float64, lda int, b, t *float64)

// packT6 sets dst[6p+i] = src[i·lds+p] for i < 6 and p < kc: six rows of a
// row-major matrix interleaved step by step (a micro-panel of op(A) = A).
//
//go:noescape
func packT6(kc int, src *float64, lds int, dst *float64)

// packT8 sets dst[8p+j] = src[j·lds+p] for j < 8 and p < kc (a
// micro-panel of op(B) = Bᵀ).
//
//go:noescape
func packT8(kc int, src *float64, lds int, dst *float64)

// packC6 sets dst[q·ps+6p+i] = src[p·lds+6q+i] for i < 6, q < nq and p <
// kc: nq micro-panels of op(A) = Aᵀ, read row by row of A.
//
//go:noescape
func packC6(kc int, src *float64, lds int, dst *float64, ps, nq int)

// packC8 sets dst[q·ps+8p+j] = src[p·lds+8q+j] for j < 8, q < nq and p <
// kc: nq micro-panels of op(B) = B, read row by row of B.
//
//go:noescape
func packC8(kc int, src *float64, lds int, dst *float64, ps, nq int)

// Backends lists the matrix-product implementations this build can run on
// this CPU, the default first.
func Backends() []string {
	var list []string
	if have512 {
		list = append(list, "go-avx512")
	}
	if haveKernel {
		list = append(list, "go-avx2")
	}
	return append(list, "gonum")
}

// selectBackend switches Gemm to one of Backends().
func selectBackend(name string) {
	useKernel = name != "gonum"
	use512 = name == "go-avx512"
}
