// Package synth makes small synthetic data sets for tests: images in four
// classes, each class a noisy bright band at its own place, which a small
// network learns in well under a second.
package synth

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

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

// Diff names the first difference between two snapshots' weights,
// optimizer states, phase states (clocks, noise and stream state),
// shuffling generator and results ("" when they are the same bits). The
// optimizers and phases named in skip are not compared. Tests of exact
// resume use it.
func Diff(a, b *train.Snapshot, skip ...string) string {
	eq := func(x, y []float64) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
				return false
			}
		}
		return true
	}
	if len(a.W) != len(b.W) {
		return "layers"
	}
	for i := range a.W {
		if !eq(a.W[i], b.W[i]) || !eq(a.B[i], b.B[i]) || !eq(a.Q[i], b.Q[i]) {
			return fmt.Sprintf("weights of layer %d", i+1)
		}
	}
	if len(a.Optimizers) != len(b.Optimizers) {
		return "optimizers"
	}
	for k, x := range a.Optimizers {
		if slices.Contains(skip, x.Name) {
			continue
		}
		y := b.Optimizers[k]
		if x.Name != y.Name || x.Steps != y.Steps {
			return x.Name + " step count"
		}
		for name, buf := range x.Buffers {
			for i := range buf {
				if !eq(buf[i], y.Buffers[name][i]) {
					return x.Name + " " + name
				}
			}
		}
	}
	if !bytes.Equal(a.Shuffle, b.Shuffle) || len(a.Phases) != len(b.Phases) {
		return "generators"
	}
	for i, p := range a.Phases {
		if slices.Contains(skip, p.Name) {
			continue
		}
		q := b.Phases[i]
		if !bytes.Equal(p.Noise, q.Noise) || p.Clock != q.Clock || p.Started != q.Started {
			return p.Name + " phase's noise or clock"
		}
		for name, v := range p.Vars {
			if !eq(v, q.Vars[name]) {
				return p.Name + " phase's " + name
			}
		}
	}
	if len(a.History) != len(b.History) {
		return "history length"
	}
	for i := range a.History {
		x, y := a.History[i], b.History[i]
		if x.Phase != y.Phase || !eq([]float64{x.TrainLoss, x.TrainAccuracy, x.TestLoss, x.ValLoss}, []float64{y.TrainLoss, y.TrainAccuracy, y.TestLoss, y.ValLoss}) {
			return "results of epoch " + x.Phase
		}
		for k, v := range x.Diagnostics {
			if !eq([]float64{v}, []float64{y.Diagnostics[k]}) {
				return "diagnostic " + k
			}
		}
	}
	return ""
}
