// Package trace records the dynamics of one window for chosen samples:
// the control u, the output and its target, and the compartments (basal,
// apical, soma) and rates of a few neurons of every layer, every few
// steps, with learning switched off. It writes the recording as an .npz
// archive and CSV files, and draws it (the controller driving the output
// to the label).
package trace

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strconv"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/checkpoint/npz"
	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/internal/plots"
	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/neuron"
	"github.com/strongdfc/strongdfc/scheduler"
	"github.com/strongdfc/strongdfc/train"
)

// Options say what to record.
type Options struct {
	// Steps is the window's number of time indices T; Every records every
	// Every-th step (and the last one).
	Steps, Every int
	// Neurons is how many neurons of each layer to record, evenly spaced
	// (all when a layer has fewer).
	Neurons int
}

// Trace is a recorded window of S samples. Per-record arrays are
// flattened records × samples × units, row-major.
type Trace struct {
	DT      float64
	Softmax bool // the controller compares softmax(r_L) with the target
	// Steps are the recorded step indices k (time k·DT); SpikeSteps the
	// steps of the spike recordings (every step).
	Steps, SpikeSteps []int
	// Samples are the recorded samples' indices in their split, Labels
	// their classes.
	Samples, Labels []int
	Classes         int
	// U and Output are records × S × n_L; Target is S × n_L.
	U, Output, Target []float64
	Layers            []Layer
}

// Layer is the recording of a few neurons of one layer.
type Layer struct {
	Index   int   // 1..L
	Neurons []int // indices in the layer
	// Basal, Apical, Soma and Rate are records × S × len(Neurons).
	Basal, Apical, Soma, Rate []float64
	// Spikes are the layer's spikes (1 or 0) of the recorded neurons at
	// every step, steps × S × len(Neurons) (nil when the layer does not
	// spike); SpikeAll are those of all its neurons, steps × S × n, for
	// rasters of the whole population.
	Spikes, SpikeAll []float64
	Size             int // the layer's number of neurons
}

// Record runs one window of the simulated phase (its dynamics, learning
// switched off) of the run env describes on the inputs x (S × n_0) with
// targets (S × n_L), drawing noise from noise (nil: the phase's own
// source, seeded as in training), and records it. samples and labels
// describe the rows of x.
func Record(phase train.Simulated, env *train.Env, noise neuron.NoiseSource, x, target *mat.Dense, samples, labels []int, opt Options) (*Trace, error) {
	S, _ := x.Dims()
	if len(samples) != S || len(labels) != S {
		panic(fmt.Sprintf("trace: %d samples and %d labels for %d rows", len(samples), len(labels), S))
	}
	if opt.Every <= 0 || opt.Neurons <= 0 {
		return nil, fmt.Errorf("trace: every = %d and neurons = %d must be positive", opt.Every, opt.Neurons)
	}
	phase.Rules = nil
	phase.Window = scheduler.Config{Steps: opt.Steps}
	e := *env
	e.Batch = S
	c, s, _, err := phase.Build(&e, noise)
	if err != nil {
		return nil, err
	}
	net := env.Net
	nOut := net.NOut()
	t := &Trace{DT: phase.DT, Softmax: phase.Circuit.Error == circuit.SoftmaxError, Samples: samples, Labels: labels, Classes: nOut,
		Target: append([]float64(nil), target.RawMatrix().Data[:S*nOut]...)}
	for i := 1; i <= net.L(); i++ {
		t.Layers = append(t.Layers, Layer{Index: i, Neurons: spread(net.Sizes[i], opt.Neurons), Size: net.Sizes[i]})
	}
	rows := func(dst *[]float64, m *mat.Dense, cols []int) {
		for b := range S {
			r := m.RawRowView(b)
			if cols == nil {
				*dst = append(*dst, r...)
				continue
			}
			for _, j := range cols {
				*dst = append(*dst, r[j])
			}
		}
	}
	// Spikes are recorded at every step (a raster is no raster every k
	// steps).
	s.Observe(1, func(k int, _ *scheduler.Clock) {
		if k == 0 {
			t.SpikeSteps = t.SpikeSteps[:0]
		}
		t.SpikeSteps = append(t.SpikeSteps, k)
		for i := range t.Layers {
			l := &t.Layers[i]
			if v := neuron.Spikes(c.Layer(l.Index).Soma()); v >= 0 {
				sp := c.State(l.Index).Extra[v]
				rows(&l.Spikes, sp, l.Neurons)
				rows(&l.SpikeAll, sp, nil)
			}
		}
	})
	s.Observe(opt.Every, func(k int, _ *scheduler.Clock) {
		t.Steps = append(t.Steps, k)
		rows(&t.U, c.Controller().U, nil)
		rows(&t.Output, c.Output(), nil)
		for i := range t.Layers {
			l := &t.Layers[i]
			st := c.State(l.Index)
			rows(&l.Basal, st.Basal, l.Neurons)
			rows(&l.Apical, st.Apical, l.Neurons)
			rows(&l.Soma, st.Soma, l.Neurons)
			rows(&l.Rate, st.Rate, l.Neurons)
		}
	})
	if err := s.Window(c, x, target); err != nil {
		return nil, err
	}
	return t, nil
}

