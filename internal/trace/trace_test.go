package trace

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/checkpoint/npz"
	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/neuron"
	"github.com/strongdfc/strongdfc/presets"
	"github.com/strongdfc/strongdfc/train"
)

// TestRecord: the recording has the announced shapes, and the controller
// drives the output's softmax toward the label over the window (strong
// feedback).
func TestRecord(t *testing.T) {
	cfg := presets.MNIST()
	net, err := circuit.MLP([]int{6, 8, 8, 4}, neuron.Tanh)
	if err != nil {
		t.Fatal(err)
	}
	net.Init(rand.New(rand.NewPCG(1, 2)))
	x := mat.NewDense(2, 6, []float64{0.1, -0.3, 0.5, 0.2, 0, 1, -1, 0.4, 0.3, 0.2, 0.1, 0})
	labels := []int{2, 0}
	tg := mat.NewDense(2, 4, nil)
	circuit.SetSoftTargets(tg, labels, 0.99)
	m, err := cfg.MethodSpec()
	if err != nil {
		t.Fatal(err)
	}
	env, err := train.NewEnv(cfg, m, net, 2, cfg.Seed, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := Record(m.Phase("train").(train.Simulated), env, neuron.NewGaussian(3), x, tg, []int{5, 9}, labels, Options{Steps: 301, Every: 10, Neurons: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.Steps) != 31 || tr.Steps[30] != 300 || len(tr.U) != 31*2*4 || len(tr.Layers) != 3 || len(tr.Layers[2].Neurons) != 3 {
		t.Fatalf("recorded %d steps, %d u values, %d layers", len(tr.Steps), len(tr.U), len(tr.Layers))
	}
	if got := tr.Layers[0].Neurons; got[0] != 0 || got[1] != 2 || got[2] != 5 {
		t.Errorf("neurons %v", got)
	}
	last := len(tr.Steps) - 1
	for b, l := range labels {
		before, after := tr.softmaxAt(0, b)[l], tr.softmaxAt(last, b)[l]
		if !(after > before && math.Abs(after-0.99) < math.Abs(before-0.99)) {
			t.Errorf("sample %d: softmax of the label %.3f at the start, %.3f at the end", b, before, after)
		}
	}
	dir := t.TempDir()
	if err := tr.Save(dir, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "trace.npz"))
	arrays, err := npz.Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	set := npz.NewSet("trace.npz", arrays)
	if _, err := set.Float64("layer2.soma", 31, 2, 3); err != nil {
		t.Error(err)
	}
	if _, err := set.Float64("u", 31, 2, 4); err != nil {
		t.Error(err)
	}
	for _, f := range []string{"control.csv", "neurons.csv", "trace.png", "trace.csv"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	// Axes with units: time in the unit of dt (and its value), voltages
	// in arbitrary units.
	for _, pn := range tr.Figure().Panels {
		if !strings.Contains(pn.XLabel, "dt = 0.001") {
			t.Errorf("%s: time axis %q does not give dt", pn.Title, pn.XLabel)
		}
		if strings.Contains(pn.Title, "soma") || strings.Contains(pn.Title, "apical") || strings.Contains(pn.Title, "control") {
			if !strings.Contains(pn.YLabel, "(a.u.)") {
				t.Errorf("%s: y axis %q has no unit", pn.Title, pn.YLabel)
			}
		}
	}
}

// TestTimeAxis: dt is written with three digits, not seventeen.
func TestTimeAxis(t *testing.T) {
	tr := &Trace{DT: 0.0031943783402810927}
	if got := tr.TimeAxis(); !strings.Contains(got, "dt = 0.00319)") {
		t.Errorf("time axis %q", got)
	}
}
