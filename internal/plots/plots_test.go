package plots

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

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
	for name, fig := range map[string]Figure{"learning_curves": LearningCurves(h, "cross-entropy"), "diagnostics": Diagnostics(h)} {
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
	if x := LearningCurves(h, "cross-entropy").Panels[0].Series[0].X; x[0] != 0 || x[3] != 3 {
		t.Errorf("x = %v", x)
	}
	// One point on a log axis, and nothing but NaN or zeros, still draw.
	if err := LearningCurves(h[:1], "cross-entropy").WritePNG(&bytes.Buffer{}); err != nil {
		t.Error(err)
	}
	var empty bytes.Buffer
	if err := (Figure{Panels: []Panel{{Title: "t", LogY: true, Series: []Series{{X: []float64{1, 2}, Y: []float64{0, math.NaN()}}}}}}).WritePNG(&empty); err != nil {
		t.Error(err)
	}
}

// labels returns the labelled ticks of an axis range.
func labels(tk plot.Ticker, lo, hi float64) (vals []float64, text []string) {
	for _, t := range tk.Ticks(lo, hi) {
		if t.Label != "" {
			vals = append(vals, t.Value)
			text = append(text, t.Label)
		}
	}
	return vals, text
}

// TestLogAxis: a log axis spans whole decades, is labelled at powers of
// ten (and 2 and 5 times them on short axes) below and above every point,
// and says it is a log scale.
func TestLogAxis(t *testing.T) {
	pn := Panel{Title: "H", YLabel: "H", LogY: true, Series: []Series{{Name: "control", X: []float64{1, 2, 3}, Y: []float64{0.0025, 0.01, 0.0175}}}}
	p, err := pn.plot()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Y.Label.Text, "log scale") {
		t.Errorf("label %q does not say log scale", p.Y.Label.Text)
	}
	if p.Y.Min != 1e-3 || p.Y.Max != 0.1 {
		t.Errorf("axis %g..%g, want the decades 0.001..0.1", p.Y.Min, p.Y.Max)
	}
	vals, text := labels(p.Y.Tick.Marker, p.Y.Min, p.Y.Max)
	if len(vals) < 3 || vals[0] > 0.0025 || vals[len(vals)-1] < 0.0175 {
		t.Errorf("labelled ticks %v do not enclose the data", text)
	}
	for i, v := range vals {
		m := v / math.Pow(10, math.Floor(math.Log10(v)+1e-9))
		if math.Abs(m-1) > 1e-9 && math.Abs(m-2) > 1e-9 && math.Abs(m-5) > 1e-9 {
			t.Errorf("tick %s is not 1, 2 or 5 times a power of ten", text[i])
		}
	}
	// A long axis: powers of ten only, all in e notation.
	_, text = labels(logTicks{}, 1e-6, 10)
	if strings.Join(text, " ") != "1e-6 1e-5 1e-4 1e-3 1e-2 1e-1 1e0 1e1" {
		t.Errorf("long axis labels %v", text)
	}
	// One style per axis: decimals where they all read short, else
	// powers of ten (never 5e-06 next to 0.001).
	for _, tc := range []struct {
		lo, hi float64
		want   string
	}{
		{1e-3, 0.1, "0.001 0.002 0.005 0.01 0.02 0.05 0.1"},
		{1, 100, "1 2 5 10 20 50 100"},
		{1e-7, 1e-5, "1e-7 2e-7 5e-7 1e-6 2e-6 5e-6 1e-5"},
		{1e-4, 0.1, "1e-4 1e-3 1e-2 1e-1"},
		{1e3, 1e6, "1e3 1e4 1e5 1e6"},
	} {
		if _, text := labels(logTicks{}, tc.lo, tc.hi); strings.Join(text, " ") != tc.want {
			t.Errorf("axis %g..%g: labels %v, want %s", tc.lo, tc.hi, text, tc.want)
		}
	}
}

// TestDiagnosticsAxes: every diagnostic panel spans all epochs (here
// pre-training at 0 to training epoch 3, also the panels that only
// training epochs have), and legends name layers and the training
// epochs in words, not as keys.
func TestDiagnosticsAxes(t *testing.T) {
	fig := Diagnostics(history())
	for _, pn := range fig.Panels {
		p, err := pn.plot()
		if err != nil {
			t.Fatal(err)
		}
		if p.X.Min > 0 || p.X.Max < 3 {
			t.Errorf("%s: x axis %g..%g, want all epochs 0..3", pn.Title, p.X.Min, p.X.Max)
		}
		for _, s := range pn.Series {
			if strings.Contains(s.Name, "_") || s.Name == "control" || strings.HasPrefix(s.Name, "layer") && !strings.HasPrefix(s.Name, "layer ") {
				t.Errorf("%s: legend entry %q is a key", pn.Title, s.Name)
			}
		}
	}
	// A run of pre-training alone: its one series is not called training.
	for _, pn := range Diagnostics(history()[:1]).Panels {
		for _, s := range pn.Series {
			if s.Name == "training" {
				t.Errorf("%s: pre-training drawn as training", pn.Title)
			}
		}
	}
}

