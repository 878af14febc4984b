package neuron

import "math"

// The hyperbolic tangent of the hot loop: vector versions in assembly
// (tanh_amd64.s, AVX-512 and AVX2 with FMA) and a scalar version in Go that
// computes the same bits, so results do not depend on which one runs.
//
// Method: tanh(x) = sign(x)·m/(m + 2) with m = e^{2|x|} − 1 and |x| clamped
// to 20 (tanh rounds to ±1 well before). With y = 2|x|, k = round(y/ln 2)
// and r = y − k·ln 2 (|r| ≤ ln 2/2, ln 2 split in two parts so that k·ln2hi
// is exact), q = e^r − 1 is the Taylor polynomial of degree 13 in Horner
// form with fused multiply-adds (truncation error below 2e-17 relative), and
// m = 2^k·q + (2^k − 1), which suffers no cancellation for small |x|. The
// relative error is at most 3 ulp (tanh_test.go checks it against a
// 200-bit reference); math.Tanh is about as accurate and 3–10 times slower.

const (
	tanhClamp = 20.0
	invLn2    = 1.4426950408889634
	ln2Hi     = 6.93147180369123816490e-01 // 0x3fe62e42fee00000
	ln2Lo     = 1.90821492927058770002e-10
	expMagic  = 4503599627371519.0 // 2^52 + 1023: adding it puts k + 1023 in the low bits
)

// tanh returns tanh(x) with the method above.
func tanh(x float64) float64 {
	a := min(tanhClamp, math.Abs(x))
	y := a + a
	k := math.RoundToEven(y * invLn2)
	r := math.FMA(-k, ln2Hi, y)
	r = math.FMA(-k, ln2Lo, r)
	p := 1.0 / 6227020800 // 1/13!
	p = math.FMA(p, r, 1.0/479001600)
	p = math.FMA(p, r, 1.0/39916800)
	p = math.FMA(p, r, 1.0/3628800)
	p = math.FMA(p, r, 1.0/362880)
	p = math.FMA(p, r, 1.0/40320)
	p = math.FMA(p, r, 1.0/5040)
	p = math.FMA(p, r, 1.0/720)
	p = math.FMA(p, r, 1.0/120)
	p = math.FMA(p, r, 1.0/24)
	p = math.FMA(p, r, 1.0/6)
	p = math.FMA(p, r, 1.0/2)
	p = math.FMA(p, r, 1)
	q := p * r
	e := math.Float64frombits(math.Float64bits(k+expMagic) << 52)
	m := math.FMA(e, q, e-1)
	return math.Copysign(m/(m+2), x)
}

// tanhVec sets dst[i] = tanh(src[i]); dst and src have the same length and
// may be the same slice.
func tanhVec(dst, src []float64) {
	n := len(src)
	dst = dst[:n]
	v := 0
	switch {
	case useAVX512 && n >= 8:
		v = n &^ 7
		tanhAVX512(&dst[0], &src[0], v)
	case useAVX2 && n >= 4:
		v = n &^ 3
		tanhAVX2(&dst[0], &src[0], v)
	}
	for i := v; i < n; i++ {
		dst[i] = tanh(src[i])
	}
}
