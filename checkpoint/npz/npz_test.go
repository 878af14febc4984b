package npz

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio/npz"
	"gonum.org/v1/gonum/mat"
)

func sample() []Array {
	return []Array{
		Float64("w", []float64{1, -2.5, math.Pi, math.Inf(1), math.NaN(), 0}, 2, 3),
		Int64("counters", []int64{0, -1, math.MaxInt64}),
		Bytes("blob", []byte("hello\x00world")),
		Float64("cube", make([]float64, 24), 2, 3, 4),
		Float64("empty", nil, 0, 5),
	}
}

// TestReadLong reads arrays longer than the reader's buffer of 4096
// words, of lengths on and off its multiples, bit for bit.
func TestReadLong(t *testing.T) {
	for _, n := range []int{4095, 4096, 4097, 8192, 10007} {
		f := ramp(n)
		k := make([]int64, n)
		for i := range k {
			k[i] = int64(math.Float64bits(f[i])) ^ math.MinInt64
		}
		b := encode(t, []Array{Float64("f", f, n), Int64("k", k, n)})
		out, err := Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		g, h := out[0].Data.([]float64), out[1].Data.([]int64)
		for i := range f {
			if math.Float64bits(g[i]) != math.Float64bits(f[i]) || h[i] != k[i] {
				t.Fatalf("n = %d: element %d read as %v, %d; want %v, %d", n, i, g[i], h[i], f[i], k[i])
			}
		}
		// One bit flipped in the last value of each array, past the
		// reader's first buffer: the checksum refuses it.
		for _, v := range []uint64{math.Float64bits(f[n-1]), uint64(k[n-1])} {
			var w [8]byte
			binary.LittleEndian.PutUint64(w[:], v)
			at := bytes.Index(b, w[:])
			if at < 0 || bytes.Count(b, w[:]) != 1 {
				t.Fatalf("n = %d: the last value's bytes are not found once in the archive", n)
			}
			bad := append([]byte(nil), b...)
			bad[at+3] ^= 0x10
			if _, err := Read(bytes.NewReader(bad), int64(len(bad))); err == nil || !errors.Is(err, ErrFormat) {
				t.Errorf("n = %d: a bit flipped at byte %d of %d: error %v, want ErrFormat", n, at, len(b), err)
			}
		}
	}
}

// ramp returns n distinct values.
func ramp(n int) []float64 {
	d := make([]float64, n)
	for i := range d {
		d[i] = math.Sqrt(float64(i)) - float64(i%7)/3
	}
	return d
}

func encode(t testing.TB, arrays []Array) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, arrays); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRoundTrip(t *testing.T) {
	in := sample()
	b := encode(t, in)
	if !bytes.Equal(b, encode(t, sample())) {
		t.Error("the same arrays gave different bytes")
	}
	out, err := Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("read %d arrays, wrote %d", len(out), len(in))
	}
	for i := range in {
		if out[i].Name != in[i].Name || !reflect.DeepEqual(out[i].Shape, in[i].Shape) {
			t.Errorf("array %d: %s %v, want %s %v", i, out[i].Name, out[i].Shape, in[i].Name, in[i].Shape)
		}
		if f, ok := in[i].Data.([]float64); ok {
			g := out[i].Data.([]float64)
			for j := range f {
				if math.Float64bits(f[j]) != math.Float64bits(g[j]) {
					t.Errorf("%s[%d] = %v, want %v", in[i].Name, j, g[j], f[j])
				}
			}
		} else if !reflect.DeepEqual(in[i].Data, out[i].Data) {
			t.Errorf("%s: %v, want %v", in[i].Name, out[i].Data, in[i].Data)
		}
	}
	s := NewSet("x.npz", out)
	if _, err := s.Float64("w", 3, 2); err == nil || !strings.Contains(err.Error(), "shape") {
		t.Errorf("wrong shape accepted: %v", err)
	}
	if _, err := s.Int64("w"); err == nil || !strings.Contains(err.Error(), "x.npz") {
		t.Errorf("wrong type accepted: %v", err)
	}
	if _, err := s.Float64("nope"); err == nil || !strings.Contains(err.Error(), `"nope" is missing`) {
		t.Errorf("missing array: %v", err)
	}
}

// TestNpyio reads what Write wrote with an independent implementation.
func TestNpyio(t *testing.T) {
	b := encode(t, sample())
	r, err := npz.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var m mat.Dense
	if err := r.Read("w.npy", &m); err != nil {
		t.Fatal(err)
	}
	if rr, cc := m.Dims(); rr != 2 || cc != 3 || m.At(1, 0) != math.Inf(1) || m.At(0, 2) != math.Pi {
		t.Errorf("npyio read %v", mat.Formatted(&m))
	}
	var c []int64
	if err := r.Read("counters.npy", &c); err != nil || c[2] != math.MaxInt64 {
		t.Errorf("npyio read %v, %v", c, err)
	}
	if h := r.Header("cube.npy"); h == nil || !reflect.DeepEqual(h.Descr.Shape, []int{2, 3, 4}) {
		t.Errorf("npyio header %+v", h)
	}
}

