//go:build openblas

package compute

// #cgo LDFLAGS: -lopenblas
// void openblas_set_num_threads(int);
// char* openblas_get_corename(void);
import "C"

import (
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

// With the openblas build tag, every product goes to OpenBLAS (Debian's
// libopenblas-dev) through gonum's cgo wrapper. OpenBLAS runs single-threaded
// and Gemm spreads tiles over the worker pool, as for gonum: OpenBLAS's own
// threads would spin while the pool runs the elementwise kernels and take
// the cores from them.
func init() {
	C.openblas_set_num_threads(1)
	blas64.Use(netlib.Implementation{})
	backend = "openblas"
	tileRows, tileCols = 128, 128
}

// Core returns the name of the kernel set OpenBLAS chose for this CPU, or
// was told to use by the environment variable OPENBLAS_CORETYPE.
func Core() string { return C.GoString(C.openblas_get_corename()) }
