package neuron

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFillRows checks that drawing several rows' streams at once (eight
// side by side where the CPU has AVX-512) gives every row the draws its own
// stream gives one at a time, bit for bit, and leaves each stream where
// drawing alone would: for numbers of rows around the eight lanes and row
// lengths from 1 to long enough that thousands of draws take the ziggurat's
// slow path (2.76 % of draws: wedges, base strip and tail), some of them in
// the tail beyond zigR.
func TestFillRows(t *testing.T) {
	for _, rows := range []int{1, 7, 8, 9, 16, 21} {
		for _, n := range []int{1, 3, 64, 785, 5000} {
			stride := n + 3
			gs := make([]stream, rows)
			want := make([]stream, rows)
			for r := range rows {
				gs[r] = newStream(uint64(1000*rows + r))
				want[r] = gs[r]
			}
			got := make([]float64, rows*stride)
			for i := range got {
				got[i] = math.NaN()
			}
			fillRows(gs, got, stride, n)
			row := make([]float64, n)
			tail := 0
			for r := range rows {
				want[r].fill(row)
				for k, x := range row {
					if math.Abs(x) > zigR {
						tail++
					}
					if y := got[r*stride+k]; math.Float64bits(x) != math.Float64bits(y) {
						t.Fatalf("%d rows of %d: row %d, draw %d: %v, drawn alone %v", rows, n, r, k, y, x)
					}
				}
				for k := n; k < stride && r*stride+k < len(got); k++ {
					if !math.IsNaN(got[r*stride+k]) {
						t.Fatalf("%d rows of %d: wrote %v past row %d", rows, n, got[r*stride+k], r)
					}
				}
				if gs[r] != want[r] {
					t.Fatalf("%d rows of %d: stream %d is not where drawing alone leaves it", rows, n, r)
				}
			}
			if rows*n >= 8*5000 && tail == 0 {
				t.Fatalf("%d rows of %d: no draw in the tail", rows, n)
			}
		}
	}
}

// BenchmarkFillRows measures the draws of a layer of 256 neurons for eight
// rows, drawn side by side (rows) and one row at a time (row).
func BenchmarkFillRows(b *testing.B) {
	const rows, n = 8, 256
	gs := make([]stream, rows)
	for r := range gs {
		gs[r] = newStream(uint64(r))
	}
	dst := make([]float64, rows*n)
	b.Run("rows", func(b *testing.B) {
		for b.Loop() {
			fillRows(gs, dst, n, n)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows*n), "ns/draw")
	})
	b.Run("row", func(b *testing.B) {
		for b.Loop() {
			for r := range gs {
				gs[r].fill(dst[r*n:][:n])
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows*n), "ns/draw")
	})
}

// TestBelow checks the wedge test's shortcut: the two lines of each layer
// bound the density over its wedge; below decides y < exp(−x²/2) exactly as
// the comparison with math.Exp does, for random points of every layer's
// wedge and for y at and next to the density itself; and the lines decide
// most of them without math.Exp.
func TestBelow(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	f := func(x float64) float64 { return math.Exp(-0.5 * x * x) }
	var lined, total, layers int
	for i := uint64(1); i < 128; i++ {
		xa, xb := float64(zigK[i])*zigW[i], zigBits*zigW[i]
		if !(xb > xa) {
			t.Fatalf("layer %d: wedge from %v to %v", i, xa, xb)
		}
		l := zigLines[i]
		if l.ok {
			layers++
			for k := range 1001 {
				x := xa + (xb-xa)*float64(k)/1000
				if lo, hi := l.loA+l.loB*x, l.hiA+l.hiB*x; lo > f(x)+1e-15 || hi < f(x)-1e-15 {
					t.Fatalf("layer %d, x %v: lines %v and %v do not bound %v", i, x, lo, hi, f(x))
				}
			}
		}
		for range 4000 {
			x := xa + (xb-xa)*r.Float64()
			if r.IntN(2) == 0 {
				x = -x
			}
			e := f(x)
			ys := []float64{
				zigF[i] + r.Float64()*(zigF[i-1]-zigF[i]),
				e, math.Nextafter(e, 0), math.Nextafter(e, 2),
				e * (1 + 1e-13*(r.Float64()-0.5)),
			}
			for _, y := range ys {
				if got, want := below(i, x, y), y < e; got != want {
					t.Fatalf("layer %d: below(%v, %v) = %v, y < exp(−x²/2) = %v is %v", i, x, y, got, e, want)
				}
			}
			total++
			if _, ok := belowLines(i, x, ys[0]); ok {
				lined++
			}
		}
	}
	if layers < 120 {
		t.Fatalf("only %d of 127 layers have lines", layers)
	}
	if frac := float64(lined) / float64(total); frac < 0.8 {
		t.Fatalf("the lines decide only %.1f%% of the wedge tests", 100*frac)
	}
	t.Logf("%d layers with lines; they decide %.2f%% of uniform wedge draws", layers, 100*float64(lined)/float64(total))
}

// TestFillRowsBounds checks that rows that would not fit in dst, or would
// overlap, are refused before anything is drawn or written (the AVX-512
// path writes with no checks of its own).
func TestFillRowsBounds(t *testing.T) {
	big := make([]float64, 1000)
	cases := []struct {
		name      string
		dst       []float64
		stride, n int
	}{
		{"negative stride", big[100:200], -1, 100},
		{"rows overlap", big[:800], 50, 100},
		{"stride overflows", big, 0x6DB6DB6DB6DB6DB7, 10},
		{"too short", big[:8*100-1], 100, 100},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gs := make([]stream, 8)
			for r := range gs {
				gs[r] = newStream(uint64(r))
			}
			before := append([]stream(nil), gs...)
			clear(big)
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
				for i, x := range big {
					if x != 0 {
						t.Fatalf("wrote %v at %d", x, i)
					}
				}
				for r := range gs {
					if gs[r] != before[r] {
						t.Fatalf("stream %d moved", r)
					}
				}
			}()
			fillRows(gs, c.dst, c.stride, c.n)
		})
	}
}
