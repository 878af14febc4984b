package dataset

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"gonum.org/v1/gonum/mat"
)

// Set is a labelled set of images stored as bytes, one row of Dim pixels
// per sample.
type Set struct {
	Name       string
	Rows, Cols int // image shape
	// Channels is the number of colour planes (0 or 1: grey); pixels are
	// stored plane after plane. Dim = Channels·Rows·Cols.
	Channels int
	Dim      int
	Classes  int
	Pixels   []uint8 // Len()·Dim
	Labels   []uint8
}

// Len returns the number of samples.
func (s *Set) Len() int { return len(s.Labels) }

// Image returns the pixels of sample i.
func (s *Set) Image(i int) []uint8 { return s.Pixels[i*s.Dim : (i+1)*s.Dim] }

// NewSet checks images (n × rows × cols) and labels (n) read from IDX files
// and returns them as a Set with the given number of classes.
func NewSet(name string, images, labels *IDX, classes int) (*Set, error) {
	if len(images.Dims) != 3 {
		return nil, fmt.Errorf("%s: image file has shape %v; want 3 dimensions (images × rows × columns)", name, images.Dims)
	}
	if len(labels.Dims) != 1 {
		return nil, fmt.Errorf("%s: label file has shape %v; want 1 dimension", name, labels.Dims)
	}
	if images.Dims[0] != labels.Dims[0] {
		return nil, fmt.Errorf("%s: %d images but %d labels; the files do not belong together", name, images.Dims[0], labels.Dims[0])
	}
	for i, l := range labels.Data {
		if int(l) >= classes {
			return nil, fmt.Errorf("%s: label %d of sample %d is out of range 0..%d", name, l, i, classes-1)
		}
	}
	return &Set{
		Name: name, Rows: images.Dims[1], Cols: images.Dims[2], Dim: images.Dims[1] * images.Dims[2],
		Classes: classes, Pixels: images.Data, Labels: labels.Data,
	}, nil
}

// Files are the standard names of the four IDX files of MNIST-like sets.
var Files = struct{ TrainImages, TrainLabels, TestImages, TestLabels string }{
	"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
}

// findFile returns dir/name or dir/name.gz, whichever exists.
func findFile(dir, name string) (string, error) {
	for _, cand := range []string{name + ".gz", name} {
		p := filepath.Join(dir, cand)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: no file %s or %s.gz", dir, name, name)
}

// LoadIDXDir reads the training and test sets of an MNIST-like data set
// (10 classes) from the four standard IDX files (optionally gzipped) in
// dir.
func LoadIDXDir(name, dir string) (train, test *Set, err error) {
	load := func(part, imgName, lblName string) (*Set, error) {
		ip, err := findFile(dir, imgName)
		if err != nil {
			return nil, err
		}
		lp, err := findFile(dir, lblName)
		if err != nil {
			return nil, err
		}
		img, err := ReadIDXFile(ip)
		if err != nil {
			return nil, err
		}
		lbl, err := ReadIDXFile(lp)
		if err != nil {
			return nil, err
		}
		s, err := NewSet(name+" "+part, img, lbl, 10)
		if err != nil {
			return nil, fmt.Errorf("%s and %s: %w", ip, lp, err)
		}
		return s, nil
	}
	if train, err = load("train", Files.TrainImages, Files.TrainLabels); err != nil {
		return nil, nil, err
	}
	if test, err = load("test", Files.TestImages, Files.TestLabels); err != nil {
		return nil, nil, err
	}
	if train.Dim != test.Dim {
		return nil, nil, fmt.Errorf("%s: training images are %d×%d but test images %d×%d", dir, train.Rows, train.Cols, test.Rows, test.Cols)
	}
	return train, test, nil
}

// Norm maps a pixel byte p to (p/255 − Mean)/Std.
type Norm struct {
	Mean, Std float64
}

// MNISTNorm is the published MNIST normalisation.
var MNISTNorm = Norm{Mean: 0.1307, Std: 0.3081}

// UnitNorm scales pixels to [0, 1] only (Fashion-MNIST as published).
var UnitNorm = Norm{Mean: 0, Std: 1}

// CIFAR10Norm standardises CIFAR-10's pixels with the mean and standard
// deviation of its training set over all pixels and all three channels
// (per channel they are (0.4914, 0.4822, 0.4465) and (0.2470, 0.2435,
// 0.2616); the network sees one normalisation for every input).
var CIFAR10Norm = Norm{Mean: 0.4734, Std: 0.2516}

// Table returns the lookup table of the normalisation.
func (n Norm) Table() *[256]float64 {
	var t [256]float64
	for p := range t {
		t[p] = (float64(p)/255 - n.Mean) / n.Std
	}
	return &t
}

// Split is a subset of a Set given by sample indices.
type Split struct {
	Set   *Set
	Index []int
}

// All returns the split holding every sample of s in order.
func All(s *Set) Split {
	idx := make([]int, s.Len())
	for i := range idx {
		idx[i] = i
	}
	return Split{Set: s, Index: idx}
}

// Len returns the number of samples.
func (sp Split) Len() int { return len(sp.Index) }

// Limit returns the first n samples of the split (all when n ≤ 0 or n ≥
// Len).
func (sp Split) Limit(n int) Split {
	if n <= 0 || n >= len(sp.Index) {
		return sp
	}
	return Split{Set: sp.Set, Index: sp.Index[:n]}
}

// RandomSplit draws, with a generator seeded by seed, a random subset of
// hold samples out of s and returns the remaining samples (in their
// original order) and the held-out ones (in the order drawn).
func RandomSplit(s *Set, hold int, seed uint64) (rest, held Split, err error) {
	if hold < 0 || hold >= s.Len() {
		return Split{}, Split{}, fmt.Errorf("%s: cannot hold out %d of %d samples", s.Name, hold, s.Len())
	}
	perm := rand.New(rand.NewPCG(seed, 0x5eed)).Perm(s.Len())
	taken := make([]bool, s.Len())
	held = Split{Set: s, Index: perm[:hold]}
	for _, i := range held.Index {
		taken[i] = true
	}
	rest = Split{Set: s}
	for i := range s.Len() {
		if !taken[i] {
			rest.Index = append(rest.Index, i)
		}
	}
	return rest, held, nil
}

// Batch fills the rows of x with the normalised images of the samples
// sp.Index[order[k]] for k in [from, from+rows of x), and labels with their
// labels. order may be nil for the split's own order.
func (sp Split) Batch(x *mat.Dense, labels []int, table *[256]float64, order []int, from int) {
	b, d := x.Dims()
	if d != sp.Set.Dim {
		panic(fmt.Sprintf("dataset: Batch: x has %d columns, images have %d pixels", d, sp.Set.Dim))
	}
	if len(labels) != b {
		panic(fmt.Sprintf("dataset: Batch: %d labels for %d rows", len(labels), b))
	}
	for r := range b {
		k := from + r
		if order != nil {
			k = order[k]
		}
		i := sp.Index[k]
		row := x.RawRowView(r)
		for j, p := range sp.Set.Image(i) {
			row[j] = table[p]
		}
		labels[r] = int(sp.Set.Labels[i])
	}
}

// ErrNotFound is wrapped when a data set's files cannot be found.
var ErrNotFound = errors.New("data set not found")
