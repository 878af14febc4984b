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
// On CPUs with AVX-512 (use512), micro-tiles that lie inside C two by two
// in both directions are computed four at a time by kern12x16, a 12×16
// micro-kernel on ZMM registers that reads two consecutive micro-panels of
// A and two of B from the same packed buffers (pairs of micro-panels of B
// in the outer loop, of A in the inner one); kern6x8 computes the rest,
// edges included. kern12x16 computes each element of C with the same chain
// of FMAs and the same final fma as kern6x8, so the bits of C do not
// depend on which of the two computed it.
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

	// kernelTileRows × kernelTileCols is the tile of C each task computes:
	// large enough that a tile's packed panels (about 270 KB of A and 260
	// KB of B) are packed few times over, and such that the simulator's
	// products (128 or 256 rows, 256 columns) split evenly between two
	// workers.
	kernelTileRows = 128
	kernelTileCols = 128
)

// packBuf holds one worker's packed panels and an edge micro-tile.
type packBuf struct {
	a, b []float64
	t    [4 * mr * nr]float64 // an edge micro-tile, or kern24x8's 24×8
}

// packFree holds the packBufs not in use. Each running kernelRange takes
// one, so there are as many as products have ever run at once (workers of
// pools and goroutines computing on their own), each at most about 600 KB;
// steady-state products allocate nothing. (A sync.Pool would let the
// garbage collector take them, and the race detector drops a share of what
// is put into one.)
var packFree struct {
	sync.Mutex
	bufs []*packBuf
}

// getPackBuf takes a free packBuf or makes one.
func getPackBuf() *packBuf {
	packFree.Lock()
	defer packFree.Unlock()
	n := len(packFree.bufs)
	if n == 0 {
		return new(packBuf)
	}
	b := packFree.bufs[n-1]
	packFree.bufs = packFree.bufs[:n-1]
	return b
}

// putPackBuf returns b to the free ones.
func putPackBuf(b *packBuf) {
	packFree.Lock()
	packFree.bufs = append(packFree.bufs, b)
	packFree.Unlock()
}

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
	buf := getPackBuf()
	for tile := lo; tile < hi; tile++ {
		i0, i1, j0, j1 := t.bounds(tile)
		kernelTile(buf, t.tA, t.tB, t.alpha, t.a, t.b, t.beta, t.c, t.k, i0, i1, j0, j1)
	}
	putPackBuf(buf)
}

// kernelTile computes rows [i0, i1) and columns [j0, j1) of C =
// alpha·op(A)·op(B) + beta·C, whose inner dimension is k > 0.
func kernelTile(buf *packBuf, tA, tB blas.Transpose, alpha float64, a, b blas64.General, beta float64, c blas64.General, k, i0, i1, j0, j1 int) {
	if useTransposed && transposedTile(i1-i0, j1-j0) {
		kernelTileT(buf, tA, tB, alpha, a, b, beta, c, k, i0, i1, j0, j1)
		return
	}
	nk := (k + kcMax - 1) / kcMax
	kcHi := (k + nk - 1) / nk
	mp := (i1 - i0 + mr - 1) / mr // micro-panels of A
	np := (j1 - j0 + nr - 1) / nr // micro-panels of B
	buf.grow(mp*panelStride(mr, kcHi), np*panelStride(nr, kcHi))
	for q := range nk {
		p0 := q * k / nk
		kc := (q+1)*k/nk - p0
		psA, psB := panelStride(mr, kc), panelStride(nr, kc)
		packA(buf.a, psA, tA != blas.NoTrans, a, i0, i1, p0, kc)
		packB(buf.b, psB, tB != blas.NoTrans, b, j0, j1, p0, kc)
		bt := beta
		if q > 0 {
			bt = 1
		}
		for jp := 0; jp < np; jp++ {
			jr := j0 + jp*nr
			bp := &buf.b[jp*psB]
			if use512 && jr+2*nr <= j1 {
				// Micro-panels jp and jp+1 of B are full: 12×16 blocks
				// where two full micro-panels of A follow, 6×8 for the
				// rest of this pair of columns of micro-tiles.
				for ip := 0; ip < mp; ip++ {
					ir := i0 + ip*mr
					ap := &buf.a[ip*psA]
					if ir+2*mr <= i1 {
						kern12x16(kc, ap, psA, bp, psB, &c.Data[ir*c.Stride+jr], c.Stride, alpha, bt)
						ip++
						continue
					}
					microTile(buf, kc, ap, bp, alpha, bt, c, ir, i1, jr, j1)
					microTile(buf, kc, ap, &buf.b[(jp+1)*psB], alpha, bt, c, ir, i1, jr+nr, j1)
				}
				jp++
				continue
			}
			for ip := range mp {
				microTile(buf, kc, &buf.a[ip*psA], bp, alpha, bt, c, i0+ip*mr, i1, jr, j1)
			}
		}
	}
}

// useTransposed lets kernelTile compute a tile of few rows as its
// transpose (kernelTileT); tests switch it off to compare bits.
var useTransposed = true

