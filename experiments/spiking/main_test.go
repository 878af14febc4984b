package main

import (
	"math"
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
	if _, err := parseSteps("200,x"); err == nil {
		t.Error("parseSteps accepted 200,x")
	}
	if s, err := parseSteps("200, 1000"); err != nil || !reflect.DeepEqual(s, []int{200, 1000}) {
		t.Errorf("parseSteps(200, 1000) = %v, %v", s, err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "spiking.csv")
	if rows, err := readRows(path); err != nil || rows != nil {
		t.Fatalf("missing file: %v, %v; want no rows and no error", rows, err)
	}
	want := []EpochRow{
		{Epoch: 1, Samples: 55000, MeanField: 0.9123, Spiking: 0.9051, RateHz: 198.7, SpikingSeconds: 61.5,
			EvalSteps: 200, ByTime: map[int]float64{200: 0.9051}},
		{Epoch: 2, Samples: 110000, MeanField: 0.9456, Spiking: 0.9402, RateHz: 1.0 / 3, SpikingSeconds: 60,
			EvalSteps: 1000, ByTime: map[int]float64{200: 0.93, 1000: 0.9402, 500: 0.935}},
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
	// A spiking.csv of the runs before eval_steps: its accuracies are
	// after 200 steps, and a resumed run adds the new columns.
	old := "epoch,samples,mean_field_test_accuracy,spiking_test_accuracy,mean_rate,spiking_eval_seconds\n" +
		"3,165000,0.9321,0.8932,200.1,109.5\n"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err = readRows(path)
	if err != nil {
		t.Fatal(err)
	}
	wantOld := []EpochRow{{Epoch: 3, Samples: 165000, MeanField: 0.9321, Spiking: 0.8932, RateHz: 200.1, SpikingSeconds: 109.5,
		EvalSteps: 200, ByTime: map[int]float64{200: 0.8932}}}
	if !reflect.DeepEqual(got, wantOld) {
		t.Errorf("old file: read %+v, want %+v", got, wantOld)
	}
	both := append(got, want[1])
	if err := writeRows(path, both); err != nil {
		t.Fatal(err)
	}
	if got, err = readRows(path); err != nil || !reflect.DeepEqual(got, both) {
		t.Errorf("old row and new row: read %+v (%v), wrote %+v", got, err, both)
	}
	for name, body := range map[string]string{
		"short":  "epoch,samples,mean_field_test_accuracy,spiking_test_accuracy,mean_rate,spiking_eval_seconds\n1,2,3\n",
		"number": "epoch,samples,mean_field_test_accuracy,spiking_test_accuracy,mean_rate,spiking_eval_seconds\n1,2,0.5,x,1,1\n",
	} {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := readRows(path); err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%s: error %v, want one naming line 2", name, err)
		}
	}
}

// TestCurves: the learning curves have the mean field and one spiking
// series per presentation time (not drawn where a row was not measured
// at it), and drawCurves writes the figure, or says that the run to
// compare with has no history.
func TestCurves(t *testing.T) {
	rows := []EpochRow{
		{Epoch: 1, MeanField: 0.91, Spiking: 0.90, RateHz: 200, EvalSteps: 200, ByTime: map[int]float64{200: 0.90}},
		{Epoch: 2, MeanField: 0.93, Spiking: 0.92, RateHz: 199, EvalSteps: 1000, ByTime: map[int]float64{200: 0.89, 1000: 0.92}},
	}
	fig := spikingFigure(rows)
	acc := fig.Panels[0]
	if len(acc.Series) != 3 {
		t.Fatalf("%d accuracy series, want 3 (mean field, 200 and 1000 steps)", len(acc.Series))
	}
	if got := acc.Series[2].Y; !math.IsNaN(got[0]) || got[1] != 92 {
		t.Errorf("1000-step series %v, want [NaN 92]", got)
	}
	dir := t.TempDir()
	if err := drawCurves(dir, rows, ""); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(dir, curveName+".png")); err != nil || st.Size() == 0 {
		t.Errorf("no figure: %v", err)
	}
	if err := drawCurves(dir, rows, filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "compare") {
		t.Errorf("compare with a missing run: %v, want an error that says compare", err)
	}
}