// TestCurves: the learning curves' loss axis shows the change (a range
// of 2.29..2.40 fills the panel, on a linear axis), validation is dashed
// and drawn over test, and a one-epoch run has whole-epoch ticks.
func TestCurves(t *testing.T) {
	var h []train.EpochResult
	for e, l := range []float64{2.40, 2.35, 2.29} {
		h = append(h, train.EpochResult{Phase: "train", Epoch: e + 1, TrainLoss: l, ValLoss: l + 0.001, TestLoss: l, TrainAccuracy: 0.1, ValAccuracy: 0.1, TestAccuracy: 0.1})
	}
	fig := LearningCurves(h, "cross-entropy")
	loss := fig.Panels[0]
	p, err := loss.plot()
	if err != nil {
		t.Fatal(err)
	}
	if loss.LogY || p.Y.Max-p.Y.Min > 0.2 || p.Y.Min > 2.29 || p.Y.Max < 2.401 {
		t.Errorf("loss axis %g..%g (log %v) for losses 2.29..2.40", p.Y.Min, p.Y.Max, loss.LogY)
	}
	idx := map[string]int{}
	for i, s := range loss.Series {
		idx[s.Name] = i
	}
	if v, te := loss.Series[idx["validation"]], loss.Series[idx["test"]]; !v.Dashed || te.Dashed || idx["validation"] < idx["test"] || v.Marker == te.Marker {
		t.Errorf("validation %+v and test %+v: validation must be dashed, marked otherwise, and drawn last", v, te)
	}
	one := LearningCurves(h[:1], "cross-entropy").Panels[1]
	p, _ = one.plot()
	vals, text := labels(p.X.Tick.Marker, p.X.Min, p.X.Max)
	if len(vals) != 1 || text[0] != "1" {
		t.Errorf("one epoch: x ticks %v, want just 1", text)
	}
	_, text = labels(integerTicks{}, -19, 40)
	for _, l := range text {
		if strings.Contains(l, ".") {
			t.Errorf("epoch tick %q is not a whole number", l)
		}
	}
	if len(text) > 11 {
		t.Errorf("%d epoch ticks", len(text))
	}
}

// TestSleep: the sleep rows of a two-phase run appear in the
// diagnostics, between the training epochs, in their own style.
func TestSleep(t *testing.T) {
	var h []train.EpochResult
	h = append(h, train.EpochResult{Phase: "pretrain", Epoch: 1, Diagnostics: map[string]float64{"gn_alignment": 0.1, "grad_norm_feedback_layer1": 1}})
	for e := 1; e <= 2; e++ {
		h = append(h,
			train.EpochResult{Phase: "sleep", Epoch: e, Diagnostics: map[string]float64{"gn_alignment": 0.5, "grad_norm_feedback_layer1": 0.5}},
			train.EpochResult{Phase: "train", Epoch: e, Diagnostics: map[string]float64{"gn_alignment": 0.3, "grad_norm_feedback_layer1": 2, "angle_total": 80}})
	}
	if x := epochX(h); fmt.Sprint(x) != "[0 0.5 1 1.5 2]" {
		t.Errorf("x = %v", x)
	}
	fig := Diagnostics(h)
	var gn *Panel
	for i := range fig.Panels {
		if strings.Contains(fig.Panels[i].Title, "Gauss-Newton") {
			gn = &fig.Panels[i]
		}
	}
	if gn == nil {
		t.Fatal("no GN alignment panel")
	}
	sleepShown := false
	for _, s := range gn.Series {
		if len(s.Y) == len(h) && s.Y[1] == 0.5 && s.Y[3] == 0.5 && s.Dashed && s.Marker != "" {
			sleepShown = true
		}
	}
	if !sleepShown {
		t.Errorf("the sleep epochs' alignment is not drawn in a style of its own: %+v", gn.Series)
	}
	if !strings.Contains(gn.XLabel, "sleep") {
		t.Errorf("x label %q does not say where sleep is", gn.XLabel)
	}
	// The learning curves show the network before training once, at 0.
	_, x := curvePoints(h)
	if fmt.Sprint(x) != "[0 1 2]" {
		t.Errorf("learning curve x = %v", x)
	}
}

