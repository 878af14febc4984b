package main

import (
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/dataset"
	"github.com/strongdfc/strongdfc/neuron"
)

// TestWriteReconstructions: the figure has two rows of k enlarged images.
func TestWriteReconstructions(t *testing.T) {
	set := &dataset.Set{Name: "tiny", Rows: 4, Cols: 4, Dim: 16, Classes: 2, Pixels: make([]uint8, 3*16), Labels: make([]uint8, 3)}
	for i := range set.Pixels {
		set.Pixels[i] = uint8(i * 5)
	}
	net, err := circuit.NewNetwork([]int{16, 4, 16}, []neuron.Activation{neuron.Tanh, neuron.Linear})
	if err != nil {
		t.Fatal(err)
	}
	net.Init(rand.New(rand.NewPCG(1, 1)))
	path := filepath.Join(t.TempDir(), "r.png")
	if err := writeReconstructions(path, net, dataset.All(set), dataset.UnitNorm, 3); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 3*(4*3+4) || b.Dy() != 2*(4*3+4) {
		t.Errorf("image is %v", b)
	}
}