// transposedTile says whether a tile of m rows and n columns takes fewer
// micro-tiles as its transpose (n rows of mr, m columns of nr) than as
// itself. With the tiles of the simulator's products that is a tile of 7
// or 8 rows, such as the 8 samples of a minibatch chunk: as itself, 2
// micro-tiles of 6 rows each, a third of them padding, per 8 columns
// (32 for 128 columns); transposed, one micro-panel of 8 columns per 6
// columns of C (22).
func transposedTile(m, n int) bool {
	ceil := func(x, y int) int { return (x + y - 1) / y }
	return m < 2*mr && ceil(n, mr)*ceil(m, nr) < ceil(m, mr)*ceil(n, nr)
}

// kernelTileT computes the same tile as kernelTile from the transposed
// product, Cᵀ = op(B)ᵀ·op(A)ᵀ: op(B)ᵀ is packed as the micro-panels of A
// (mr columns of C at a time) and op(A)ᵀ as those of B (nr rows of C), and
// each micro-tile, computed into buf.t, is merged into C transposed with
// the arithmetic of microTile's edge (mergeT). Every element of C is the
// same chain of FMAs over the inner dimension as in kernelTile (a
// product's two factors swap, which an FMA does not see), so the bits are
// the same. Where the CPU has AVX-512, kern24x8 (packed) or kern24x8d (the
// rows of B read in place) computes four micro-tiles at a time, 24 columns
// of C, with the same bits.
func kernelTileT(buf *packBuf, tA, tB blas.Transpose, alpha float64, a, b blas64.General, beta float64, c blas64.General, k, i0, i1, j0, j1 int) {
	nk := (k + kcMax - 1) / kcMax
	kcHi := (k + nk - 1) / nk
	// Where op(B)ᵀ is B itself (tB == Trans: the rows of a weight matrix,
	// as in r·Wᵀ) and the CPU has AVX-512, kern24x8d reads its rows in
	// place, 24 at a time, so that weights are not packed again at every
	// time step; the nd groups of 24 columns of C from j0 on are computed
	// so, the rest from packed micro-panels.
	nd := 0
	if use512 && tB == blas.Trans {
		nd = (j1 - j0) / (4 * mr)
	}
	jd := j0 + nd*4*mr
	mp := (j1 - jd + mr - 1) / mr // packed micro-panels of op(B)ᵀ: columns of C
	np := (i1 - i0 + nr - 1) / nr // micro-panels of op(A)ᵀ: rows of C
	buf.grow(mp*panelStride(mr, kcHi), np*panelStride(nr, kcHi))
	for q := range nk {
		p0 := q * k / nk
		kc := (q+1)*k/nk - p0
		psA, psB := panelStride(mr, kc), panelStride(nr, kc)
		if mp > 0 {
			packA(buf.a, psA, tB == blas.NoTrans, b, jd, j1, p0, kc)
		}
		packB(buf.b, psB, tA == blas.NoTrans, a, i0, i1, p0, kc)
		bt := beta
		if q > 0 {
			bt = 1
		}
		for jp := range np {
			ir := i0 + jp*nr
			rows := min(nr, i1-ir)
			bp := &buf.b[jp*psB]
			// buf.t[r·nr + s] is AB of C[ir+s, jc+r]: 24 columns of C at
			// once with kern24x8d or kern24x8 (where four micro-panels of
			// op(B)ᵀ remain), else 6.
			for g := range nd {
				jc := j0 + g*4*mr
				_ = b.Data[(jc+4*mr-1)*b.Stride+p0+kc-1]
				kern24x8d(kc, &b.Data[jc*b.Stride+p0], b.Stride, bp, &buf.t[0])
				mergeT(buf, alpha, bt, c, ir, rows, jc, 4*mr)
			}
			for ip := 0; ip < mp; ip++ {
				jc := jd + ip*mr
				cols := min(mr, j1-jc)
				if use512 && ip+4 <= mp {
					kern24x8(kc, &buf.a[ip*psA], psA, bp, &buf.t[0])
					cols = min(4*mr, j1-jc)
					ip += 3
				} else {
					kern6x8(kc, &buf.a[ip*psA], bp, &buf.t[0], nr, 1, 0)
				}
				mergeT(buf, alpha, bt, c, ir, rows, jc, cols)
			}
		}
	}
}

// mergeT merges the transposed micro-tile in buf.t (buf.t[r·nr + s] is
// AB of C[ir+s, jc+r]) into rows [ir, ir+rows) and columns [jc, jc+cols)
// of C with the arithmetic of microTile's edge: fma(alpha, AB, beta·C), or
// alpha·AB when beta is zero.
func mergeT(buf *packBuf, alpha, beta float64, c blas64.General, ir, rows, jc, cols int) {
	for s := range rows {
		row := c.Data[(ir+s)*c.Stride+jc:][:cols]
		if beta == 0 {
			for r := range row {
				row[r] = alpha * buf.t[r*nr+s]
			}
		} else {
			for r := range row {
				row[r] = math.FMA(alpha, buf.t[r*nr+s], beta*row[r])
			}
		}
	}
}