// TestLegendBeside: a panel's legend gets a strip of its own beside the
// plot, wide enough for its longest entry.
func TestLegendBeside(t *testing.T) {
	pn := Panel{Series: []Series{{Name: "a rather long series name", X: []float64{0, 1}, Y: []float64{0, 1}}}}
	p, err := pn.plot()
	if err != nil {
		t.Fatal(err)
	}
	w := legendWidth(p.Legend)
	text := p.Legend.TextStyle.Width("a rather long series name")
	if w <= text {
		t.Errorf("legend width %v for a text of %v", w, text)
	}
	c := draw.New(vgimg.New(6*vg.Inch, 4*vg.Inch))
	pc, lc := split(c, w)
	if pc.Max.X >= lc.Min.X || lc.Max.X-lc.Min.X < text {
		t.Errorf("plot %v and legend %v overlap or the legend is too narrow", pc.Rectangle, lc.Rectangle)
	}
	// And the figure draws it there: the figure is wider by the legend.
	var b bytes.Buffer
	if err := (Figure{Panels: []Panel{pn}}).WritePNG(&b); err != nil {
		t.Fatal(err)
	}
	img, _ := png.Decode(&b)
	if got, want := img.Bounds().Dx(), int((6*vg.Inch + w).Dots(vgimg.DefaultDPI)); got < want-2 {
		t.Errorf("figure %d px wide, want %d (6 in and the legend)", got, want)
	}
}

// TestLinearAxis: a linear axis fitted to the data has a labelled tick
// below its lowest point and one above its highest (a point below the
// lowest label reads as off the scale), and still shows the change.
func TestLinearAxis(t *testing.T) {
	for _, d := range [][2]float64{{0.2243, 0.2291}, {2.29, 2.40}, {8, 14}, {-3.7, 91.2}, {0.5, 0.5}, {1e-7, 3e-7}} {
		pn := Panel{Series: []Series{{X: []float64{0, 1}, Y: d[:]}}}
		p, err := pn.plot()
		if err != nil {
			t.Fatal(err)
		}
		vals, text := labels(p.Y.Tick.Marker, p.Y.Min, p.Y.Max)
		if len(vals) < 3 || vals[0] > d[0] || vals[len(vals)-1] < d[1] {
			t.Errorf("data %g..%g: labels %v do not enclose them", d[0], d[1], text)
		}
		if r := d[1] - d[0]; r > 0 && p.Y.Max-p.Y.Min > 3*r {
			t.Errorf("data %g..%g: axis %g..%g hides the change", d[0], d[1], p.Y.Min, p.Y.Max)
		}
	}
}

// TestCurvesAutoencoder: an autoencoder's figure names its loss and has
// no empty accuracy panel; without an epoch 0 the axis does not promise
// one.
func TestCurvesAutoencoder(t *testing.T) {
	var h []train.EpochResult
	for e := 1; e <= 2; e++ {
		h = append(h, train.EpochResult{Phase: "train", Epoch: e, TrainLoss: 1.05, ValLoss: 1.06, TestLoss: 1.07,
			TrainAccuracy: math.NaN(), ValAccuracy: math.NaN(), TestAccuracy: math.NaN()})
	}
	fig := LearningCurves(h, "mean squared error")
	if len(fig.Panels) != 1 || fig.Panels[0].Title != "loss (mean squared error)" {
		t.Fatalf("panels %+v", fig.Panels)
	}
	if fig.Panels[0].XLabel != "epoch" {
		t.Errorf("x label %q for a run without epoch 0", fig.Panels[0].XLabel)
	}
	if err := fig.WritePNG(&bytes.Buffer{}); err != nil {
		t.Error(err)
	}
}

// TestFixedYRange: a panel with YMin < YMax shows that range (2 % to
// spare), labelled 0, 20, …, 100 for an accuracy, whatever its data: a
// curve stuck at 0 % is not drawn in the middle of an axis that goes
// below zero.
func TestFixedYRange(t *testing.T) {
	pn := Panel{YMin: 0, YMax: 100, Series: []Series{{Name: "task 1", X: []float64{0, 1, 2}, Y: []float64{0, 0, 49}}}}
	p, err := pn.plot()
	if err != nil {
		t.Fatal(err)
	}
	if p.Y.Min != -2 || p.Y.Max != 102 {
		t.Errorf("axis %g..%g, want -2..102", p.Y.Min, p.Y.Max)
	}
	_, text := labels(p.Y.Tick.Marker, p.Y.Min, p.Y.Max)
	if strings.Join(text, " ") != "0 20 40 60 80 100" {
		t.Errorf("labels %q, want 0 20 … 100", text)
	}
}
