package synth

import (
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/strongdfc/strongdfc/dataset"
)

// IDX encodes an unsigned-byte IDX file of the given dimensions.
func IDX(dims []int, data []byte) []byte {
	b := []byte{0, 0, 8, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, data...)
}

// WriteIDX writes a small MNIST-like data set into dir under the standard
// IDX file names: ntrain training and ntest test images of 8×8 pixels in
// 10 classes, each class a bright row and column at its own place (always
// the same bytes). The commands' tests read it as MNIST with --data dir.
func WriteIDX(dir string, ntrain, ntest int) error {
	rng := rand.New(rand.NewPCG(1, 2))
	set := func(n int) (img, lbl []byte) {
		for range n {
			c := rng.IntN(10)
			lbl = append(lbl, byte(c))
			for r := range 8 {
				for k := range 8 {
					v := 40 * rng.Float64()
					if r == c%8 || k == c/2 {
						v += 180
					}
					img = append(img, byte(v))
				}
			}
		}
		return img, lbl
	}
	ti, tl := set(ntrain)
	ei, el := set(ntest)
	for name, b := range map[string][]byte{
		dataset.Files.TrainImages: IDX([]int{ntrain, 8, 8}, ti), dataset.Files.TrainLabels: IDX([]int{ntrain}, tl),
		dataset.Files.TestImages: IDX([]int{ntest, 8, 8}, ei), dataset.Files.TestLabels: IDX([]int{ntest}, el),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// WriteCIFAR10 writes small files in CIFAR-10's binary format into dir:
// perTrain images in each of the five training files and test in the
// test file, 3×32×32 bytes each after its label, each class a bright band
// of rows at its own place (always the same bytes).
func WriteCIFAR10(dir string, perTrain, test int) error {
	rng := rand.New(rand.NewPCG(5, 6))
	write := func(name string, n int) error {
		var b []byte
		for range n {
			c := rng.IntN(10)
			b = append(b, byte(c))
			for p := range 3 * 32 * 32 {
				v := byte(40 * rng.Float64())
				if (p/32)%10 == c {
					v += 180
				}
				b = append(b, v)
			}
		}
		return os.WriteFile(filepath.Join(dir, name), b, 0o644)
	}
	for _, f := range dataset.CIFAR10Files.Train {
		if err := write(f, perTrain); err != nil {
			return err
		}
	}
	return write(dataset.CIFAR10Files.Test, test)
}
