package dataset

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzReadIDX: no input makes ReadIDX panic or allocate far beyond its
// size; every refusal wraps ErrFormat, and what it accepts has exactly
// the data its dimensions announce and encodes back to the same bytes.
func FuzzReadIDX(f *testing.F) {
	f.Add(idxBytes([]int{3, 2, 2}, make([]byte, 12)))
	f.Add(idxBytes([]int{4}, []byte{0, 1, 2, 3}))
	f.Add([]byte{0, 0, 8, 1, 0, 0, 0, 9})
	f.Add([]byte{0, 0, 8, 2, 0x3f, 0xff, 0xff, 0xff, 0, 0, 0, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		idx, err := ReadIDX(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		n := 1
		for _, d := range idx.Dims {
			n *= d
		}
		if n != len(idx.Data) {
			t.Fatalf("dims %v but %d bytes", idx.Dims, len(idx.Data))
		}
		if !bytes.Equal(idxBytes(idx.Dims, idx.Data), b) {
			t.Fatal("accepted input does not re-encode to itself")
		}
	})
}
