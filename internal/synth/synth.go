// Package synth makes small synthetic data sets for tests: images in four
// classes, each class a noisy bright band at its own place, which a small
// network learns in well under a second.
package synth

import (
	"math/rand/v2"

	"github.com/strongdfc/strongdfc/dataset"
	"github.com/strongdfc/strongdfc/train"
)

// Set returns n images of dim pixels in 4 classes drawn from seed.
func Set(n, dim int, seed uint64) *dataset.Set {
	rng := rand.New(rand.NewPCG(seed, 7))
	s := &dataset.Set{Name: "synthetic", Rows: 1, Cols: dim, Dim: dim, Classes: 4,
		Pixels: make([]uint8, n*dim), Labels: make([]uint8, n)}
	for i := range n {
		c := rng.IntN(4)
		s.Labels[i] = uint8(c)
		img := s.Image(i)
		for j := range img {
			v := 40 * rng.Float64()
			if j*4/dim == c {
				v += 180
			}
			img[j] = uint8(v)
		}
	}
	return s
}

// Data returns the splits of configuration c of a synthetic data set of
// 320 training and 128 test images of 16 pixels (the tests' usual one).
func Data(c train.Config) (*train.Data, error) {
	d, err := train.SplitData(c, Set(320, 16, 1), Set(128, 16, 2), dataset.UnitNorm)
	if err != nil {
		return nil, err
	}
	d.Classes = 4
	return d, nil
}
