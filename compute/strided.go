package compute

import (
	"fmt"
	"sync"

	"gonum.org/v1/gonum/mat"
)

// Strided is a destination (or source) of one value per sample and unit:
// the value of sample i, unit j is Data[i*RowStride + j*ColStride]. With
// RowStride = n and ColStride = 1 it is a batch-major matrix (as the
// plasticity products stack their time steps with the package's kernel and
// OpenBLAS); with RowStride = 1 it is a neuron-major (transposed) one (their
// stacks with gonum).
type Strided struct {
	Data                 []float64
	RowStride, ColStride int
	// Add makes writes add to the destination instead of overwriting it.
	Add bool
}

// StridedOf returns the batch-major Strided of m.
func StridedOf(m *mat.Dense, add bool) Strided {
	raw := m.RawMatrix()
	return Strided{Data: raw.Data, RowStride: raw.Stride, ColStride: 1, Add: add}
}

// Fits reports whether d can hold b samples of n units.
func (d Strided) Fits(b, n int) bool {
	if b <= 0 || n <= 0 {
		return true
	}
	last := (b-1)*d.RowStride + (n-1)*d.ColStride
	return d.RowStride >= 0 && d.ColStride >= 0 && last < len(d.Data)
}

// Check panics unless d can hold b samples of n units; who names the
// destination in the message.
func (d Strided) Check(who string, b, n int) {
	if !d.Fits(b, n) {
		panic(fmt.Sprintf("compute: %s: destination of %d values cannot hold %d×%d with strides %d, %d",
			who, len(d.Data), b, n, d.RowStride, d.ColStride))
	}
}

// PutRow writes (or adds) the values v of sample i.
func (d Strided) PutRow(i int, v []float64) {
	dst, cs := d.Data[i*d.RowStride:], d.ColStride
	if d.Add {
		for j, x := range v {
			dst[j*cs] += x
		}
		return
	}
	if cs == 1 {
		copy(dst, v)
		return
	}
	for j, x := range v {
		dst[j*cs] = x
	}
}

// RowBlock is the number of rows PutRows writes together into a
// neuron-major destination, so that each cache line it touches receives
// RowBlock consecutive values (a whole line of 64 bytes) instead of one.
const RowBlock = 8

// PutRows writes rows i0..i1-1 of src (n values each, rows stride apart,
// row i at src[i*stride:]) to d, RowBlock rows per cache line when d is
// neuron-major and the block is full.
func (d Strided) PutRows(i0, i1 int, src []float64, stride, n int) {
	if d.RowStride != 1 || d.Add || i1-i0 != RowBlock {
		for i := i0; i < i1; i++ {
			d.PutRow(i, src[i*stride:][:n])
		}
		return
	}
	if n <= 0 {
		return
	}
	r0, r1 := src[i0*stride:][:n], src[(i0+1)*stride:][:n]
	r2, r3 := src[(i0+2)*stride:][:n], src[(i0+3)*stride:][:n]
	r4, r5 := src[(i0+4)*stride:][:n], src[(i0+5)*stride:][:n]
	r6, r7 := src[(i0+6)*stride:][:n], src[(i0+7)*stride:][:n]
	cs := d.ColStride
	data := d.Data[i0:]
	_ = data[(n-1)*cs+RowBlock-1]
	for j := range n {
		c := data[j*cs:][:RowBlock]
		c[0], c[1], c[2], c[3] = r0[j], r1[j], r2[j], r3[j]
		c[4], c[5], c[6], c[7] = r4[j], r5[j], r6[j], r7[j]
	}
}

// Scale sets dst[i] = alpha·src[i] on the pool's workers (dst and src of
// the same length; they may be the same slice).
func (p *Pool) Scale(dst []float64, alpha float64, src []float64) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("compute: Scale: dst has %d values, src %d", len(dst), len(src)))
	}
	b := scaleBodies.Get().(*scaleBody)
	b.dst, b.src, b.alpha = dst, src, alpha
	p.Run(len(dst), 4096, b)
	b.dst, b.src = nil, nil
	scaleBodies.Put(b)
}

var scaleBodies = sync.Pool{New: func() any { return new(scaleBody) }}

type scaleBody struct {
	dst, src []float64
	alpha    float64
}

func (b *scaleBody) Range(lo, hi int) {
	d, s := b.dst[lo:hi], b.src[lo:hi]
	for i, x := range s {
		d[i] = b.alpha * x
	}
}
