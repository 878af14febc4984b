//go:build amd64 && !openblas && !purego

package compute

import (
	"math"
	"sync"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// The package's own matrix product, in the manner of GotoBLAS and BLIS.
// A tile of C (kernelTileRows × kernelTileCols, the unit of work of the
// pool) is computed in blocks of at most kcMax steps of the inner
// dimension. For each block, the tile's rows of op(A) are packed into
// micro-panels of mr rows (mr values per step, contiguous) and its columns
// of op(B) into micro-panels of nr columns; then the micro-kernel kern6x8
// computes each mr×nr micro-tile of C from one micro-panel of each, for
// every micro-panel of B (which stays in L1) and every micro-panel of A
// (which stay in L2). Packing pads with zeros; a micro-tile that sticks
// out of C is computed into a small buffer and the part inside C merged
// with the same arithmetic the kernel uses, fma(alpha, AB, beta·C). The
// first block applies beta and the later ones add to C.
//
// How the inner dimension is cut depends on k alone and tiles on the shape
// alone, so the bits of C do not depend on the number of workers.
const (
	mr = 6 // rows of a micro-tile
	nr = 8 // columns of a micro-tile

	// kcMax bounds a block of the inner dimension: a micro-panel of B then
	// takes at most 16 KiB (in L1) and one of A 12 KiB. k is cut into
	// ⌈k/kcMax⌉ blocks of equal size (±1).
	kcMax = 256

	// kernelTileRows × kernelTileCols is the tile of C each task computes.
	kernelTileRows = 64
	kernelTileCols = 128
)

// packBuf holds one worker's packed panels and an edge micro-tile.
type packBuf struct {
	a, b []float64
	t    [mr * nr]float64
}

// packs lends a packBuf to each running Range, so that steady-state
// products allocate nothing.
var packs = sync.Pool{New: func() any { return new(packBuf) }}

// grow makes room for na values of packed A and nb of packed B.
func (p *packBuf) grow(na, nb int) {
	if len(p.a) < na {
		p.a = alignedFloats(na)
	}
	if len(p.b) < nb {
		p.b = alignedFloats(nb)
	}
}

// alignedFloats returns n float64 starting on a 64-byte boundary.
func alignedFloats(n int) []float64 {
	s := make([]float64, n+7)
	off := int(uintptr(unsafe.Pointer(&s[0]))%64) / 8
	if off != 0 {
		off = 8 - off
	}
	return s[off : off+n : off+n]
}

// kernelRange computes tiles [lo, hi) of C with the package's kernel.
func (t *task) kernelRange(lo, hi int) {
	buf := packs.Get().(*packBuf)
	for tile := lo; tile < hi; tile++ {
		i0, i1, j0, j1 := t.bounds(tile)
		kernelTile(buf, t.tA, t.tB, t.alpha, t.a, t.b, t.beta, t.c, t.k, i0, i1, j0, j1)
	}
	packs.Put(buf)
}

// kernelTile computes rows [i0, i1) and columns [j0, j1) of C =
// alpha·op(A)·op(B) + beta·C, whose inner dimension is k > 0.
func kernelTile(buf *packBuf, tA, tB blas.Transpose, alpha float64, a, b blas64.General, beta float64, c blas64.General, k, i0, i1, j0, j1 int) {
	nk := (k + kcMax - 1) / kcMax
	kcHi := (k + nk - 1) / nk
	mp := (i1 - i0 + mr - 1) / mr // micro-panels of A
	np := (j1 - j0 + nr - 1) / nr // micro-panels of B
	buf.grow(mp*mr*kcHi, np*nr*kcHi)
	for q := range nk {
		p0 := q * k / nk
		kc := (q+1)*k/nk - p0
		packA(buf.a, tA != blas.NoTrans, a, i0, i1, p0, kc)
		packB(buf.b, tB != blas.NoTrans, b, j0, j1, p0, kc)
		bt := beta
		if q > 0 {
			bt = 1
		}
		for jp := range np {
			jr := j0 + jp*nr
			bp := &buf.b[jp*nr*kc]
			for ip := range mp {
				ir := i0 + ip*mr
				ap := &buf.a[ip*mr*kc]
				if ir+mr <= i1 && jr+nr <= j1 {
					kern6x8(kc, ap, bp, &c.Data[ir*c.Stride+jr], c.Stride, alpha, bt)
					continue
				}
				kern6x8(kc, ap, bp, &buf.t[0], nr, 1, 0)
				cols := min(nr, j1-jr)
				for r := range min(mr, i1-ir) {
					row := c.Data[(ir+r)*c.Stride+jr:][:cols]
					ab := buf.t[r*nr:][:cols]
					if bt == 0 {
						for j := range row {
							row[j] = alpha * ab[j]
						}
					} else {
						for j := range row {
							row[j] = math.FMA(alpha, ab[j], bt*row[j])
						}
					}
				}
			}
		}
	}
}

// packA packs rows [i0, i1) and inner indices [p0, p0+kc) of op(A) (Aᵀ
// when trans) into micro-panels of mr rows: value (i, p) of micro-panel q
// goes to dst[q·mr·kc + p·mr + i], rows past i1 are zeros.
func packA(dst []float64, trans bool, a blas64.General, i0, i1, p0, kc int) {
	lda := a.Stride
	for ir := i0; ir < i1; ir += mr {
		d := dst[:mr*kc]
		dst = dst[mr*kc:]
		rows := min(mr, i1-ir)
		switch {
		case trans:
			// op(A)(i, p) = A[p, i]: mr consecutive values per step.
			for p := range kc {
				src := a.Data[(p0+p)*lda+ir:][:rows]
				e := d[p*mr:][:mr]
				if rows == mr {
					e[0], e[1], e[2], e[3], e[4], e[5] = src[0], src[1], src[2], src[3], src[4], src[5]
					continue
				}
				copy(e, src)
				clear(e[rows:])
			}
		case rows == mr:
			r0 := a.Data[ir*lda+p0:][:kc]
			r1 := a.Data[(ir+1)*lda+p0:][:kc]
			r2 := a.Data[(ir+2)*lda+p0:][:kc]
			r3 := a.Data[(ir+3)*lda+p0:][:kc]
			r4 := a.Data[(ir+4)*lda+p0:][:kc]
			r5 := a.Data[(ir+5)*lda+p0:][:kc]
			for p := range kc {
				e := d[p*mr:][:mr]
				e[0], e[1], e[2], e[3], e[4], e[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
			}
		default:
			clear(d)
			for r := range rows {
				src := a.Data[(ir+r)*lda+p0:][:kc]
				for p, x := range src {
					d[p*mr+r] = x
				}
			}
		}
	}
}

// packB packs inner indices [p0, p0+kc) and columns [j0, j1) of op(B) (Bᵀ
// when trans) into micro-panels of nr columns: value (p, j) of micro-panel
// q goes to dst[q·nr·kc + p·nr + j], columns past j1 are zeros.
func packB(dst []float64, trans bool, b blas64.General, j0, j1, p0, kc int) {
	ldb := b.Stride
	for jr := j0; jr < j1; jr += nr {
		d := dst[:nr*kc]
		dst = dst[nr*kc:]
		cols := min(nr, j1-jr)
		switch {
		case !trans:
			// op(B)(p, j) = B[p, j]: nr consecutive values per step.
			for p := range kc {
				src := b.Data[(p0+p)*ldb+jr:][:cols]
				e := d[p*nr:][:nr]
				if cols == nr {
					e[0], e[1], e[2], e[3] = src[0], src[1], src[2], src[3]
					e[4], e[5], e[6], e[7] = src[4], src[5], src[6], src[7]
					continue
				}
				copy(e, src)
				clear(e[cols:])
			}
		case cols == nr:
			r0 := b.Data[jr*ldb+p0:][:kc]
			r1 := b.Data[(jr+1)*ldb+p0:][:kc]
			r2 := b.Data[(jr+2)*ldb+p0:][:kc]
			r3 := b.Data[(jr+3)*ldb+p0:][:kc]
			r4 := b.Data[(jr+4)*ldb+p0:][:kc]
			r5 := b.Data[(jr+5)*ldb+p0:][:kc]
			r6 := b.Data[(jr+6)*ldb+p0:][:kc]
			r7 := b.Data[(jr+7)*ldb+p0:][:kc]
			for p := range kc {
				e := d[p*nr:][:nr]
				e[0], e[1], e[2], e[3] = r0[p], r1[p], r2[p], r3[p]
				e[4], e[5], e[6], e[7] = r4[p], r5[p], r6[p], r7[p]
			}
		default:
			clear(d)
			for j := range cols {
				src := b.Data[(jr+j)*ldb+p0:][:kc]
				for p, x := range src {
					d[p*nr+j] = x
				}
			}
		}
	}
}