// spread returns k indices evenly spaced over 0..n-1 (all n when k ≥ n).
func spread(n, k int) []int {
	k = min(k, n)
	out := make([]int, k)
	for j := range out {
		out[j] = j * n / k
	}
	return out
}

// Arrays returns the recording as named arrays for an .npz archive:
// t and k (records), samples and labels (S), u and output (records × S ×
// n_L), target (S × n_L), and for each layer I layerI.neurons and
// layerI.{basal,apical,soma,rate} (records × S × neurons).
func (t *Trace) Arrays() []npz.Array {
	K, S := len(t.Steps), len(t.Samples)
	ints := func(x []int) []int64 {
		out := make([]int64, len(x))
		for i, v := range x {
			out[i] = int64(v)
		}
		return out
	}
	time := make([]float64, K)
	for i, k := range t.Steps {
		time[i] = float64(k) * t.DT
	}
	a := []npz.Array{
		npz.Float64("t", time), npz.Int64("k", ints(t.Steps)),
		npz.Int64("samples", ints(t.Samples)), npz.Int64("labels", ints(t.Labels)),
		npz.Float64("u", t.U, K, S, t.Classes), npz.Float64("output", t.Output, K, S, t.Classes),
		npz.Float64("target", t.Target, S, t.Classes),
	}
	for _, l := range t.Layers {
		p := "layer" + strconv.Itoa(l.Index) + "."
		n := len(l.Neurons)
		a = append(a, npz.Int64(p+"neurons", ints(l.Neurons)),
			npz.Float64(p+"basal", l.Basal, K, S, n), npz.Float64(p+"apical", l.Apical, K, S, n),
			npz.Float64(p+"soma", l.Soma, K, S, n), npz.Float64(p+"rate", l.Rate, K, S, n))
		if l.SpikeAll != nil {
			a = append(a, npz.Float64(p+"spikes", l.SpikeAll, len(t.SpikeSteps), S, l.Size))
		}
	}
	return a
}

// softmaxAt returns softmax of the output of record r, sample b.
func (t *Trace) softmaxAt(r, b int) []float64 {
	n := t.Classes
	y := t.Output[(r*len(t.Samples)+b)*n:][:n]
	out := make([]float64, n)
	circuit.SoftmaxRow(out, y)
	return out
}

