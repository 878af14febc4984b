package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestRowsRoundTrip: what writeRows writes, readRows reads back (the
// rows a resumed run extends), a missing file is no rows, and a damaged
// file is an error that names the line.
func TestRowsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "spiking.csv")
	if rows, err := readRows(path); err != nil || rows != nil {
		t.Fatalf("missing file: %v, %v; want no rows and no error", rows, err)
	}
	want := []EpochRow{
		{Epoch: 1, Samples: 55000, MeanField: 0.9123, Spiking: 0.9051, RateHz: 198.7, SpikingSeconds: 61.5},
		{Epoch: 2, Samples: 110000, MeanField: 0.9456, Spiking: 0.9402, RateHz: 1.0 / 3, SpikingSeconds: 60},
	}
	if err := writeRows(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := readRows(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read %+v, wrote %+v", got, want)
	}
	for name, body := range map[string]string{
		"short":  "epoch,samples\n1,2,3\n",
		"number": "h\n1,2,0.5,x,1,1\n",
	} {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := readRows(path); err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%s: error %v, want one naming line 2", name, err)
		}
	}
}