func TestWriteErrors(t *testing.T) {
	cases := []struct {
		name string
		a    []Array
		want string
	}{
		{"repeated", []Array{Bytes("a", nil), Bytes("a", nil)}, "repeated"},
		{"empty name", []Array{Bytes("", nil)}, "empty"},
		{"shape", []Array{Float64("a", make([]float64, 5), 2, 3)}, "shape"},
		{"type", []Array{{Name: "a", Shape: []int{1}, Data: []float32{1}}}, "float32"},
	}
	for _, tc := range cases {
		if err := Write(&bytes.Buffer{}, tc.a); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}

// TestCorrupt: truncated archives and flipped bytes are errors, never wrong
// numbers.
func TestCorrupt(t *testing.T) {
	good := encode(t, sample())
	for _, n := range []int{0, 10, len(good) / 2, len(good) - 1} {
		if _, err := Read(bytes.NewReader(good[:n]), int64(n)); err == nil {
			t.Errorf("archive truncated to %d bytes accepted", n)
		}
	}
	// Flip one bit in every position of the first array's data.
	start := bytes.Index(good, []byte(magic)) + 128 // inside w's data
	for i := start; i < start+48; i++ {
		b := append([]byte(nil), good...)
		b[i] ^= 0x10
		if _, err := Read(bytes.NewReader(b), int64(len(b))); err == nil {
			t.Errorf("bit flip at %d accepted", i)
		}
	}
	// Headers that lie.
	for _, tc := range []struct{ name, hdr, want string }{
		{"shape too large", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 4), }", "needs"},
		{"fortran", "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", "Fortran"},
		{"type", "{'descr': '<f4', 'fortran_order': False, 'shape': (12,), }", "not supported"},
		{"garbage", "{'descr': 5}", "not understood"},
	} {
		var z bytes.Buffer
		h := []byte(magic + "\x01\x00")
		dict := tc.hdr + "\n"
		h = append(h, byte(len(dict)), 0)
		h = append(h, dict...)
		h = append(h, make([]byte, 48)...)
		writeRaw(t, &z, "a.npy", h)
		_, err := Read(bytes.NewReader(z.Bytes()), int64(z.Len()))
		if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want ErrFormat mentioning %q", tc.name, err, tc.want)
		}
	}
}

// TestNumpy checks with NumPy itself, when a Python with numpy is found
// (STRONGDFC_PYTHON, python3 or /usr/bin/python3), that numpy.load reads
// what Write wrote.
func TestNumpy(t *testing.T) {
	py := FindNumpy()
	if py == "" {
		t.Skip("no Python with numpy (apt-get install python3-numpy)")
	}
	path := filepath.Join(t.TempDir(), "a.npz")
	if err := os.WriteFile(path, encode(t, sample()), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, numpy as np
z = np.load(sys.argv[1])
assert sorted(z.files) == ['blob', 'counters', 'cube', 'empty', 'w'], z.files
w = z['w']
assert w.shape == (2, 3) and w.dtype == np.float64 and w[0, 2] == np.pi and np.isinf(w[1, 0]) and np.isnan(w[1, 1]), w
assert z['counters'].dtype == np.int64 and z['counters'][2] == 2**63 - 1
assert bytes(z['blob']) == b'hello\x00world'
assert z['cube'].shape == (2, 3, 4) and z['empty'].shape == (0, 5)
print('ok')
`
	out, err := exec.Command(py, "-c", script, path).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
}

func writeRaw(t *testing.T, w *bytes.Buffer, name string, content []byte) {
	t.Helper()
	zw := zip.NewWriter(w)
	f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
	if err != nil {
		t.Fatal(err)
	}
	f.Write(content)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// FuzzRead: no input makes Read panic or allocate without bound, and what
// it accepts writes back to an archive it reads the same way.
func FuzzRead(f *testing.F) {
	f.Add(encode(f, sample()))
	f.Add([]byte("PK\x05\x06"))
	f.Fuzz(func(t *testing.T, b []byte) {
		arrays, err := Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		again, err := Read(bytes.NewReader(encode(t, arrays)), int64(len(encode(t, arrays))))
		if err != nil || len(again) != len(arrays) {
			t.Fatalf("re-encoded archive: %v", err)
		}
	})
}