// WriteControlCSV writes one row per record, sample and class: k, t,
// sample, class, u, output, softmax (of the output), target.
func (t *Trace) WriteControlCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"k", "t", "sample", "class", "u", "output", "softmax", "target"}) //nolint:errcheck
	S, n := len(t.Samples), t.Classes
	for r, k := range t.Steps {
		for b := range S {
			sm := t.softmaxAt(r, b)
			for j := range n {
				i := (r*S+b)*n + j
				cw.Write([]string{strconv.Itoa(k), g(float64(k) * t.DT), strconv.Itoa(t.Samples[b]), strconv.Itoa(j), //nolint:errcheck
					g(t.U[i]), g(t.Output[i]), g(sm[j]), g(t.Target[b*n+j])})
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteNeuronsCSV writes one row per record, sample and recorded neuron:
// k, t, sample, layer, neuron, basal, apical, soma, rate.
func (t *Trace) WriteNeuronsCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"k", "t", "sample", "layer", "neuron", "basal", "apical", "soma", "rate"}) //nolint:errcheck
	S := len(t.Samples)
	for r, k := range t.Steps {
		for b := range S {
			for _, l := range t.Layers {
				n := len(l.Neurons)
				for j, idx := range l.Neurons {
					i := (r*S+b)*n + j
					cw.Write([]string{strconv.Itoa(k), g(float64(k) * t.DT), strconv.Itoa(t.Samples[b]), strconv.Itoa(l.Index), //nolint:errcheck
						strconv.Itoa(idx), g(l.Basal[i]), g(l.Apical[i]), g(l.Soma[i]), g(l.Rate[i])})
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func g(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// Figure draws the window, one row of panels per sample: the control u;
// the output (its softmax when the controller compares that) with the
// target dashed; the somatic (solid) and basal (dashed) voltages of the
// first recorded neuron of each layer; and their apical voltages.
func (t *Trace) Figure() plots.Figure {
	S, n := len(t.Samples), t.Classes
	time := make([]float64, len(t.Steps))
	for i, k := range t.Steps {
		time[i] = float64(k) * t.DT
	}
	fig := plots.Figure{Cols: 4}
	outName, outAxis := "output r_L", "r_L (a.u.)"
	if t.Softmax {
		outName, outAxis = "softmax(r_L)", "softmax(r_L)"
	}
	xl := t.TimeAxis()
	for b := range S {
		title := fmt.Sprintf("sample %d (label %d)", t.Samples[b], t.Labels[b])
		u := plots.Panel{Title: title + ": control u", XLabel: xl, YLabel: "u (a.u.)"}
		out := plots.Panel{Title: title + ": " + outName + " and target", XLabel: xl, YLabel: outAxis}
		for j := range n {
			uy, oy, ty := make([]float64, len(t.Steps)), make([]float64, len(t.Steps)), make([]float64, len(t.Steps))
			for r := range t.Steps {
				i := (r*S+b)*n + j
				uy[r] = t.U[i]
				oy[r] = t.Output[i]
				if t.Softmax {
					oy[r] = t.softmaxAt(r, b)[j]
				}
				ty[r] = t.Target[b*n+j]
			}
			name := "class " + strconv.Itoa(j)
			u.Series = append(u.Series, plots.Series{Name: name, X: time, Y: uy, Color: j})
			out.Series = append(out.Series, plots.Series{Name: name, X: time, Y: oy, Color: j})
			if j == t.Labels[b] || n <= 4 {
				out.Series = append(out.Series, plots.Series{Name: name + " target", X: time, Y: ty, Color: j, Dashed: true})
			}
		}
		soma := plots.Panel{Title: title + ": soma (solid), basal (dashed)", XLabel: xl, YLabel: "voltage (a.u.)"}
		apical := plots.Panel{Title: title + ": apical", XLabel: xl, YLabel: "apical voltage v_fb (a.u.)"}
		for li, l := range t.Layers {
			if len(l.Neurons) == 0 {
				continue
			}
			m := len(l.Neurons)
			vs, vb, va := make([]float64, len(t.Steps)), make([]float64, len(t.Steps)), make([]float64, len(t.Steps))
			for r := range t.Steps {
				i := (r*S + b) * m
				vs[r], vb[r], va[r] = l.Soma[i], l.Basal[i], l.Apical[i]
			}
			name := fmt.Sprintf("layer %d neuron %d", l.Index, l.Neurons[0])
			soma.Series = append(soma.Series,
				plots.Series{Name: name, X: time, Y: vs, Color: li},
				plots.Series{X: time, Y: vb, Color: li, Dashed: true})
			apical.Series = append(apical.Series, plots.Series{Name: name, X: time, Y: va, Color: li})
		}
		fig.Panels = append(fig.Panels, u, out, soma, apical)
		if r, ok := t.raster(b); ok {
			fig.Panels = append(fig.Panels, r)
			fig.Cols = 5
		}
	}
	return fig
}

// TimeAxis labels the time axis of the figures: time t = k·dt, in the
// unit of dt and of the model's time constants (which the configuration
// gives in one arbitrary unit), dt written with three digits at most.
func (t *Trace) TimeAxis() string {
	return fmt.Sprintf("time t = k·dt (unit of dt and τ; dt = %.3g)", t.DT)
}

// rasterNeurons is the number of neurons per layer a raster shows.
const rasterNeurons = 40

// raster draws the spikes of sample b: for each spiking layer the first
// rasterNeurons neurons, one row each, layers stacked.
func (t *Trace) raster(b int) (plots.Panel, bool) {
	S := len(t.Samples)
	p := plots.Panel{Title: fmt.Sprintf("sample %d: spikes", t.Samples[b]), XLabel: t.TimeAxis(), YLabel: "neuron (layers stacked)"}
	row := 0
	for li, l := range t.Layers {
		if l.SpikeAll == nil {
			continue
		}
		m := min(rasterNeurons, l.Size)
		var x, y []float64
		for r, k := range t.SpikeSteps {
			base := (r*S + b) * l.Size
			for j := range m {
				if l.SpikeAll[base+j] != 0 {
					x = append(x, float64(k)*t.DT)
					y = append(y, float64(row+j))
				}
			}
		}
		p.Series = append(p.Series, plots.Series{Name: fmt.Sprintf("layer %d", l.Index), X: x, Y: y, Color: li, Ticks: true})
		row += m + 2
	}
	return p, len(p.Series) > 0
}

// Save writes the recording to dir: trace.npz (with the configuration as
// config.json when cfgJSON is not nil), control.csv, neurons.csv, and
// trace.png with its data as trace.csv.
func (t *Trace) Save(dir string, cfgJSON json.RawMessage) error {
	arrays := t.Arrays()
	if cfgJSON != nil {
		arrays = append(arrays, npz.Bytes("config.json", cfgJSON))
	}
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{"trace.npz", func(w io.Writer) error { return npz.Write(w, arrays) }},
		{"control.csv", t.WriteControlCSV},
		{"neurons.csv", t.WriteNeuronsCSV},
	}
	for _, f := range files {
		if err := runfolder.WriteAtomic(filepath.Join(dir, f.name), f.write); err != nil {
			return err
		}
	}
	return t.Figure().Save(dir, "trace")
}
