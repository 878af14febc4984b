package neuron

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// refTanh computes tanh(x) to about 30 digits with big.Float (series of
// e^{2x} with exact arithmetic), as the reference for the ulp error.
func refTanh(x float64) float64 {
	if math.Abs(x) > 20 {
		return math.Copysign(1, x)
	}
	const prec = 200
	y := new(big.Float).SetPrec(prec).SetFloat64(2 * math.Abs(x))
	// e^y − 1 = Σ_{n≥1} y^n/n!, summed without the leading 1 so that tiny
	// arguments keep their precision; y ≤ 40 needs a few hundred terms.
	em := new(big.Float).SetPrec(prec).SetInt64(0)
	term := new(big.Float).SetPrec(prec).Set(y)
	for n := 2; n < 400; n++ {
		em.Add(em, term)
		term.Mul(term, y)
		term.Quo(term, new(big.Float).SetPrec(prec).SetInt64(int64(n)))
	}
	den := new(big.Float).SetPrec(prec).Add(em, big.NewFloat(2))
	t, _ := new(big.Float).SetPrec(prec).Quo(em, den).Float64()
	return math.Copysign(t, x)
}

func ulpErr(got, want float64) float64 {
	if got == want {
		return 0
	}
	ulp := math.Nextafter(math.Abs(want), math.Inf(1)) - math.Abs(want)
	return math.Abs(got-want) / ulp
}

// TestFastTanh states and checks the accuracy of the fast tanh: at most
// 3 ulp over the whole range, including tiny and saturating arguments, and
// the same bits from the vector and the scalar versions.
func TestFastTanh(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	xs := []float64{0, math.Copysign(0, -1), 1e-300, -1e-300, 5e-324, 1e-17, 1e-8, 0.01, 0.0108, 0.5, 0.625, 1, 3, 10, 19, 19.1, 19.2, 25, 700, math.Inf(1), math.Inf(-1)}
	for range 3000 {
		xs = append(xs, rng.NormFloat64()*2, rng.Float64()*40-20, math.Exp(rng.Float64()*60-50))
	}
	worst, at := 0.0, 0.0
	for _, x := range xs {
		got, want := tanh(x), refTanh(x)
		if math.IsInf(x, 0) {
			want = math.Copysign(1, x)
		}
		if e := ulpErr(got, want); e > worst {
			worst, at = e, x
		}
		if math.Signbit(got) != math.Signbit(want) {
			t.Errorf("tanh(%g) = %g has the wrong sign", x, got)
		}
	}
	if worst > 3 {
		t.Errorf("fast tanh is %.1f ulp off at x = %.17g", worst, at)
	}
	t.Logf("fast tanh: worst error %.2f ulp at x = %.17g over %d points", worst, at, len(xs))
	if !math.IsNaN(tanh(math.NaN())) {
		t.Error("tanh(NaN) is not NaN")
	}
	// Vector and scalar versions agree to the bit, NaN included.
	xs = append(xs, math.NaN(), -math.NaN())
	xs = xs[:len(xs)&^7]
	paths := map[string]func(dst, src []float64){"tanhVec": tanhVec}
	if useAVX2 {
		paths["AVX2"] = func(dst, src []float64) { tanhAVX2(&dst[0], &src[0], len(src)) }
	}
	if useAVX512 {
		paths["AVX-512"] = func(dst, src []float64) { tanhAVX512(&dst[0], &src[0], len(src)) }
	}
	for name, f := range paths {
		vec := make([]float64, len(xs))
		f(vec, xs)
		for i, x := range xs {
			s := tanh(x)
			if math.Float64bits(s) != math.Float64bits(vec[i]) && !(math.IsNaN(s) && math.IsNaN(vec[i])) {
				t.Fatalf("tanh(%.17g): %s %.17g, scalar %.17g", x, name, vec[i], s)
			}
		}
	}
	t.Logf("vector tanh: AVX2 %v, AVX-512 %v", useAVX2, useAVX512)
}

func BenchmarkTanh(b *testing.B) {
	xs := make([]float64, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range xs {
		xs[i] = rng.NormFloat64()
	}
	b.Run("fast", func(b *testing.B) {
		var s float64
		for i := range b.N {
			s += tanh(xs[i&4095])
		}
		sink = s
	})
	b.Run("vector", func(b *testing.B) {
		out := make([]float64, 256)
		for range b.N / 256 {
			tanhVec(out, xs[:256])
		}
	})
	b.Run("math", func(b *testing.B) {
		var s float64
		for i := range b.N {
			s += math.Tanh(xs[i&4095])
		}
		sink = s
	})
}

var sink float64

// TestNormalDistribution checks the ziggurat draws against the standard
// normal: moments and a chi-square test on 40 equiprobable bins.
func TestNormalDistribution(t *testing.T) {
	g := newStream(12345)
	const n = 2000000
	const bins = 40
	var counts [bins]int
	var s1, s2, s3, s4 float64
	for range n {
		x := g.normal()
		s1 += x
		s2 += x * x
		s3 += x * x * x
		s4 += x * x * x * x
		// Bin by the normal CDF.
		p := 0.5 * math.Erfc(-x/math.Sqrt2)
		counts[min(int(p*bins), bins-1)]++
	}
	mean, vari, skew, kurt := s1/n, s2/n, s3/n, s4/n
	if math.Abs(mean) > 0.005 || math.Abs(vari-1) > 0.005 || math.Abs(skew) > 0.01 || math.Abs(kurt-3) > 0.03 {
		t.Errorf("moments: mean %g, variance %g, third %g, fourth %g", mean, vari, skew, kurt)
	}
	var chi2 float64
	e := float64(n) / bins
	for _, c := range counts {
		chi2 += (float64(c) - e) * (float64(c) - e) / e
	}
	// 39 degrees of freedom: the 99.9% quantile is 72.1.
	if chi2 > 72.1 {
		t.Errorf("chi-square %.1f over %d bins: not standard normal", chi2, bins)
	}
	// Tail draws occur at the right rate: P(|x| > 3.4426) = 5.76e-4.
	tail := 0
	for range n {
		if math.Abs(g.normal()) > zigR {
			tail++
		}
	}
	if r := float64(tail) / n; math.Abs(r-5.76e-4) > 1e-4 {
		t.Errorf("tail rate %g, want 5.76e-4", r)
	}
}

func BenchmarkNormal(b *testing.B) {
	g := newStream(1)
	buf := make([]float64, 256)
	b.Run("ziggurat", func(b *testing.B) {
		for range b.N / 256 {
			g.fill(buf)
		}
	})
	r := rand.New(rand.NewPCG(1, 2))
	b.Run("math/rand/v2", func(b *testing.B) {
		for range b.N / 256 {
			for i := range buf {
				buf[i] = r.NormFloat64()
			}
		}
	})
}
