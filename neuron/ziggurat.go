package neuron

import (
	"fmt"
	"math"
	"math/bits"
)

// stream is one noise stream: the xoshiro256++ generator (Blackman and
// Vigna, 2019) and Marsaglia and Tsang's ziggurat method (2000) with 128
// layers, using 56 random bits per draw. It is a value type with no
// pointers, so streams sit in one slice and a draw inlines into its loop.
type stream struct{ s [4]uint64 }

// newStream seeds a stream by SplitMix64 from seed.
func newStream(seed uint64) stream {
	var g stream
	for i := range g.s {
		seed += 0x9e3779b97f4a7c15
		g.s[i] = splitmix(seed)
	}
	return g
}

func (g *stream) next() uint64 {
	s := &g.s
	r := rotl(s[0]+s[3], 23) + s[0]
	t := s[1] << 17
	s[2] ^= s[0]
	s[3] ^= s[1]
	s[1] ^= s[2]
	s[0] ^= s[3]
	s[2] ^= t
	s[3] = rotl(s[3], 45)
	return r
}

func rotl(x uint64, k uint) uint64 { return x<<k | x>>(64-k) }

// uniform returns a uniform number in (0, 1).
func (g *stream) uniform() float64 {
	return (float64(g.next()>>11) + 0.5) * (1.0 / (1 << 53))
}

// Ziggurat tables for the standard normal density: zigK are acceptance
// thresholds on |j|, zigW the scale from j to x, zigF the density at the
// layer edges.
var (
	zigK [128]int64
	zigW [128]float64
	zigF [128]float64
)

const (
	zigR    = 3.442619855899 // start of the tail
	zigV    = 9.91256303526217e-3
	zigBits = 1 << 55 // |j| < 2^55
)

func init() {
	dn, tn := zigR, zigR
	q := zigV / math.Exp(-0.5*dn*dn)
	zigK[0] = int64(dn / q * zigBits)
	zigK[1] = 0
	zigW[0] = q / zigBits
	zigW[127] = dn / zigBits
	zigF[0] = 1
	zigF[127] = math.Exp(-0.5 * dn * dn)
	for i := 126; i >= 1; i-- {
		dn = math.Sqrt(-2 * math.Log(zigV/dn+math.Exp(-0.5*dn*dn)))
		zigK[i+1] = int64(dn / tn * zigBits)
		tn = dn
		zigF[i] = math.Exp(-0.5 * dn * dn)
		zigW[i] = dn / zigBits
	}
	initLines()
}

// zigLines bounds the density exp(−x²/2) over the wedge of each layer i ≥
// 1, the |x| from zigK[i]·zigW[i] to 2^55·zigW[i], by two lines y = a + b|x|:
// its chord and its tangent at the middle, one below the density and the
// other above (which is which depends on whether it is concave, |x| < 1,
// or convex there). ok is false for the layer where |x| = 1 lies inside
// the wedge, where neither line bounds it.
var zigLines [128]struct {
	ok                 bool
	loA, loB, hiA, hiB float64
}

// zigMargin is how far outside the lines y must lie for below to decide
// without math.Exp: far more than the rounding of the lines, of −x²/2 and
// of math.Exp (all within a few 1e−16 of values at most 1).
const zigMargin = 1e-12

// initLines computes zigLines from the ziggurat's tables.
func initLines() {
	f := func(x float64) float64 { return math.Exp(-0.5 * x * x) }
	for i := 1; i < 128; i++ {
		xa, xb := float64(zigK[i])*zigW[i], zigBits*zigW[i]
		if xa < 1 && xb > 1 || !(xb > xa) {
			continue
		}
		cb := (f(xb) - f(xa)) / (xb - xa)
		ca := f(xa) - cb*xa
		m := 0.5 * (xa + xb)
		tb := -m * f(m)
		ta := f(m) - tb*m
		l := &zigLines[i]
		l.ok = true
		if xb <= 1 { // concave: the chord is below, the tangent above
			l.loA, l.loB, l.hiA, l.hiB = ca, cb, ta, tb
		} else { // convex: the tangent is below, the chord above
			l.loA, l.loB, l.hiA, l.hiB = ta, tb, ca, cb
		}
	}
}

