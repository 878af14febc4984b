package plots

import (
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/strongdfc/strongdfc/train"
)

// EpochAxis is the x label of figures over epochs: pre-training epochs are
// numbered −P+1 … 0 so that training epochs keep their numbers 1 … N.
const EpochAxis = "epoch (≤ 0: feedback pre-training)"

// epochX returns the x value of every result.
func epochX(h []train.EpochResult) []float64 {
	pre := 0
	for _, r := range h {
		if r.Phase == "pretrain" {
			pre++
		}
	}
	x := make([]float64, len(h))
	for i, r := range h {
		if r.Phase == "pretrain" {
			x[i] = float64(r.Epoch - pre)
		} else {
			x[i] = float64(r.Epoch)
		}
	}
	return x
}

// withoutSleep drops the sleep phases of the two-phase methods: they change
// only the feedback weights, and each epoch's training row already shows
// their effect.
func withoutSleep(h []train.EpochResult) []train.EpochResult {
	var out []train.EpochResult
	for _, r := range h {
		if r.Phase != "sleep" {
			out = append(out, r)
		}
	}
	return out
}

func column(h []train.EpochResult, f func(train.EpochResult) float64) []float64 {
	y := make([]float64, len(h))
	for i, r := range h {
		y[i] = f(r)
	}
	return y
}

// LearningCurves returns the figure of the feedforward loss and accuracy
// (in %) on the training (the mean over each epoch's minibatches before
// their updates), validation and test splits.
func LearningCurves(h []train.EpochResult) Figure {
	h = withoutSleep(h)
	x := epochX(h)
	pct := func(f func(train.EpochResult) float64) []float64 {
		y := column(h, f)
		for i := range y {
			y[i] *= 100
		}
		return y
	}
	return Figure{Cols: 2, Panels: []Panel{
		{Title: "loss (cross-entropy)", XLabel: EpochAxis, YLabel: "loss", LogY: true, Series: []Series{
			{Name: "train", X: x, Y: column(h, func(r train.EpochResult) float64 { return r.TrainLoss }), Color: 0},
			{Name: "validation", X: x, Y: column(h, func(r train.EpochResult) float64 { return r.ValLoss }), Color: 1},
			{Name: "test", X: x, Y: column(h, func(r train.EpochResult) float64 { return r.TestLoss }), Color: 2},
		}},
		{Title: "accuracy", XLabel: EpochAxis, YLabel: "accuracy (%)", Series: []Series{
			{Name: "train", X: x, Y: pct(func(r train.EpochResult) float64 { return r.TrainAccuracy }), Color: 0},
			{Name: "validation", X: x, Y: pct(func(r train.EpochResult) float64 { return r.ValAccuracy }), Color: 1},
			{Name: "test", X: x, Y: pct(func(r train.EpochResult) float64 { return r.TestAccuracy }), Color: 2},
		}},
	}}
}

// Diagnostics returns the figure of the diagnostics over epochs, one panel
// per kind (amount of control, GN alignment, update angles, gradient
// norms, feedback ratio), one series per layer. Kinds no epoch recorded
// are left out.
func Diagnostics(h []train.EpochResult) Figure {
	h = withoutSleep(h)
	x := epochX(h)
	names := map[string]bool{}
	for _, r := range h {
		for k := range r.Diagnostics {
			names[k] = true
		}
	}
	kinds := []struct {
		prefix, title, ylabel string
		logY                  bool
	}{
		{"control", "amount of control H", "H", true},
		{"gn_alignment", "Gauss-Newton alignment of Q", "‖P_J Q̄‖ / ‖Q̄‖", false},
		{"angle_", "angle of the forward update to backprop", "degrees", false},
		{"grad_norm_forward_", "forward gradient norm (before clipping)", "norm", true},
		{"grad_norm_feedback_", "feedback gradient norm (before clipping)", "norm", true},
		{"feedback_ratio_", "feedback / forward input", "‖Q u‖ / ‖W r‖", true},
	}
	var fig Figure
	fig.Cols = 2
	for _, k := range kinds {
		var keys []string
		for _, n := range slices.Sorted(maps.Keys(names)) {
			if strings.HasPrefix(n, k.prefix) {
				keys = append(keys, n)
			}
		}
		if len(keys) == 0 {
			continue
		}
		pn := Panel{Title: k.title, XLabel: EpochAxis, YLabel: k.ylabel, LogY: k.logY}
		for i, key := range keys {
			y := column(h, func(r train.EpochResult) float64 {
				if v, ok := r.Diagnostics[key]; ok {
					return v
				}
				return math.NaN()
			})
			name := strings.TrimPrefix(key, k.prefix)
			if name == "" {
				name = key
			}
			pn.Series = append(pn.Series, Series{Name: name, X: x, Y: y, Color: i})
		}
		fig.Panels = append(fig.Panels, pn)
	}
	return fig
}
