package neuron

import "math"

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

// normalSlow handles the wedges and the tail (about 1.2% of draws).
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
		if zigF[i]+g.uniform()*(zigF[i-1]-zigF[i]) < math.Exp(-0.5*x*x) {
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
