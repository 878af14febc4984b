package live

import (
	"math"
	"strconv"
	"time"

	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/internal/trace"
)

// WindowFile is the file of the run folder that holds the last recorded
// window (a Window as JSON, with the history of ‖ū‖).
const WindowFile = "window.json"

// Short is a float64 that JSON writes with 5 significant digits (null when
// it is not finite): plenty for a picture, a third of the bytes.
type Short float64

// MarshalJSON writes the number rounded to 5 significant digits.
func (x Short) MarshalJSON() ([]byte, error) {
	f := float64(x)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', 5, 64), nil
}

// UnmarshalJSON reads a number, null as NaN.
func (x *Short) UnmarshalJSON(b []byte) error {
	var n Num
	err := n.UnmarshalJSON(b)
	*x = Short(n)
	return err
}

// Window is one recorded window of a few samples, as the page draws it.
type Window struct {
	// Recorded is when the recording ended, Seconds how long it took,
	// CPUSeconds the CPU time it took (null where not measured: Linux
	// only).
	Recorded   time.Time `json:"recorded"`
	Seconds    float64   `json:"seconds"`
	CPUSeconds Num       `json:"cpu_seconds"`
	// Where the run was when its weights were copied: phase, epoch,
	// minibatch done of the epoch's Batches, and X on the epoch axis.
	Phase   string  `json:"phase"`
	Epoch   int     `json:"epoch"`
	Batch   int     `json:"batch"`
	Batches int     `json:"batches"`
	X       float64 `json:"x"`
	// DT is the Euler step; T the recorded times k·DT (simulation units).
	DT float64 `json:"dt"`
	T  []Short `json:"t"`
	// Softmax says whether Output holds softmax(r_L) (what the controller
	// compares with the target) rather than r_L.
	Softmax bool `json:"softmax"`
	// Split the samples come from; Outputs the output units shown (all
	// classes, or a few evenly spaced units of a large output).
	Split   string         `json:"split"`
	Outputs []int          `json:"outputs"`
	Samples []WindowSample `json:"samples"`
	// UNorm is ‖ū‖ (see UPoint) of this window; History all such points
	// of the run so far (so that a run's folder keeps them).
	UNorm   float64  `json:"u_norm"`
	History []UPoint `json:"u_norm_history"`
}

// WindowSample is the recording of one sample: its index in the split,
// its label, and per shown output unit the target, the control u and the
// output over time ([unit][record]).
type WindowSample struct {
	Index  int           `json:"index"`
	Label  int           `json:"label"`
	Target []Short       `json:"target"`
	U      [][]Short     `json:"u"`
	Output [][]Short     `json:"output"`
	Layers []WindowLayer `json:"layers"`
}

// WindowLayer holds, for a few neurons of one layer, their compartments'
// voltages and rate over time ([neuron][record]). A layer of spiking
// neurons also has the spike times of a few more of its neurons,
// SpikeNeurons, for a raster ([neuron][spike], every step recorded); a
// layer of rate neurons has neither.
type WindowLayer struct {
	Layer        int       `json:"layer"`
	Neurons      []int     `json:"neurons"`
	Soma         [][]Short `json:"soma"`
	Basal        [][]Short `json:"basal"`
	Apical       [][]Short `json:"apical"`
	Rate         [][]Short `json:"rate"`
	SpikeNeurons []int     `json:"spike_neurons,omitempty"`
	Spikes       [][]Short `json:"spikes,omitempty"`
}

// maxOutputs is the number of output units a window shows at most;
// rasterNeurons the number of neurons of a spiking layer its raster shows.
const (
	maxOutputs    = 10
	rasterNeurons = 16
)

// newWindow converts a recording to what the page draws. split names the
// samples' split.
func newWindow(t *trace.Trace, split string) *Window {
	K, S, n := len(t.Steps), len(t.Samples), t.Classes
	w := &Window{DT: t.DT, Softmax: t.Softmax, Split: split, T: make([]Short, K)}
	for r, k := range t.Steps {
		w.T[r] = Short(float64(k) * t.DT)
	}
	w.Outputs = spread(n, maxOutputs)
	out := make([]float64, n)
	var norms float64
	for b := range S {
		s := WindowSample{Index: t.Samples[b], Label: t.Labels[b]}
		for _, j := range w.Outputs {
			s.Target = append(s.Target, Short(t.Target[b*n+j]))
		}
		s.U, s.Output = grid(len(w.Outputs), K), grid(len(w.Outputs), K)
		for r := range K {
			copy(out, t.Output[(r*S+b)*n:][:n])
			if t.Softmax {
				circuit.SoftmaxRow(out, out)
			}
			for i, j := range w.Outputs {
				s.U[i][r] = Short(t.U[(r*S+b)*n+j])
				s.Output[i][r] = Short(out[j])
			}
		}
		// ‖ū‖, ū over the last quarter of the records.
		from := K - max(K/4, 1)
		var sq float64
		for j := range n {
			var m float64
			for r := from; r < K; r++ {
				m += t.U[(r*S+b)*n+j]
			}
			m /= float64(K - from)
			sq += m * m
		}
		norms += math.Sqrt(sq)
		for _, l := range t.Layers {
			m := len(l.Neurons)
			wl := WindowLayer{Layer: l.Index, Neurons: l.Neurons,
				Soma: grid(m, K), Basal: grid(m, K), Apical: grid(m, K), Rate: grid(m, K)}
			for r := range K {
				for i := range m {
					at := (r*S+b)*m + i
					wl.Soma[i][r], wl.Basal[i][r] = Short(l.Soma[at]), Short(l.Basal[at])
					wl.Apical[i][r], wl.Rate[i][r] = Short(l.Apical[at]), Short(l.Rate[at])
				}
			}
			if l.SpikeAll != nil {
				wl.SpikeNeurons = spread(l.Size, rasterNeurons)
				wl.Spikes = spikeTimes(t, l, b, wl.SpikeNeurons)
			}
			s.Layers = append(s.Layers, wl)
		}
		w.Samples = append(w.Samples, s)
	}
	if S > 0 {
		w.UNorm = norms / float64(S)
	}
	return w
}

// spikeTimes returns the times of the spikes of the given neurons of
// layer l for sample b ([neuron][spike]).
func spikeTimes(t *trace.Trace, l trace.Layer, b int, neurons []int) [][]Short {
	S := len(t.Samples)
	out := make([][]Short, len(neurons))
	for i := range out {
		out[i] = []Short{} // a silent neuron is an empty row, not null
	}
	for r, k := range t.SpikeSteps {
		row := l.SpikeAll[(r*S+b)*l.Size:][:l.Size]
		for i, j := range neurons {
			if row[j] != 0 {
				out[i] = append(out[i], Short(float64(k)*t.DT))
			}
		}
	}
	return out
}

// grid returns rows × cols zeros.
func grid(rows, cols int) [][]Short {
	g := make([][]Short, rows)
	for i := range g {
		g[i] = make([]Short, cols)
	}
	return g
}

// spread returns up to k indices evenly spaced over 0..n-1.
func spread(n, k int) []int {
	k = min(k, n)
	out := make([]int, k)
	for j := range out {
		out[j] = j * n / k
	}
	return out
}
