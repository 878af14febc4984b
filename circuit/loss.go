package circuit

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Loss is a supervised loss, averaged over the batch.
type Loss interface {
	// Name returns the loss's name.
	Name() string
	// Value returns the batch-mean loss of the outputs against the targets.
	Value(out, target *mat.Dense) float64
	// Grad sets dst to ∂Loss/∂out (so it includes the 1/B of the mean).
	Grad(dst, out, target *mat.Dense)
}

// CrossEntropy is the softmax cross-entropy against soft (or one-hot)
// targets: −Σ_c t_c·log softmax(y)_c, averaged over the batch.
type CrossEntropy struct{}

// Name returns "cross-entropy".
func (CrossEntropy) Name() string { return "cross-entropy" }

// Value returns the batch-mean cross-entropy.
func (CrossEntropy) Value(out, target *mat.Dense) float64 {
	b, n := sameDims("CrossEntropy", out, target)
	var sum float64
	for i := range b {
		y, t := out.RawRowView(i), target.RawRowView(i)
		m := y[0]
		for _, v := range y[1:] {
			m = math.Max(m, v)
		}
		var z float64
		for _, v := range y {
			z += math.Exp(v - m)
		}
		lse := m + math.Log(z)
		for c := range n {
			sum -= t[c] * (y[c] - lse)
		}
	}
	return sum / float64(b)
}

// Grad sets dst = (softmax(out) − target)/B. The targets of each row are
// assumed to sum to one.
func (CrossEntropy) Grad(dst, out, target *mat.Dense) {
	b, _ := sameDims("CrossEntropy", out, target)
	Softmax(dst, out)
	dst.Sub(dst, target)
	dst.Scale(1/float64(b), dst)
}

// MSE is the squared error averaged over all entries (torch's MSELoss with
// mean reduction): Σ (y − t)²/(B·n).
type MSE struct{}

// Name returns "mse".
func (MSE) Name() string { return "mse" }

// Value returns the mean squared error.
func (MSE) Value(out, target *mat.Dense) float64 {
	b, n := sameDims("MSE", out, target)
	var sum float64
	for i := range b {
		y, t := out.RawRowView(i), target.RawRowView(i)
		for c := range n {
			d := y[c] - t[c]
			sum += d * d
		}
	}
	return sum / float64(b*n)
}

// Grad sets dst = 2(out − target)/(B·n).
func (MSE) Grad(dst, out, target *mat.Dense) {
	b, n := sameDims("MSE", out, target)
	dst.Sub(out, target)
	dst.Scale(2/float64(b*n), dst)
}

func sameDims(who string, a, b *mat.Dense) (int, int) {
	ra, ca := a.Dims()
	rb, cb := b.Dims()
	if ra != rb || ca != cb {
		panic(fmt.Sprintf("circuit: %s: outputs are %d×%d, targets %d×%d", who, ra, ca, rb, cb))
	}
	return ra, ca
}

// Softmax sets every row of dst to the softmax of the same row of src (dst
// may be src).
func Softmax(dst, src *mat.Dense) {
	r, c := src.Dims()
	if dr, dc := dst.Dims(); dr != r || dc != c {
		panic(fmt.Sprintf("circuit: Softmax: dst is %d×%d, src %d×%d", dr, dc, r, c))
	}
	for i := range r {
		SoftmaxRow(dst.RawRowView(i), src.RawRowView(i))
	}
}

// SoftmaxRow sets dst to the softmax of src (of equal length; dst may be
// src), computed stably by subtracting the largest value first.
func SoftmaxRow(dst, src []float64) {
	m := src[0]
	for _, v := range src[1:] {
		m = math.Max(m, v)
	}
	var z float64
	for j, v := range src {
		e := math.Exp(v - m)
		dst[j] = e
		z += e
	}
	for j := range dst {
		dst[j] /= z
	}
}

// Accuracy returns the fraction of rows whose largest output is at the
// index of the largest target.
func Accuracy(out, target *mat.Dense) float64 {
	b, _ := sameDims("Accuracy", out, target)
	return float64(Correct(out, target)) / float64(b)
}

// Correct returns how many rows have their largest output at the index of
// the largest target.
func Correct(out, target *mat.Dense) int {
	b, _ := sameDims("Correct", out, target)
	n := 0
	for i := range b {
		if argmax(out.RawRowView(i)) == argmax(target.RawRowView(i)) {
			n++
		}
	}
	return n
}

func argmax(x []float64) int {
	k := 0
	for j, v := range x {
		if v > x[k] {
			k = j
		}
	}
	return k
}

// SoftTargets returns the batch × classes matrix of soft one-hot targets:
// p at each label, (1−p)/(classes−1) elsewhere.
func SoftTargets(labels []int, classes int, p float64) *mat.Dense {
	t := mat.NewDense(len(labels), classes, nil)
	SetSoftTargets(t, labels, p)
	return t
}

// SetSoftTargets fills dst (len(labels) × classes) with soft one-hot targets.
func SetSoftTargets(dst *mat.Dense, labels []int, p float64) {
	r, classes := dst.Dims()
	if r != len(labels) {
		panic(fmt.Sprintf("circuit: SetSoftTargets: %d rows for %d labels", r, len(labels)))
	}
	off := (1 - p) / float64(classes-1)
	for i, l := range labels {
		if l < 0 || l >= classes {
			panic(fmt.Sprintf("circuit: label %d out of range 0..%d", l, classes-1))
		}
		row := dst.RawRowView(i)
		for j := range row {
			row[j] = off
		}
		row[l] = p
	}
}
