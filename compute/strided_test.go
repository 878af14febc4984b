package compute

import (
	"fmt"
	"testing"
)

// TestPutRows checks PutRows against one PutRow per row (and PutRow
// against the definition of Strided) for neuron-major destinations with
// full and partial blocks of RowBlock rows, batch-major ones, and adding
// ones; values outside the written places stay as they were.
func TestPutRows(t *testing.T) {
	const rows, n, stride = 19, 13, 15 // stride > n: gaps in the source
	src := make([]float64, rows*stride)
	for i := range src {
		src[i] = float64(i) + 0.5
	}
	for _, tc := range []struct {
		name   string
		rs, cs int
		add    bool
	}{
		{"neuron-major", 1, 3 * rows, false},
		{"neuron-major, adding", 1, 3 * rows, true},
		{"batch-major", n + 2, 1, false},
		{"batch-major, adding", n + 2, 1, true},
	} {
		for _, span := range [][2]int{{0, RowBlock}, {RowBlock, 2 * RowBlock}, {3, 3 + RowBlock}, {2, 5}, {0, rows}} {
			t.Run(fmt.Sprintf("%s/rows %d-%d", tc.name, span[0], span[1]), func(t *testing.T) {
				size := (rows-1)*tc.rs + (n-1)*tc.cs + 1
				got, want := make([]float64, size), make([]float64, size)
				for i := range got {
					got[i], want[i] = -float64(i), -float64(i)
				}
				d := Strided{Data: got, RowStride: tc.rs, ColStride: tc.cs, Add: tc.add}
				d.PutRows(span[0], span[1], src, stride, n)
				for i := span[0]; i < span[1]; i++ {
					for j := range n {
						v := src[i*stride+j]
						if tc.add {
							want[i*tc.rs+j*tc.cs] += v
						} else {
							want[i*tc.rs+j*tc.cs] = v
						}
					}
				}
				for k := range got {
					if got[k] != want[k] {
						t.Fatalf("Data[%d] = %g, want %g", k, got[k], want[k])
					}
				}
			})
		}
	}
	// No units: nothing to write, whatever the strides (a full block must
	// not index before the data).
	empty := Strided{Data: []float64{1}, RowStride: 1, ColStride: 64}
	empty.PutRows(0, RowBlock, src, stride, 0)
	if empty.Data[0] != 1 {
		t.Errorf("PutRows of 0 units wrote %g", empty.Data[0])
	}
}
