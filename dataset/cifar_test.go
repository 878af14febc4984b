package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeCIFAR writes a batch file of n records whose label is i%10 and whose
// pixels encode the record and the channel.
func writeCIFAR(t *testing.T, path string, n, first int) {
	t.Helper()
	b := make([]byte, 0, n*cifarRecord)
	for i := range n {
		b = append(b, byte((first+i)%10))
		for c := range 3 {
			for p := range cifarSide * cifarSide {
				b = append(b, byte(first+i+c*7+p))
			}
		}
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCIFAR10(t *testing.T) {
	dir := t.TempDir()
	for k, name := range CIFAR10Files.Train {
		writeCIFAR(t, filepath.Join(dir, name), 3, 3*k)
	}
	writeCIFAR(t, filepath.Join(dir, CIFAR10Files.Test), 4, 100)
	train, test, err := LoadCIFAR10(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 15 || test.Len() != 4 || train.Dim != 3072 || train.Channels != 3 {
		t.Fatalf("train %d, test %d, dim %d", train.Len(), test.Len(), train.Dim)
	}
	// Record 7 of the training set: label 7, green plane starts at 7+7.
	if train.Labels[7] != 7 || train.Image(7)[1024] != 14 || train.Image(7)[0] != 7 {
		t.Errorf("record 7 decoded wrongly: label %d, pixels %d %d", train.Labels[7], train.Image(7)[0], train.Image(7)[1024])
	}
	if test.Labels[0] != 0 || test.Image(3)[2048+5] != byte(103+14+5) {
		t.Errorf("test records decoded wrongly")
	}

	// Truncated file, bad label, missing file.
	bad := filepath.Join(dir, "bad.bin")
	os.WriteFile(bad, make([]byte, cifarRecord+5), 0o644)
	if _, err := ReadCIFAR10File(bad); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "bad.bin") {
		t.Errorf("truncated file: %v", err)
	}
	rec := make([]byte, cifarRecord)
	rec[0] = 12
	os.WriteFile(bad, rec, 0o644)
	if _, err := ReadCIFAR10File(bad); err == nil || !strings.Contains(err.Error(), "label 12") {
		t.Errorf("bad label: %v", err)
	}
	os.Remove(filepath.Join(dir, CIFAR10Files.Test))
	if _, _, err := LoadCIFAR10(dir); err == nil {
		t.Error("missing test batch accepted")
	}
}
