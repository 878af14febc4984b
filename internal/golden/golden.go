// Package golden reads the golden conformance data computed by the authors'
// reference code (../shared/golden/ beside the repository; see its README)
// and compares arrays the way its README prescribes. It is used by tests
// only; the data files are never copied into the repository.
package golden

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// EnvDir names an environment variable that overrides the folder of the
// golden files.
const EnvDir = "STRONGDFC_GOLDEN"

// Dir returns the folder holding the golden files: $STRONGDFC_GOLDEN, or
// shared/golden beside the repository (found by walking up from the
// working directory).
func Dir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		cand := filepath.Join(d, "..", "shared", "golden")
		if st, err := os.Stat(filepath.Join(cand, "README.md")); err == nil && !st.IsDir() {
			return cand, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("no shared/golden folder beside the repository (set " + EnvDir + ")")
		}
	}
}

// Load decodes the named golden file into v. A test calls it; it skips the
// test with a clear message when the golden folder is absent.
func Load(t testing.TB, name string, v any) {
	t.Helper()
	dir, err := Dir()
	if err != nil {
		t.Skipf("golden data unavailable: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Skipf("golden data unavailable: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decoding golden file %s: %v", name, err)
	}
}

// Array is an n-dimensional float64 array stored row-major.
type Array struct {
	Shape []int
	Data  []float64
}

// UnmarshalJSON decodes {"shape": [...], "data": nested lists}.
func (a *Array) UnmarshalJSON(b []byte) error {
	var raw struct {
		Shape []int           `json:"shape"`
		Data  json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	var nested any
	if err := json.Unmarshal(raw.Data, &nested); err != nil {
		return err
	}
	a.Shape = raw.Shape
	a.Data = a.Data[:0]
	var flatten func(x any) error
	flatten = func(x any) error {
		switch v := x.(type) {
		case []any:
			for _, e := range v {
				if err := flatten(e); err != nil {
					return err
				}
			}
		case float64:
			a.Data = append(a.Data, v)
		default:
			return fmt.Errorf("golden: unexpected %T in array data", x)
		}
		return nil
	}
	if err := flatten(nested); err != nil {
		return err
	}
	n := 1
	for _, s := range a.Shape {
		n *= s
	}
	if n != len(a.Data) {
		return fmt.Errorf("golden: shape %v holds %d values, data has %d", a.Shape, n, len(a.Data))
	}
	return nil
}

// Dense returns a 2-D array as a matrix (a 1-D array as one row).
func (a Array) Dense() *mat.Dense {
	switch len(a.Shape) {
	case 1:
		return mat.NewDense(1, a.Shape[0], append([]float64(nil), a.Data...))
	case 2:
		return mat.NewDense(a.Shape[0], a.Shape[1], append([]float64(nil), a.Data...))
	}
	panic(fmt.Sprintf("golden: Dense of a %d-D array", len(a.Shape)))
}

// At returns the sub-array at index i of the first dimension.
func (a Array) At(i int) Array {
	n := len(a.Data) / a.Shape[0]
	return Array{Shape: a.Shape[1:], Data: a.Data[i*n : (i+1)*n]}
}

// RelErr returns the normwise relative error of got against want,
// max|got − want| / max|want| (the absolute error when want is all zeros).
// Lengths must agree.
func RelErr(got, want []float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var d, m float64
	for i := range got {
		d = math.Max(d, math.Abs(got[i]-want[i]))
		m = math.Max(m, math.Abs(want[i]))
		if math.IsNaN(got[i]) {
			return math.NaN()
		}
	}
	if m == 0 {
		return d
	}
	return d / m
}

// Check fails the test when the normwise relative error of got against
// want exceeds tol, and logs the error otherwise.
func Check(t testing.TB, name string, got, want []float64, tol float64) {
	t.Helper()
	e := RelErr(got, want)
	if !(e <= tol) {
		t.Errorf("%s: normwise relative error %.3g > %.1g", name, e, tol)
		return
	}
	if testing.Verbose() {
		t.Logf("%s: normwise relative error %.3g", name, e)
	}
}

// Flat returns the data of m row by row.
func Flat(m mat.Matrix) []float64 {
	r, c := m.Dims()
	out := make([]float64, 0, r*c)
	for i := range r {
		for j := range c {
			out = append(out, m.At(i, j))
		}
	}
	return out
}
