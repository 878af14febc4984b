package dataset

import (
	"fmt"
	"os"
	"path/filepath"
)

// CIFAR-10 in its standard binary format (cifar-10-batches-bin): each file
// holds records of one label byte followed by 3072 pixel bytes, the red,
// green and blue planes of a 32×32 image in turn. The data set cannot be
// downloaded on the machines this project runs on; the reader is tested on
// files its tests write.

// CIFAR10Files are the standard file names: five training batches and the
// test batch.
var CIFAR10Files = struct {
	Train []string
	Test  string
}{
	Train: []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"},
	Test:  "test_batch.bin",
}

const (
	cifarSide   = 32
	cifarDim    = 3 * cifarSide * cifarSide
	cifarRecord = 1 + cifarDim
)

// ReadCIFAR10File reads one binary batch file into a Set of 10 classes
// (pixels channel-major: Channels = 3, Rows = Cols = 32).
func ReadCIFAR10File(path string) (*Set, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 || len(b)%cifarRecord != 0 {
		return nil, fmt.Errorf("%s: %w: %d bytes is not a whole number of %d-byte CIFAR-10 records (truncated or not a CIFAR-10 binary batch)", path, ErrFormat, len(b), cifarRecord)
	}
	n := len(b) / cifarRecord
	s := &Set{Name: filepath.Base(path), Rows: cifarSide, Cols: cifarSide, Channels: 3, Dim: cifarDim, Classes: 10,
		Pixels: make([]uint8, n*cifarDim), Labels: make([]uint8, n)}
	for i := range n {
		rec := b[i*cifarRecord : (i+1)*cifarRecord]
		if rec[0] > 9 {
			return nil, fmt.Errorf("%s: %w: record %d has label %d; CIFAR-10 labels are 0..9", path, ErrFormat, i, rec[0])
		}
		s.Labels[i] = rec[0]
		copy(s.Image(i), rec[1:])
	}
	return s, nil
}

// LoadCIFAR10 reads the five training batches and the test batch from dir.
func LoadCIFAR10(dir string) (train, test *Set, err error) {
	for _, name := range CIFAR10Files.Train {
		s, err := ReadCIFAR10File(filepath.Join(dir, name))
		if err != nil {
			return nil, nil, err
		}
		if train == nil {
			train = s
			continue
		}
		train.Pixels = append(train.Pixels, s.Pixels...)
		train.Labels = append(train.Labels, s.Labels...)
	}
	train.Name = "CIFAR-10 train"
	if test, err = ReadCIFAR10File(filepath.Join(dir, CIFAR10Files.Test)); err != nil {
		return nil, nil, err
	}
	test.Name = "CIFAR-10 test"
	return train, test, nil
}
