package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/strongdfc/strongdfc/dataset"
)

// digits returns n images of dim pixels whose label is i mod 10 and whose
// pixel j is (i + j) mod 251, so that a permutation can be followed.
func digits(n, dim int) *dataset.Set {
	s := &dataset.Set{Name: "digits", Rows: 1, Cols: dim, Dim: dim, Classes: 10,
		Pixels: make([]uint8, n*dim), Labels: make([]uint8, n)}
	for i := range n {
		s.Labels[i] = uint8(i % 10)
		for j := range dim {
			s.Pixels[i*dim+j] = uint8((i + j) % 251)
		}
	}
	return s
}

// TestSplitMNIST: five tasks of two digits each, in order, every training
// sample once; each task's test split holds exactly its two digits.
func TestSplitMNIST(t *testing.T) {
	train, test := digits(103, 6), digits(40, 6)
	st := splitMNIST(train, test)
	if len(st.blocks) != 5 || len(st.tests) != 5 {
		t.Fatalf("%d tasks, %d test splits, want 5", len(st.blocks), len(st.tests))
	}
	sum := 0
	for k, b := range st.blocks {
		for _, i := range st.train.Index[sum : sum+b] {
			if d := int(train.Labels[i]); d/2 != k {
				t.Errorf("task %d trains on digit %d", k+1, d)
			}
		}
		sum += b
		for _, i := range st.tests[k].Index {
			if d := int(test.Labels[i]); d/2 != k {
				t.Errorf("task %d tests on digit %d", k+1, d)
			}
		}
		if len(st.tests[k].Index) != 8 {
			t.Errorf("task %d has %d test samples, want 8", k+1, len(st.tests[k].Index))
		}
	}
	if sum != train.Len() || st.train.Len() != train.Len() {
		t.Errorf("tasks hold %d of %d training samples", sum, train.Len())
	}
}

// TestPermutedMNIST: the first task is the images as they are, the others
// one fixed permutation each, applied alike to a task's training and test
// images; tasks are perTask samples long.
func TestPermutedMNIST(t *testing.T) {
	const dim = 12
	train, test := digits(50, dim), digits(20, dim)
	st := permutedMNIST(train, test, 3, 10, 7)
	if !slices.Equal(st.blocks, []int{10, 10, 10}) || st.train.Len() != 30 {
		t.Fatalf("blocks %v, %d training samples", st.blocks, st.train.Len())
	}
	set := st.train.Set
	for k := range 3 {
		te := st.tests[k]
		if te.Len() != test.Len() {
			t.Errorf("task %d tests on %d samples, want %d", k+1, te.Len(), test.Len())
		}
	}
	if img := st.tests[0].Set.Image(st.tests[0].Index[3]); !slices.Equal(img, test.Image(3)) {
		t.Errorf("the first task's test images are permuted")
	}
	if img := st.tests[1].Set.Image(st.tests[1].Index[3]); slices.Equal(img, test.Image(3)) {
		t.Errorf("the second task's test images are not permuted")
	}
	a, b := set.Image(st.train.Index[0]), set.Image(st.train.Index[10])
	if slices.Equal(a, b) {
		t.Error("tasks 1 and 2 start with the same image")
	}
	// The same permutation for a task's training and test images: sorted,
	// the pixels of a permuted image are those of its source.
	img := slices.Clone(st.tests[1].Set.Image(st.tests[1].Index[5]))
	src := slices.Clone(test.Image(5))
	slices.Sort(img)
	slices.Sort(src)
	if !slices.Equal(img, src) {
		t.Error("a permuted test image is not a permutation of its source")
	}
}

// TestRedraw: -replot draws curves.png from a run's files, and a summary
// without the tasks' sizes is a clear error.
func TestRedraw(t *testing.T) {
	dir := t.TempDir()
	rows := [][]float64{{0, 1, 0.1}, {0, 2, 0.1}, {100, 1, 0.9}, {100, 2, 0.2}, {200, 1, 0.5}, {200, 2, 0.95}}
	if err := writeCSV(filepath.Join(dir, "accuracy.csv"), rows); err != nil {
		t.Fatal(err)
	}
	write := func(s Summary) {
		b, _ := json.Marshal(s)
		if err := os.WriteFile(filepath.Join(dir, "summary.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(Summary{Benchmark: "split", Method: "stream", Tasks: 2})
	if err := redraw(dir); err == nil || !strings.Contains(err.Error(), "samples_per_task") {
		t.Errorf("a summary without task sizes: %v", err)
	}
	write(Summary{Benchmark: "split", Method: "stream", Tasks: 2, PerTask: []int{100, 100}})
	if err := redraw(dir); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "curves.png")); err != nil || fi.Size() == 0 {
		t.Errorf("curves.png: %v", err)
	}
}
