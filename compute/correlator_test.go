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

// TestCorrelatorLayouts checks that the kernel gives the same bits for
// steps stacked batch-major and neuron-major: every sum, and the sum of A,
// after each of a run of steps written through the slots (as the somata
// write them) or pushed, with B written a step ahead of A across partial
// flushes (the carried half step), flushes at full depth, and changes of
// batch size; on shapes whose inner dimension is cut into several blocks
// (up to 640 = 10 steps of 64 samples, as the MNIST runs stack them) and
// whose 8 rows take the transposed tiles.
func TestCorrelatorLayouts(t *testing.T) {
	if !haveKernel {
		t.Skip("this CPU has no AVX2/FMA: the package's kernel, which both layouts share, does not run")
	}
	saved := useKernel
	useKernel = true
	defer func() { useKernel = saved }()
	for _, c := range layoutCases {
		checkLayouts(t, c)
	}
}

// layoutCase is a correlator's shape and the batch sizes of its steps.
type layoutCase struct {
	na, nb, maxBatch, depth int
	batches                 []int
}

var layoutCases = []layoutCase{
	{13, 30, 16, 3, []int{16, 16, 16, 16, 16, 16, 16, 16, 8, 8, 8, 8, 5, 16, 16, 16}},
	{8, 40, 64, 9, []int{64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 33, 33, 64, 64}},
	{10, 256, 64, 10, []int{64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64}},
	{25, 7, 24, 5, []int{24, 24, 24, 24, 17, 24, 24, 24}},
}

// checkLayouts runs c's steps through a neuron-major and a batch-major
// correlator and compares their sums bit for bit every fourth step.
func checkLayouts(t *testing.T, c layoutCase) {
	t.Helper()
	na, nb := c.na, c.nb
	r := rand.New(rand.NewPCG(uint64(na), uint64(nb)))
	cs := [2]*Correlator{
		newCorrelator(nil, na, nb, c.maxBatch, c.depth, true, false),
		newCorrelator(nil, na, nb, c.maxBatch, c.depth, true, true),
	}
	if !cs[1].rowMajor || cs[0].rowMajor {
		t.Fatal("layouts not as asked")
	}
	for k, b := range c.batches {
		a, bm := make([]float64, b*na), make([]float64, b*nb)
		for i := range a {
			a[i] = r.NormFloat64()
		}
		for i := range bm {
			bm[i] = r.NormFloat64()
		}
		for _, c := range cs {
			if b != c.Batch() {
				c.SetBatch(b)
			}
			switch k % 3 {
			case 0: // pushed
				c.Push(mat.NewDense(b, na, a), mat.NewDense(b, nb, bm))
			default: // through the slots, B first, a partial flush between
				c.SlotB().PutRows(0, b, bm, nb, nb)
				if k%3 == 2 {
					c.Sum()
				}
				if b == RowBlock {
					c.SlotA().PutRows(0, b, a, na, na)
				} else {
					for i := range b {
						c.SlotA().PutRow(i, a[i*na:(i+1)*na])
					}
				}
				c.Commit()
			}
		}
		if k%4 != 3 {
			continue // let the stacks fill up to depth between comparisons
		}
		for i, x := range cs[0].Sum().RawMatrix().Data {
			if y := cs[1].Sum().RawMatrix().Data[i]; math.Float64bits(x) != math.Float64bits(y) {
				t.Fatalf("%d×%d, step %d: sum[%d] = %v neuron-major, %v batch-major", na, nb, k, i, x, y)
			}
		}
		for j, x := range cs[0].ASum() {
			if y := cs[1].ASum()[j]; math.Float64bits(x) != math.Float64bits(y) {
				t.Fatalf("%d×%d, step %d: sum of A[%d] = %v neuron-major, %v batch-major", na, nb, k, j, x, y)
			}
		}
	}
	if mat.Norm(cs[0].Sum(), 2) == 0 {
		t.Fatal("no sum to compare")
	}
}