// microTile computes the mr×nr micro-tile of C at row ir and column jr from
// the packed micro-panels ap and bp (kc steps) with kern6x8: directly when
// it lies inside rows [.., i1) and columns [.., j1), else into buf.t, whose
// part inside C is then merged with the kernel's arithmetic, fma(alpha, AB,
// beta·C) (alpha·AB when beta is zero).
func microTile(buf *packBuf, kc int, ap, bp *float64, alpha, beta float64, c blas64.General, ir, i1, jr, j1 int) {
	if ir+mr <= i1 && jr+nr <= j1 {
		kern6x8(kc, ap, bp, &c.Data[ir*c.Stride+jr], c.Stride, alpha, beta)
		return
	}
	kern6x8(kc, ap, bp, &buf.t[0], nr, 1, 0)
	cols := min(nr, j1-jr)
	for r := range min(mr, i1-ir) {
		row := c.Data[(ir+r)*c.Stride+jr:][:cols]
		ab := buf.t[r*nr:][:cols]
		if beta == 0 {
			for j := range row {
				row[j] = alpha * ab[j]
			}
		} else {
			for j := range row {
				row[j] = math.FMA(alpha, ab[j], beta*row[j])
			}
		}
	}
}

// panelStride returns the distance between the starts of two packed
// micro-panels of w values per step and kc steps: w·kc rounded up to whole
// cache lines, plus one line, so that the micro-panels a packing loop
// writes in turn do not all fall into the same cache set.
func panelStride(w, kc int) int {
	return (w*kc+7)&^7 + 8
}

// packA packs rows [i0, i1) and inner indices [p0, p0+kc) of op(A) (Aᵀ
// when trans) into micro-panels of mr rows, ps values apart: value (i, p)
// of micro-panel q goes to dst[q·ps + p·mr + i]; rows past i1 are zeros.
// Full micro-panels are packed in assembly, after the bounds are checked
// here.
func packA(dst []float64, ps int, trans bool, a blas64.General, i0, i1, p0, kc int) {
	lda := a.Stride
	w := i1 - i0
	nq := w / mr // full micro-panels
	if trans {
		// op(A)(i, p) = A[p, i]: rows of A hold mr consecutive values of
		// each micro-panel; read them one after the other.
		if nq > 0 {
			_ = a.Data[(p0+kc-1)*lda+i0+nq*mr-1]
			_ = dst[(nq-1)*ps+mr*kc-1]
			packC6(kc, &a.Data[p0*lda+i0], lda, &dst[0], ps, nq)
		}
		if r := w - nq*mr; r > 0 {
			d := dst[nq*ps:][:mr*kc]
			for p := range kc {
				e := d[p*mr:][:mr]
				copy(e, a.Data[(p0+p)*lda+i0+nq*mr:][:r])
				clear(e[r:])
			}
		}
		return
	}
	for q := range nq {
		ir := i0 + q*mr
		_ = a.Data[(ir+mr-1)*lda+p0+kc-1]
		_ = dst[q*ps+mr*kc-1]
		packT6(kc, &a.Data[ir*lda+p0], lda, &dst[q*ps])
	}
	if r := w - nq*mr; r > 0 {
		d := dst[nq*ps:][:mr*kc]
		clear(d)
		for i := range r {
			for p, x := range a.Data[(i0+nq*mr+i)*lda+p0:][:kc] {
				d[p*mr+i] = x
			}
		}
	}
}

// packB packs inner indices [p0, p0+kc) and columns [j0, j1) of op(B) (Bᵀ
// when trans) into micro-panels of nr columns, ps values apart: value (p,
// j) of micro-panel q goes to dst[q·ps + p·nr + j]; columns past j1 are
// zeros. Full micro-panels are packed in assembly, after the bounds are
// checked here.
func packB(dst []float64, ps int, trans bool, b blas64.General, j0, j1, p0, kc int) {
	ldb := b.Stride
	w := j1 - j0
	nq := w / nr // full micro-panels
	if !trans {
		// op(B)(p, j) = B[p, j]: rows of B hold nr consecutive values of
		// each micro-panel; read them one after the other.
		if nq > 0 {
			_ = b.Data[(p0+kc-1)*ldb+j0+nq*nr-1]
			_ = dst[(nq-1)*ps+nr*kc-1]
			packC8(kc, &b.Data[p0*ldb+j0], ldb, &dst[0], ps, nq)
		}
		if r := w - nq*nr; r > 0 {
			d := dst[nq*ps:][:nr*kc]
			for p := range kc {
				e := d[p*nr:][:nr]
				copy(e, b.Data[(p0+p)*ldb+j0+nq*nr:][:r])
				clear(e[r:])
			}
		}
		return
	}
	for q := range nq {
		jr := j0 + q*nr
		_ = b.Data[(jr+nr-1)*ldb+p0+kc-1]
		_ = dst[q*ps+nr*kc-1]
		packT8(kc, &b.Data[jr*ldb+p0], ldb, &dst[q*ps])
	}
	if r := w - nq*nr; r > 0 {
		d := dst[nq*ps:][:nr*kc]
		clear(d)
		for j := range r {
			for p, x := range b.Data[(j0+nq*nr+j)*ldb+p0:][:kc] {
				d[p*nr+j] = x
			}
		}
	}
}
