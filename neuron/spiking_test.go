package neuron

import (
	"math"
	"testing"
)

// TestSpikingRate: a spiking neuron held at a constant somatic voltage
// fires at RateMax·φ⁺(v) (within four binomial standard deviations), for
// several voltages and time steps, so that its decoded trace estimates
// tanh(v) without bias; a bad constant is refused.
func TestSpikingRate(t *testing.T) {
	for _, dt := range []float64{1e-3, 2e-4} {
		const steps = 200000
		m := SpikingSoma{RateMax: 400, TauSyn: 0.02}
		vs := []float64{-1.5, -0.3, 0, 0.8, 2}
		p := Params{Size: len(vs), Activation: Tanh, DT: dt, TauV: 0.01, Soma: m}
		g := NewGaussian(7)
		l, err := NewLayer(1, p, g, nil)
		if err != nil {
			t.Fatal(err)
		}
		st := l.NewState(1)
		st.Basal.SetRow(0, vs)
		l.Reset(st)
		count := make([]float64, len(vs))
		mean := make([]float64, len(vs))
		spike := st.Extra[Spikes(l.Soma())]
		for range steps {
			l.Step(st, nil)
			for j := range vs {
				count[j] += spike.At(0, j)
				mean[j] += st.Rate.At(0, j) / steps
			}
		}
		for j, v := range vs {
			pr := m.RateMax * dt * 0.5 * (1 + math.Tanh(v))
			want := pr * steps
			sd := math.Sqrt(steps * pr * (1 - pr))
			if math.Abs(count[j]-want) > 4*sd+1 {
				t.Errorf("dt %g, v = %g: %g spikes in %d steps, want %.1f ± %.1f", dt, v, count[j], steps, want, sd)
			}
			// The trace averages the spikes: decoded, their rate.
			if got := 2*count[j]/(steps*m.RateMax*dt) - 1; math.Abs(mean[j]-got) > 0.005 {
				t.Errorf("dt %g, v = %g: decoded trace averages %.4f, the spikes' decoded rate is %.4f", dt, v, mean[j], got)
			}
		}
	}
	bad := []SpikingSoma{{RateMax: 2000, TauSyn: 0.01}, {RateMax: 100, TauSyn: 1e-4}, {RateMax: 0, TauSyn: 0.01}}
	for _, m := range bad {
		if _, err := NewLayer(1, Params{Size: 2, Activation: Tanh, DT: 1e-3, TauV: 0.01, Soma: m}, NewGaussian(1), nil); err == nil {
			t.Errorf("%v accepted", m)
		}
	}
	if _, err := NewLayer(1, Params{Size: 2, Activation: Linear, DT: 1e-3, TauV: 0.01, Soma: SpikingSoma{RateMax: 100, TauSyn: 0.01}}, NewGaussian(1), nil); err == nil {
		t.Error("a spiking soma with a linear rate accepted")
	}
	if _, err := NewLayer(1, Params{Size: 2, Activation: Tanh, DT: 1e-3, TauV: 0.01, Soma: SpikingSoma{RateMax: 100, TauSyn: 0.01}}, nil, nil); err == nil {
		t.Error("a spiking soma without a noise source accepted")
	}
}
