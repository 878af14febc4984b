package compute

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestCorrelatorMatchesNaiveSum checks the stacked products against
// Σ_k A[k]ᵀ·B[k] computed one step at a time, across flushes, a partial
// stack and a change of batch size.
func TestCorrelatorMatchesNaiveSum(t *testing.T) {
	const na, nb, maxBatch, depth = 5, 4, 6, 3
	r := rand.New(rand.NewPCG(1, 2))
	c := NewCorrelator(nil, na, nb, maxBatch, depth, true)
	want := mat.NewDense(na, nb, nil)
	wantA := make([]float64, na)
	random := func(rows, cols int) *mat.Dense {
		m := mat.NewDense(rows, cols, nil)
		for i := range m.RawMatrix().Data {
			m.RawMatrix().Data[i] = r.NormFloat64()
		}
		return m
	}
	batches := []int{6, 6, 6, 6, 6, 3, 3, 6}
	for k, b := range batches {
		if b != c.Batch() {
			c.SetBatch(b)
		}
		a, bm := random(b, na), random(b, nb)
		c.Push(a, bm)
		var p mat.Dense
		p.Mul(a.T(), bm)
		want.Add(want, &p)
		for i := range b {
			for j := range na {
				wantA[j] += a.At(i, j)
			}
		}
		if c.Terms() != k+1 {
			t.Fatalf("Terms() = %d after %d steps", c.Terms(), k+1)
		}
	}
	if !mat.EqualApprox(c.Sum(), want, 1e-12) {
		t.Fatalf("Sum\n%v\nwant\n%v", mat.Formatted(c.Sum()), mat.Formatted(want))
	}
	for j, s := range c.ASum() {
		if math.Abs(s-wantA[j]) > 1e-12 {
			t.Fatalf("ASum[%d] = %g, want %g", j, s, wantA[j])
		}
	}
	c.Reset()
	if c.Terms() != 0 || mat.Norm(c.Sum(), 2) != 0 {
		t.Fatal("Reset left terms or a sum")
	}
}

// BenchmarkCorrelatorPush measures one step of a hidden-layer plasticity
// sum at MNIST sizes (256 × 256, minibatch 128, 8 steps per product).
func BenchmarkCorrelatorPush(b *testing.B) {
	c := NewCorrelator(nil, 256, 256, 128, 8, true)
	x, y := mat.NewDense(128, 256, nil), mat.NewDense(128, 256, nil)
	for i := range x.RawMatrix().Data {
		x.RawMatrix().Data[i] = float64(i%7) - 3
		y.RawMatrix().Data[i] = float64(i%5) - 2
	}
	b.ReportAllocs()
	for b.Loop() {
		c.Push(x, y)
	}
}
