package dataset

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// idxBytes encodes an unsigned-byte IDX file.
func idxBytes(dims []int, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 0x08, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// writeSet writes a small MNIST-like set (n train, m test images of 2×3
// pixels) into dir, gzipped or not.
func writeSet(t *testing.T, dir string, n, m int, zip bool) {
	t.Helper()
	put := func(name string, dims []int, data []byte) {
		b := idxBytes(dims, data)
		if zip {
			b, name = gz(b), name+".gz"
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pix := func(k int) []byte {
		p := make([]byte, k*6)
		for i := range p {
			p[i] = byte(i * 7)
		}
		return p
	}
	lbl := func(k int) []byte {
		l := make([]byte, k)
		for i := range l {
			l[i] = byte(i % 10)
		}
		return l
	}
	put(Files.TrainImages, []int{n, 2, 3}, pix(n))
	put(Files.TrainLabels, []int{n}, lbl(n))
	put(Files.TestImages, []int{m, 2, 3}, pix(m))
	put(Files.TestLabels, []int{m}, lbl(m))
}

func TestLoadIDXDir(t *testing.T) {
	for _, zip := range []bool{false, true} {
		dir := t.TempDir()
		writeSet(t, dir, 12, 5, zip)
		train, test, err := LoadIDXDir("tiny", dir)
		if err != nil {
			t.Fatalf("zip=%v: %v", zip, err)
		}
		if train.Len() != 12 || test.Len() != 5 || train.Dim != 6 || train.Rows != 2 || train.Cols != 3 {
			t.Fatalf("zip=%v: got %d/%d samples of %d×%d", zip, train.Len(), test.Len(), train.Rows, train.Cols)
		}
		if train.Image(1)[0] != 42 || train.Labels[11] != 1 {
			t.Errorf("zip=%v: wrong content", zip)
		}
	}
}

func TestBadInput(t *testing.T) {
	good := idxBytes([]int{3, 2, 2}, make([]byte, 12))
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"short header", []byte{0, 0, 8}, "truncated"},
		{"wrong magic", append([]byte{0x12, 0x34}, good[2:]...), "magic number"},
		{"wrong type", append([]byte{0, 0, 0x0d}, good[3:]...), "data type"},
		{"no dims", []byte{0, 0, 8, 0}, "no dimensions"},
		{"truncated dims", good[:9], "truncated"},
		{"truncated data", good[:len(good)-1], "truncated"},
		{"trailing data", append(append([]byte(nil), good...), 1), "continues after"},
		{"huge", idxBytes([]int{1 << 20, 1 << 20}, nil), "announce more than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadIDX(bytes.NewReader(tc.data))
			if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrFormat mentioning %q", err, tc.want)
			}
		})
	}

	dir := t.TempDir()
	writeSet(t, dir, 4, 4, false)
	// Counts that disagree.
	os.WriteFile(filepath.Join(dir, Files.TrainLabels), idxBytes([]int{5}, make([]byte, 5)), 0o644)
	if _, _, err := LoadIDXDir("x", dir); err == nil || !strings.Contains(err.Error(), "4 images but 5 labels") {
		t.Errorf("count mismatch: %v", err)
	}
	// Label out of range.
	os.WriteFile(filepath.Join(dir, Files.TrainLabels), idxBytes([]int{4}, []byte{0, 1, 10, 2}), 0o644)
	if _, _, err := LoadIDXDir("x", dir); err == nil || !strings.Contains(err.Error(), "label 10") {
		t.Errorf("label out of range: %v", err)
	}
	// Missing file.
	os.Remove(filepath.Join(dir, Files.TrainLabels))
	if _, _, err := LoadIDXDir("x", dir); err == nil || !strings.Contains(err.Error(), Files.TrainLabels) {
		t.Errorf("missing file: %v", err)
	}
	// Corrupt gzip: the error names the file.
	p := filepath.Join(dir, Files.TrainLabels+".gz")
	os.WriteFile(p, []byte{0x1f, 0x8b, 1, 2, 3}, 0o644)
	if _, err := ReadIDXFile(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("corrupt gzip: %v", err)
	}
	// Truncated gzip stream.
	whole := gz(idxBytes([]int{4}, []byte{0, 1, 2, 3}))
	os.WriteFile(p, whole[:len(whole)-6], 0o644)
	if _, err := ReadIDXFile(p); err == nil {
		t.Errorf("truncated gzip accepted")
	}
}

func TestRandomSplitAndBatch(t *testing.T) {
	dir := t.TempDir()
	writeSet(t, dir, 50, 3, false)
	train, _, err := LoadIDXDir("tiny", dir)
	if err != nil {
		t.Fatal(err)
	}
	rest, held, err := RandomSplit(train, 10, 42)
	if err != nil {
		t.Fatal(err)
	}
	if rest.Len() != 40 || held.Len() != 10 {
		t.Fatalf("split %d/%d", rest.Len(), held.Len())
	}
	seen := map[int]bool{}
	for _, i := range append(append([]int(nil), rest.Index...), held.Index...) {
		if seen[i] {
			t.Fatalf("sample %d in both parts", i)
		}
		seen[i] = true
	}
	rest2, held2, _ := RandomSplit(train, 10, 42)
	for i := range held.Index {
		if held.Index[i] != held2.Index[i] || rest.Index[i] != rest2.Index[i] {
			t.Fatal("same seed gave a different split")
		}
	}
	if _, _, err := RandomSplit(train, 50, 1); err == nil {
		t.Error("holding out every sample accepted")
	}

	x := mat.NewDense(2, 6, nil)
	labels := make([]int, 2)
	table := MNISTNorm.Table()
	held.Batch(x, labels, table, []int{3, 1}, 0)
	i := held.Index[3]
	for j, p := range train.Image(i) {
		want := (float64(p)/255 - 0.1307) / 0.3081
		if math.Abs(x.At(0, j)-want) > 1e-15 {
			t.Fatalf("pixel %d: %g, want %g", j, x.At(0, j), want)
		}
	}
	if labels[0] != int(train.Labels[i]) || labels[1] != int(train.Labels[held.Index[1]]) {
		t.Errorf("labels %v", labels)
	}
}

// TestMNIST reads the real files from the module cache when present.
func TestMNIST(t *testing.T) {
	dir, err := MNISTDir()
	if err != nil {
		t.Skipf("MNIST not available: %v", err)
	}
	train, test, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 60000 || test.Len() != 10000 || train.Dim != 784 {
		t.Fatalf("MNIST: %d train, %d test, %d pixels", train.Len(), test.Len(), train.Dim)
	}
	// Known class counts of the MNIST test set.
	counts := make([]int, 10)
	for _, l := range test.Labels {
		counts[l]++
	}
	want := []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}
	for c := range counts {
		if counts[c] != want[c] {
			t.Errorf("test class %d has %d samples, want %d", c, counts[c], want[c])
		}
	}
}

func TestFashionMNIST(t *testing.T) {
	if _, err := os.Stat(FashionMNISTDefaultDir); err != nil {
		t.Skipf("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")
	}
	train, test, err := LoadFashionMNIST("")
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 60000 || test.Len() != 10000 {
		t.Fatalf("Fashion-MNIST: %d train, %d test", train.Len(), test.Len())
	}
	counts := make([]int, 10)
	for _, l := range test.Labels {
		counts[l]++
	}
	for c, n := range counts {
		if n != 1000 {
			t.Errorf("test class %d has %d samples, want 1000", c, n)
		}
	}
}
