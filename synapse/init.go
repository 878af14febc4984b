package synapse

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// XavierNormal fills m (fanOut × fanIn, as a weight matrix) with draws from
// N(0, 2/(fanIn + fanOut)), torch.nn.init.xavier_normal_ with gain 1. Draws
// are taken row by row from rng.
func XavierNormal(m *mat.Dense, rng *rand.Rand) {
	r, c := m.Dims()
	std := math.Sqrt(2 / float64(r+c))
	for i := range r {
		for j := range c {
			m.Set(i, j, std*rng.NormFloat64())
		}
	}
}

// Identity sets the square matrix m to the identity.
func Identity(m *mat.Dense) {
	r, c := m.Dims()
	if r != c {
		panic(fmt.Sprintf("synapse: Identity of a %d×%d matrix", r, c))
	}
	m.Zero()
	for i := range r {
		m.Set(i, i, 1)
	}
}
