//go:build amd64 && !openblas && !purego

package compute

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// TestTransposedTile: a tile of few rows computed as its transpose
// (kernelTileT) has the bits of the same tile computed directly, on
// shapes of 1 to 11 rows (a chunk of 8 samples among them) with up to 300
// columns and inner dimensions across kcMax, every transposition, several
// alpha and beta (beta = 0 with NaN in C), with a nil pool and a pool of
// 2 workers; the gaps between C's rows stay as they were.
func TestTransposedTile(t *testing.T) {
	if !haveKernel {
		t.Skip("the CPU lacks AVX2 or FMA")
	}
	pool := NewPool(2)
	defer pool.Close()
	rng := rand.New(rand.NewPCG(9, 10))
	var shapes []gemmShape
	transposed := 0
	for _, m := range []int{1, 2, 5, 7, 8, 9, 11} {
		for _, n := range []int{1, 6, 10, 13, 128, 300} {
			for _, k := range []int{1, 10, 257} {
				shapes = append(shapes, gemmShape{m, n, k})
				if transposedTile(m, min(n, kernelTileCols)) {
					transposed++
				}
			}
		}
	}
	if transposed < len(shapes)/4 {
		t.Fatalf("only %d of %d shapes take the transposed path: the test would not test it", transposed, len(shapes))
	}
	off := func(f func()) { withTransposed(false, f) }
	on := func(f func()) { withTransposed(true, f) }
	gemmCases(rng, shapes, func(s gemmShape, tA, tB blas.Transpose, a, b, c0 blas64.General, co gemmCoef) {
		sameBitsCase(t, "transposed", off, on, []*Pool{nil, pool}, s, tA, tB, a, b, c0, co)
	})
}

// TestTransposedTileChoice: which tiles go the transposed way.
func TestTransposedTileChoice(t *testing.T) {
	for _, tc := range []struct {
		m, n int
		want bool
	}{
		{8, 128, true},   // a tile of a chunk of 8 samples: 22 micro-tiles against 32
		{7, 128, true},   // 22 against 32
		{9, 128, false},  // 44 against 32
		{8, 10, true},    // its output layer: 2 against 4
		{1, 128, false},  // one sample: 22 against 16
		{6, 256, false},  // one full micro-panel of rows
		{12, 256, false}, // two
		{128, 256, false},
	} {
		if got := transposedTile(tc.m, tc.n); got != tc.want {
			t.Errorf("transposedTile(%d, %d) = %v, want %v", tc.m, tc.n, got, tc.want)
		}
	}
}

// withTransposed runs f with the package's kernel in use and its
// transposed tiles switched on or off.
func withTransposed(on bool, f func()) {
	saved, savedKernel := useTransposed, useKernel
	useTransposed, useKernel = on, true
	defer func() { useTransposed, useKernel = saved, savedKernel }()
	f()
}
