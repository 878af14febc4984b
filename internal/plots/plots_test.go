package plots

import (
	"bytes"
	"encoding/csv"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/strongdfc/strongdfc/train"
)

func history() []train.EpochResult {
	var h []train.EpochResult
	h = append(h, train.EpochResult{Phase: "pretrain", Epoch: 1, TrainLoss: 2.3, TrainAccuracy: 0.1, ValLoss: math.NaN(), ValAccuracy: math.NaN(), TestLoss: 2.2, TestAccuracy: 0.12,
		Diagnostics: map[string]float64{"control": 0.5, "gn_alignment": 0.3, "grad_norm_feedback_layer1": 2}})
	for e := 1; e <= 3; e++ {
		f := float64(e)
		h = append(h, train.EpochResult{Phase: "train", Epoch: e, TrainLoss: 1 / f, TrainAccuracy: 1 - 0.1/f, ValLoss: 1.1 / f, ValAccuracy: 1 - 0.12/f, TestLoss: 1.2 / f, TestAccuracy: 1 - 0.13/f,
			Diagnostics: map[string]float64{"control": 0.5 / f, "gn_alignment": 0.3 + f/10, "angle_layer1": 80 - f, "angle_total": 70 - f,
				"grad_norm_forward_layer1": 1 / f, "grad_norm_feedback_layer1": 2 / f, "feedback_ratio_layer1": 0}})
	}
	return h
}

func TestFigures(t *testing.T) {
	dir := t.TempDir()
	h := history()
	for name, fig := range map[string]Figure{"learning_curves": LearningCurves(h), "diagnostics": Diagnostics(h)} {
		if err := fig.Save(dir, name); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := os.ReadFile(filepath.Join(dir, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil || img.Bounds().Dx() < 500 {
			t.Fatalf("%s: not a PNG of a sensible size: %v", name, err)
		}
		f, _ := os.Open(filepath.Join(dir, name+".csv"))
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil || len(rows) < 2 || rows[0][0] != "panel" {
			t.Fatalf("%s: csv %v %v", name, rows, err)
		}
	}
	d := Diagnostics(h)
	if len(d.Panels) != 6 {
		t.Errorf("%d diagnostic panels, want 6", len(d.Panels))
	}
	// Pre-training is drawn left of training: epochs 0, 1, 2, 3.
	if x := LearningCurves(h).Panels[0].Series[0].X; x[0] != 0 || x[3] != 3 {
		t.Errorf("x = %v", x)
	}
	// One point on a log axis, and nothing but NaN or zeros, still draw.
	if err := LearningCurves(h[:1]).WritePNG(&bytes.Buffer{}); err != nil {
		t.Error(err)
	}
	var empty bytes.Buffer
	if err := (Figure{Panels: []Panel{{Title: "t", LogY: true, Series: []Series{{X: []float64{1, 2}, Y: []float64{0, math.NaN()}}}}}}).WritePNG(&empty); err != nil {
		t.Error(err)
	}
}
