// Package npz reads and writes NumPy .npz archives: a zip file of .npy
// arrays, the format numpy.savez writes and numpy.load reads. It owns the
// byte format only; what the arrays mean belongs to the callers (weights,
// checkpoints, traces).
//
// Arrays are C-ordered, little-endian float64 ('<f8'), int64 ('<i8') or
// uint8 ('|u1'), of any shape. Entries are stored uncompressed with a zero
// modification time, so the same arrays always give the same bytes. The
// reader accepts exactly what the writer produces (and what numpy.savez
// produces for these types) and rejects everything else with an error
// that says what is wrong; it never trusts a header's sizes before
// checking them against the data present.
package npz

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Array is one named array. Data is a []float64, []int64 or []uint8 whose
// length is the product of Shape (an empty Shape is a scalar of one
// element).
type Array struct {
	Name  string
	Shape []int
	Data  any
}

// Float64 returns a float64 array of the given shape over data.
func Float64(name string, data []float64, shape ...int) Array {
	return Array{Name: name, Shape: shapeOr(shape, len(data)), Data: data}
}

// Int64 returns an int64 array of the given shape over data.
func Int64(name string, data []int64, shape ...int) Array {
	return Array{Name: name, Shape: shapeOr(shape, len(data)), Data: data}
}

// Bytes returns a one-dimensional uint8 array holding b.
func Bytes(name string, b []byte) Array {
	return Array{Name: name, Shape: []int{len(b)}, Data: b}
}

func shapeOr(shape []int, n int) []int {
	if len(shape) == 0 {
		return []int{n}
	}
	return append([]int(nil), shape...)
}

// Len returns the number of elements the shape holds.
func (a Array) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

func (a Array) descr() (string, int, int, error) {
	switch d := a.Data.(type) {
	case []float64:
		return "<f8", 8, len(d), nil
	case []int64:
		return "<i8", 8, len(d), nil
	case []uint8:
		return "|u1", 1, len(d), nil
	}
	return "", 0, 0, fmt.Errorf("npz: array %q has data of type %T; want []float64, []int64 or []uint8", a.Name, a.Data)
}

// Write writes the arrays as an .npz archive to w. Names must be unique
// and not empty; each becomes the entry name+".npy".
func Write(w io.Writer, arrays []Array) error {
	seen := map[string]bool{}
	zw := zip.NewWriter(w)
	for _, a := range arrays {
		if a.Name == "" || seen[a.Name] {
			return fmt.Errorf("npz: array name %q is empty or repeated", a.Name)
		}
		seen[a.Name] = true
		descr, size, n, err := a.descr()
		if err != nil {
			return err
		}
		for _, d := range a.Shape {
			if d < 0 {
				return fmt.Errorf("npz: array %q has negative dimension in shape %v", a.Name, a.Shape)
			}
		}
		if n != a.Len() {
			return fmt.Errorf("npz: array %q has %d elements but shape %v holds %d", a.Name, n, a.Shape, a.Len())
		}
		ew, err := zw.CreateHeader(&zip.FileHeader{Name: a.Name + ".npy", Method: zip.Store})
		if err != nil {
			return err
		}
		if _, err := ew.Write(header(descr, a.Shape)); err != nil {
			return err
		}
		if err := writeData(ew, a.Data, size, n); err != nil {
			return fmt.Errorf("npz: array %q: %w", a.Name, err)
		}
	}
	return zw.Close()
}

// header returns the .npy header (format 1.0) padded with spaces to a
// multiple of 64 bytes, as numpy writes it.
func header(descr string, shape []int) []byte {
	var sh strings.Builder
	sh.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			sh.WriteString(", ")
		}
		sh.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		sh.WriteByte(',')
	}
	sh.WriteByte(')')
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, sh.String())
	total := len(magic) + 2 + 2 + len(dict) + 1
	pad := (64 - total%64) % 64
	var b bytes.Buffer
	b.WriteString(magic)
	b.Write([]byte{1, 0})
	binary.Write(&b, binary.LittleEndian, uint16(len(dict)+pad+1)) //nolint:errcheck // bytes.Buffer
	b.WriteString(dict)
	b.WriteString(strings.Repeat(" ", pad))
	b.WriteByte('\n')
	return b.Bytes()
}

