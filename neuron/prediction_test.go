package neuron

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestFilteredPredictionRate: the rate soma's filtered basal prediction is
// the voltage the soma would have with its basal input alone. Without
// apical input the mismatch is exactly zero at every step, also right
// after the basal input switches (where the published, instant prediction
// takes the soma's lag for an error); with a constant apical drive c it
// settles to φ(v_ff + c) − φ(v_ff), the published steady-state mismatch.
func TestFilteredPredictionRate(t *testing.T) {
	before := []float64{-1.2, -0.1, 0, 0.4, 1.5}
	after := []float64{0.9, 0.3, -0.8, 0.4, -1.5}
	n := len(before)
	mk := func(filtered bool) (*Layer, *State) {
		l, err := NewLayer(1, Params{Size: n, Activation: Tanh, DT: 1e-3, TauV: 0.01, Soma: RateSoma{FilteredPrediction: filtered}}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		st := l.NewState(1)
		st.Basal.SetRow(0, before)
		l.Reset(st)
		return l, st
	}
	lf, sf := mk(true)
	li, si := mk(false)
	if got := lf.Soma().Extra(); len(got) != 1 || got[0] != "prediction" {
		t.Fatalf("filtered rate soma's variables %v, want [prediction]", got)
	}
	df, di := mat.NewDense(1, n, nil), mat.NewDense(1, n, nil)
	maxInstant := 0.0
	for k := range 60 {
		if k == 20 {
			sf.Basal.SetRow(0, after)
			si.Basal.SetRow(0, after)
		}
		lf.Step(sf, nil)
		li.Step(si, nil)
		lf.Mismatch(df, sf)
		li.Mismatch(di, si)
		for j := range n {
			if df.At(0, j) != 0 {
				t.Fatalf("step %d, neuron %d: filtered mismatch %g without apical input, want 0", k, j, df.At(0, j))
			}
			maxInstant = math.Max(maxInstant, math.Abs(di.At(0, j)))
		}
	}
	if maxInstant < 0.1 {
		t.Errorf("instant prediction's largest mismatch after the switch %g: the test no longer shows the lag", maxInstant)
	}
	// A constant apical drive: the mismatch settles to φ(v_ff+c) − φ(v_ff).
	const c = 0.25
	for j := range n {
		sf.Feedback.Set(0, j, c)
	}
	for range 3000 {
		lf.Step(sf, nil)
	}
	lf.Mismatch(df, sf)
	for j, v := range after {
		if want := math.Tanh(v+c) - math.Tanh(v); math.Abs(df.At(0, j)-want) > 1e-9 {
			t.Errorf("neuron %d: steady mismatch %g, want %g", j, df.At(0, j), want)
		}
	}
	if (RateSoma{}).String() == (RateSoma{FilteredPrediction: true}).String() {
		t.Error("the two rate somata print alike")
	}
}

// TestFilteredPredictionSpiking: for spiking somata the filtered
// prediction is the expected trace of spikes driven by the basal voltage
// alone, so after the input switches the mismatch averages zero over many
// neurons (it is the spikes' noise only), where the instant prediction is
// biased by the soma's and the trace's lag.
func TestFilteredPredictionSpiking(t *testing.T) {
	const batch, n = 4000, 2
	before, after := []float64{-1, 0.8}, []float64{1, -0.6}
	lf, sf := spikingLayer(t, SpikingSoma{RateMax: 400, TauSyn: 0.02, FilteredPrediction: true}, 3, batch, before)
	li, si := spikingLayer(t, SpikingSoma{RateMax: 400, TauSyn: 0.02}, 3, batch, before)
	if got := lf.Soma().Extra(); len(got) != 4 || got[2] != "prediction" || got[3] != "expected" {
		t.Fatalf("filtered spiking soma's variables %v", got)
	}
	df, di := mat.NewDense(batch, n, nil), mat.NewDense(batch, n, nil)
	for k := range 40 {
		if k == 20 {
			for b := range batch {
				sf.Basal.SetRow(b, after)
				si.Basal.SetRow(b, after)
			}
		}
		lf.Step(sf, nil)
		li.Step(si, nil)
		if k < 25 {
			continue
		}
		// 5 to 19 steps after the switch: half to two soma time constants.
		lf.Mismatch(df, sf)
		li.Mismatch(di, si)
		for j := range n {
			mf, sdf := meanSD(df, j)
			mi, _ := meanSD(di, j)
			if se := sdf / math.Sqrt(batch); math.Abs(mf) > 5*se {
				t.Errorf("step %d, neuron %d: filtered mismatch averages %.4f ± %.4f, want 0", k, j, mf, se)
			}
			if k == 30 && math.Abs(mi) < 0.2 {
				t.Errorf("step %d, neuron %d: instant mismatch averages %.4f: the test no longer shows the lag", k, j, mi)
			}
		}
	}
}

// meanSD returns the mean and standard deviation of column j of m.
func meanSD(m *mat.Dense, j int) (mean, sd float64) {
	r, _ := m.Dims()
	for i := range r {
		mean += m.At(i, j)
	}
	mean /= float64(r)
	for i := range r {
		d := m.At(i, j) - mean
		sd += d * d
	}
	return mean, math.Sqrt(sd / float64(r-1))
}

// TestIntensityMismatch checks SpikingSoma's Intensity: with the same
// spikes (same seed), the mismatch taken from the firing intensity is
// exactly zero without apical input, where the one taken from the spikes
// is only zero on average, and with a constant apical drive it is the
// spikes' mismatch averaged over their sampling: equal across samples
// (no spike variance) and equal to the spikes' mean within its error.
func TestIntensityMismatch(t *testing.T) {
	const batch, n = 4000, 2
	basal, drive := []float64{-0.5, 0.7}, []float64{0.3, -0.4}
	ls, ss := spikingLayer(t, SpikingSoma{RateMax: 400, TauSyn: 0.02, FilteredPrediction: true}, 5, batch, basal)
	li, si := spikingLayer(t, SpikingSoma{RateMax: 400, TauSyn: 0.02, FilteredPrediction: true, Intensity: true}, 5, batch, basal)
	if got := li.Soma().Extra(); len(got) != 5 || got[4] != "intensity" {
		t.Fatalf("intensity soma's variables %v", got)
	}
	ds, di := mat.NewDense(batch, n, nil), mat.NewDense(batch, n, nil)
	for k := range 60 {
		if k == 20 {
			for b := range batch {
				ss.Feedback.SetRow(b, drive)
				si.Feedback.SetRow(b, drive)
			}
		}
		ls.Step(ss, nil)
		li.Step(si, nil)
		if !mat.Equal(ss.Extra[0], si.Extra[0]) {
			t.Fatalf("step %d: the two somata spiked differently; the test needs the same spikes", k)
		}
		ls.Mismatch(ds, ss)
		li.Mismatch(di, si)
		for j := range n {
			ms, sds := meanSD(ds, j)
			mi, sdi := meanSD(di, j)
			switch {
			case k < 20 && (mi != 0 || sdi > 1e-12):
				t.Fatalf("step %d, neuron %d: intensity mismatch %g ± %g without apical input, want exactly 0", k, j, mi, sdi)
			case k < 20:
			case sdi > 1e-12: // the mean's rounding makes it not exactly 0
				t.Fatalf("step %d, neuron %d: intensity mismatch varies across identical samples (sd %g)", k, j, sdi)
			case k >= 40 && math.Abs(mi) < 0.05:
				t.Errorf("step %d, neuron %d: intensity mismatch %.4f: the apical drive should show", k, j, mi)
			case math.Abs(ms-mi) > 5*sds/math.Sqrt(batch):
				t.Errorf("step %d, neuron %d: spikes' mismatch averages %.4f ± %.4f, the intensity's is %.4f", k, j, ms, sds/math.Sqrt(batch), mi)
			}
			if k == 59 && !(sds > 0.15) {
				t.Errorf("neuron %d: the spikes' mismatch has sd %.3f; the test no longer shows their variance", j, sds)
			}
		}
	}
	if _, err := (SpikingSoma{RateMax: 400, TauSyn: 0.02, Intensity: true}).NewSoma(Params{Size: 1, Activation: Tanh, DT: 1e-3, TauV: 0.01}); err == nil {
		t.Error("intensity without the filtered prediction was accepted")
	}
}

// spikingLayer returns a layer of len(basal) neurons with soma m (dt 10⁻³,
// τ_v 0.01, noise seed seed) and its state for batch samples, every sample
// with basal voltage basal, reset.
func spikingLayer(t *testing.T, m SpikingSoma, seed uint64, batch int, basal []float64) (*Layer, *State) {
	t.Helper()
	l, err := NewLayer(1, Params{Size: len(basal), Activation: Tanh, DT: 1e-3, TauV: 0.01, Soma: m}, NewGaussian(seed), nil)
	if err != nil {
		t.Fatal(err)
	}
	st := l.NewState(batch)
	for b := range batch {
		st.Basal.SetRow(b, basal)
	}
	l.Reset(st)
	return l, st
}
