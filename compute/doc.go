// Package compute is the simulator's lowest layer: the arithmetic that
// every time step is made of, with no knowledge of neurons or learning.
// It owns
//
//   - Pool, a set of worker goroutines that runs data-parallel loops
//     without allocating. A Pool is passed to whatever computes (layers,
//     projections, circuits); a nil *Pool runs every loop on the calling
//     goroutine, which is how a worker that owns a whole share of a
//     minibatch computes. There is no process-wide pool.
//   - Pool.Gemm, the one place where matrices are multiplied: fixed tiles of
//     C, each computed single-threaded, spread over the pool. The tiles
//     depend on the shape only, so results do not depend on the number of
//     workers.
//   - The matrix-product kernel behind Gemm (kernel.go, kernel_amd64.s): on
//     amd64 CPUs with AVX2 and FMA, the package's own, GotoBLAS-style —
//     panels of op(A) and op(B) packed into per-worker buffers (reused, not
//     allocated per call) and a 6×8 FMA micro-kernel in assembly whose
//     loops are aligned to 64 bytes, so that its speed does not depend on
//     where the linker puts it; on CPUs that also have AVX-512, a 12×16
//     micro-kernel on ZMM registers (kernel512_amd64.s) computes four of
//     those micro-tiles at a time, with the same bits. Elsewhere (other
//     CPUs and architectures, or the build tag purego) each tile is one
//     blas64.Gemm call to gonum's pure-Go BLAS, and with the build tag
//     openblas one to OpenBLAS. Backend says which ("go-avx512",
//     "go-avx2", "gonum", "openblas").
//   - Strided, a destination for one value per sample and unit with any
//     row and column strides: batch-major matrices and the stacks of the
//     plasticity products (batch-major, or neuron-major with gonum) are
//     all Strided.
//   - Correlator, which accumulates Σ_k A[k]ᵀ·B[k] over time steps by
//     stacking several steps into one long product.
//
// A simulation step dispatches a dozen short loops (tens to hundreds of
// microseconds each), back to back. Waking a parked goroutine for each would
// cost as much as the loop and, because Go runs a goroutine woken by a
// channel send on the sender's own processor first, often serialises the
// work. So workers spin on an atomic counter for a while after each loop
// and park only when no work has come for about 100 µs.
//
// Results never depend on how many workers there are: Run only splits an
// index range into contiguous chunks, and every Body in this module
// computes each index independently of the others; Gemm's tiles depend on
// the shape of the product alone, and the kernel cuts the inner dimension
// by its length alone. Gemm uses the cores better than gonum's own
// parallel driver or OpenBLAS's threads (which would spin while the pool
// runs the elementwise kernels), and allocates nothing.
package compute