const magic = "\x93NUMPY"

func writeData(w io.Writer, data any, size, n int) error {
	const chunk = 1 << 13
	buf := make([]byte, 0, chunk*size)
	switch d := data.(type) {
	case []uint8:
		_, err := w.Write(d)
		return err
	case []float64:
		for len(d) > 0 {
			k := min(chunk, len(d))
			buf = buf[:0]
			for _, x := range d[:k] {
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(x))
			}
			if _, err := w.Write(buf); err != nil {
				return err
			}
			d = d[k:]
		}
	case []int64:
		for len(d) > 0 {
			k := min(chunk, len(d))
			buf = buf[:0]
			for _, x := range d[:k] {
				buf = binary.LittleEndian.AppendUint64(buf, uint64(x))
			}
			if _, err := w.Write(buf); err != nil {
				return err
			}
			d = d[k:]
		}
	}
	return nil
}

// ErrFormat is wrapped by every error about malformed archive content.
var ErrFormat = errors.New("npz: malformed archive")

// maxEntryBytes bounds the size of one array the reader accepts (8 GiB),
// beyond the check against the entry's size in the archive.
const maxEntryBytes = 1 << 33

// Read reads every array of the .npz archive r of the given size, in the
// archive's order. The zip checksums are verified, so a corrupted file is
// an error, never wrong numbers.
func Read(r io.ReaderAt, size int64) ([]Array, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	var out []Array
	seen := map[string]bool{}
	for _, f := range zr.File {
		name, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok || name == "" {
			return nil, fmt.Errorf("%w: entry %q is not a .npy array", ErrFormat, f.Name)
		}
		if seen[name] {
			return nil, fmt.Errorf("%w: array %q appears twice", ErrFormat, name)
		}
		seen[name] = true
		// Deflate compresses at most about 1032:1, so a larger announced
		// size is a corrupt directory, not data to allocate for.
		if f.UncompressedSize64 > uint64(size)*1100 {
			return nil, fmt.Errorf("%w: entry %q announces %d bytes in an archive of %d", ErrFormat, f.Name, f.UncompressedSize64, size)
		}
		a, err := readEntry(f, name)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

var dictRE = regexp.MustCompile(`^\{'descr': '([<>|=][a-z][0-9]+)', 'fortran_order': (True|False), 'shape': \(([0-9, ]*)\), *\} *\n$`)

func readEntry(f *zip.File, name string) (Array, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: array %q: %s", ErrFormat, name, fmt.Sprintf(format, args...))
	}
	rc, err := f.Open()
	if err != nil {
		return Array{}, bad("%v", err)
	}
	defer rc.Close()
	var pre [10]byte
	if _, err := io.ReadFull(rc, pre[:]); err != nil {
		return Array{}, bad("truncated header")
	}
	if string(pre[:6]) != magic {
		return Array{}, bad("not a .npy array (wrong magic)")
	}
	if pre[6] != 1 {
		return Array{}, bad(".npy format version %d.%d is not supported (want 1.0)", pre[6], pre[7])
	}
	hlen := int(binary.LittleEndian.Uint16(pre[8:]))
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(rc, hdr); err != nil {
		return Array{}, bad("truncated header")
	}
	m := dictRE.FindSubmatch(hdr)
	if m == nil {
		return Array{}, bad("header %q is not understood", hdr)
	}
	if string(m[2]) != "False" {
		return Array{}, bad("Fortran-ordered arrays are not supported")
	}
	var shape []int
	n := 1
	for _, s := range strings.Split(string(m[3]), ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		d, err := strconv.Atoi(s)
		if err != nil || d < 0 || d > maxEntryBytes {
			return Array{}, bad("bad dimension %q", s)
		}
		if d > 0 && n > maxEntryBytes/d {
			return Array{}, bad("shape %v is too large", append(shape, d))
		}
		shape = append(shape, d)
		n *= d
	}
	descr := string(m[1])
	size := 8
	switch descr {
	case "<f8", "<i8":
	case "|u1", "<u1", "=u1":
		size = 1
	default:
		return Array{}, bad("data type %s is not supported (want <f8, <i8 or |u1)", descr)
	}
	if uint64(n)*uint64(size) != f.UncompressedSize64-uint64(10+hlen) {
		return Array{}, bad("shape %v of %s needs %d bytes but the entry holds %d", shape, descr, n*size, int64(f.UncompressedSize64)-int64(10+hlen))
	}
	// The values are decoded through a small buffer, not from a copy of
	// the whole entry: a checkpoint's arrays would otherwise pass through
	// memory twice, on top of the run that reads them.
	a := Array{Name: name, Shape: shape}
	switch descr {
	case "<f8":
		d := make([]float64, n)
		err = readWords(rc, n, func(i int, w uint64) { d[i] = math.Float64frombits(w) })
		a.Data = d
	case "<i8":
		d := make([]int64, n)
		err = readWords(rc, n, func(i int, w uint64) { d[i] = int64(w) })
		a.Data = d
	default:
		raw := make([]byte, n)
		_, err = io.ReadFull(rc, raw)
		a.Data = raw
	}
	if err != nil {
		return Array{}, bad("truncated data: %v", err)
	}
	// Reading to the end verifies the entry's checksum.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return Array{}, bad("%v", err)
	}
	return a, nil
}