// below reports whether y < math.Exp(−x²/2) for an x in the wedge of layer
// i ≥ 1: the comparison of the ziggurat's wedge test, exactly, but mostly
// decided by the lines of zigLines, so that math.Exp runs only for the y
// that lie between them (TestBelow).
func below(i uint64, x, y float64) bool {
	if is, ok := belowLines(i, x, y); ok {
		return is
	}
	return y < math.Exp(-0.5*x*x)
}

// belowLines is below decided by the lines alone: ok is false where y lies
// between them (or the layer has none).
func belowLines(i uint64, x, y float64) (is, ok bool) {
	l := &zigLines[i]
	if !l.ok {
		return false, false
	}
	ax := math.Abs(x)
	if y < l.loA+l.loB*ax-zigMargin {
		return true, true
	}
	if y >= l.hiA+l.hiB*ax+zigMargin {
		return false, true
	}
	return false, false
}

// normal returns a standard normal draw.
func (g *stream) normal() float64 {
	u := g.next()
	i := u & 127
	j := int64(u) >> 8
	if abs64(j) < zigK[i] {
		return float64(j) * zigW[i]
	}
	return g.normalSlow(j, i)
}

func abs64(j int64) int64 {
	m := j >> 63
	return (j ^ m) - m
}

// normalSlow handles the wedges, the base strip and the tail (2.76 % of
// draws; 2.70 % land in a wedge).
func (g *stream) normalSlow(j int64, i uint64) float64 {
	for {
		x := float64(j) * zigW[i]
		if i == 0 {
			// Tail beyond zigR (Marsaglia's method).
			for {
				xt := -math.Log(g.uniform()) / zigR
				y := -math.Log(g.uniform())
				if y+y >= xt*xt {
					if j > 0 {
						return zigR + xt
					}
					return -zigR - xt
				}
			}
		}
		if below(i, x, zigF[i]+g.uniform()*(zigF[i-1]-zigF[i])) {
			return x
		}
		u := g.next()
		i = u & 127
		j = int64(u) >> 8
		if abs64(j) < zigK[i] {
			return float64(j) * zigW[i]
		}
	}
}

// fill sets dst to standard normal draws.
func (g *stream) fill(dst []float64) {
	for k := range dst {
		u := g.next()
		i := u & 127
		j := int64(u) >> 8
		if abs64(j) < zigK[i] {
			dst[k] = float64(j) * zigW[i]
		} else {
			dst[k] = g.normalSlow(j, i)
		}
	}
}

// fillRows sets dst[r·stride + k], for r < len(gs) and k < n, to the next n
// draws of stream gs[r]: what gs[r].fill(dst[r·stride:][:n]) does, bit for
// bit, for every r. Where the CPU has AVX-512 it draws eight streams at
// once, one per lane; the lanes that leave the ziggurat's fast path finish
// their draw with normalSlow, as fill does.
// It panics unless the rows fit in dst without overlapping (n ≤ stride).
func fillRows(gs []stream, dst []float64, stride, n int) {
	if n <= 0 || len(gs) == 0 {
		return
	}
	if stride < n || stride > len(dst) || (len(gs)-1)*stride+n > len(dst) {
		panic(fmt.Sprintf("neuron: %d rows of %d draws %d apart do not fit in %d values", len(gs), n, stride, len(dst)))
	}
	r := 0
	if useAVX512 {
		for ; r+8 <= len(gs); r += 8 {
			fill8(gs[r:r+8], dst[r*stride:], stride, n)
		}
	}
	for ; r < len(gs); r++ {
		gs[r].fill(dst[r*stride:][:n])
	}
}

// fill8 is fillRows for eight streams with zig8.
func fill8(gs []stream, dst []float64, stride, n int) {
	_ = dst[7*stride+n-1]
	var st [4][8]uint64
	for l, g := range gs[:8] {
		for w := range 4 {
			st[w][l] = g.s[w]
		}
	}
	var fail [16]int64
	for k := 0; k < n; {
		done, mask := zig8(&st, &dst[k], stride, n-k, &fail)
		k += done
		for ; mask != 0; mask &= mask - 1 {
			l := bits.TrailingZeros64(mask)
			g := stream{s: [4]uint64{st[0][l], st[1][l], st[2][l], st[3][l]}}
			dst[l*stride+k-1] = g.normalSlow(fail[l], uint64(fail[8+l]))
			for w := range 4 {
				st[w][l] = g.s[w]
			}
		}
	}
	for l := range gs[:8] {
		for w := range 4 {
			gs[l].s[w] = st[w][l]
		}
	}
}