// readWords reads n little-endian 8-byte words from r and hands each to
// put with its index.
func readWords(r io.Reader, n int, put func(i int, w uint64)) error {
	var buf [32 << 10]byte
	for i := 0; i < n; {
		k := min(n-i, len(buf)/8)
		if _, err := io.ReadFull(r, buf[:8*k]); err != nil {
			return err
		}
		for j := range k {
			put(i+j, binary.LittleEndian.Uint64(buf[8*j:]))
		}
		i += k
	}
	return nil
}

// Set is a name-indexed view of arrays read from an archive, with typed
// accessors that check type and shape. Their errors name the source (a
// file) and the array.
type Set struct {
	Source string
	byName map[string]Array
	order  []string
}

// NewSet indexes arrays by name; source names where they came from.
func NewSet(source string, arrays []Array) *Set {
	s := &Set{Source: source, byName: map[string]Array{}}
	for _, a := range arrays {
		s.byName[a.Name] = a
		s.order = append(s.order, a.Name)
	}
	return s
}

// Names returns the array names in archive order.
func (s *Set) Names() []string { return append([]string(nil), s.order...) }

// Has reports whether the set holds an array called name.
func (s *Set) Has(name string) bool { _, ok := s.byName[name]; return ok }

func (s *Set) get(name string, shape []int) (Array, error) {
	a, ok := s.byName[name]
	if !ok {
		return a, fmt.Errorf("%s: array %q is missing", s.Source, name)
	}
	if len(shape) > 0 && !slices.Equal(a.Shape, shape) {
		return a, fmt.Errorf("%s: array %q has shape %v, want %v", s.Source, name, a.Shape, shape)
	}
	return a, nil
}

// typed returns the data of the array name as a []T.
func typed[T any](s *Set, name, want string, shape []int) ([]T, error) {
	a, err := s.get(name, shape)
	if err != nil {
		return nil, err
	}
	d, ok := a.Data.([]T)
	if !ok {
		return nil, fmt.Errorf("%s: array %q holds %T, want %s", s.Source, name, a.Data, want)
	}
	return d, nil
}

// Float64 returns the data of a float64 array; when a shape is given the
// array must have exactly that shape.
func (s *Set) Float64(name string, shape ...int) ([]float64, error) {
	return typed[float64](s, name, "float64", shape)
}

// Int64 returns the data of an int64 array, checking the shape as Float64
// does.
func (s *Set) Int64(name string, shape ...int) ([]int64, error) {
	return typed[int64](s, name, "int64", shape)
}

// Bytes returns the data of a one-dimensional uint8 array.
func (s *Set) Bytes(name string) ([]byte, error) {
	a, err := s.get(name, nil)
	if err != nil {
		return nil, err
	}
	d, ok := a.Data.([]uint8)
	if !ok || len(a.Shape) != 1 {
		return nil, fmt.Errorf("%s: array %q is not a one-dimensional uint8 array", s.Source, name)
	}
	return d, nil
}
