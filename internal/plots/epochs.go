package plots

import (
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/strongdfc/strongdfc/train"
)

// epochAxis is the x label of the diagnostics over the epochs of h:
// pre-training epochs are numbered −P+1 … 0 so that training epochs keep
// their numbers 1 … N, and the sleep epochs of the two-phase methods lie
// between the training epochs they run between.
func epochAxis(h []train.EpochResult) string {
	pre, sleep := phases(h)
	switch {
	case pre && sleep:
		return "epoch (≤ 0: feedback pre-training; between epochs: sleep)"
	case pre:
		return "epoch (≤ 0: feedback pre-training)"
	case sleep:
		return "epoch (between epochs: sleep)"
	}
	return "epoch"
}

// phases reports whether h holds pre-training and sleep epochs.
func phases(h []train.EpochResult) (pre, sleep bool) {
	for _, r := range h {
		pre = pre || r.Phase == "pretrain"
		sleep = sleep || r.Phase == "sleep"
	}
	return pre, sleep
}

// CurveAxis is the x label of the learning curves that show the network
// before its first training epoch at epoch 0 (after feedback
// pre-training, which does not change the forward weights).
const CurveAxis = "epoch (0: before training)"

// feedbackOnly reports whether a phase learns the feedback weights only
// (feedback pre-training and the sleep phases).
func feedbackOnly(phase string) bool { return phase == "pretrain" || phase == "sleep" }

// epochX returns the x value of every result: pre-training epochs at
// −P+1 … 0, training epochs at their number, and each run of sleep
// epochs spread evenly between the epochs around it (one sleep epoch
// before epoch e at e − ½).
func epochX(h []train.EpochResult) []float64 {
	pre := 0
	for _, r := range h {
		if r.Phase == "pretrain" {
			pre++
		}
	}
	x := make([]float64, len(h))
	for i := 0; i < len(h); {
		switch r := h[i]; r.Phase {
		case "pretrain":
			x[i] = float64(r.Epoch - pre)
			i++
		case "sleep":
			j := i
			for j < len(h) && h[j].Phase == "sleep" {
				j++
			}
			prev := 0.0
			if i > 0 {
				prev = x[i-1]
			}
			for k := i; k < j; k++ {
				x[k] = prev + float64(k-i+1)/float64(j-i+1)
			}
			i = j
		default:
			x[i] = float64(r.Epoch)
			i++
		}
	}
	return x
}

func column(h []train.EpochResult, f func(train.EpochResult) float64) []float64 {
	y := make([]float64, len(h))
	for i, r := range h {
		y[i] = f(r)
	}
	return y
}

// curvePoints returns the results the learning curves show and their x:
// every epoch that changed the forward weights, at its number, and, when
// feedback-only epochs came before the first of them, the last of those
// at 0 (the network before training: pre-training and sleep leave the
// forward weights, and so the curves, unchanged).
func curvePoints(h []train.EpochResult) ([]train.EpochResult, []float64) {
	var out []train.EpochResult
	var x []float64
	for i, r := range h {
		if !feedbackOnly(r.Phase) {
			out = append(out, r)
			x = append(x, float64(r.Epoch))
			continue
		}
		if len(out) == 0 && (i+1 == len(h) || !feedbackOnly(h[i+1].Phase)) {
			out = append(out, r)
			x = append(x, 0)
		}
	}
	return out, x
}

// LearningCurves returns the figure of the feedforward loss (named loss,
// e.g. "cross-entropy") and accuracy (in %) on the training (the mean
// over each epoch's minibatches before their updates), validation and
// test splits. Validation is drawn dashed and on top, so that it shows
// where it coincides with test; a loss that spans more than a decade is
// drawn on a log axis. A panel without values (the accuracy of an
// autoencoder) is left out.
func LearningCurves(h []train.EpochResult, loss string) Figure {
	h, x := curvePoints(h)
	pct := func(f func(train.EpochResult) float64) []float64 {
		y := column(h, f)
		for i := range y {
			y[i] *= 100
		}
		return y
	}
	marker := func(m string) string {
		if len(h) > 15 {
			return ""
		}
		return m
	}
	xlabel := "epoch"
	if len(x) > 0 && x[0] == 0 {
		xlabel = CurveAxis
	}
	trainLoss := column(h, func(r train.EpochResult) float64 { return r.TrainLoss })
	valLoss := column(h, func(r train.EpochResult) float64 { return r.ValLoss })
	testLoss := column(h, func(r train.EpochResult) float64 { return r.TestLoss })
	series := func(train, val, test []float64) []Series {
		return []Series{
			{Name: "train", X: x, Y: train, Color: 0, Marker: marker("circle")},
			{Name: "test", X: x, Y: test, Color: 2, Marker: marker("square")},
			{Name: "validation", X: x, Y: val, Color: 1, Dashed: true, Marker: marker("triangle")},
		}
	}
	title := "loss"
	if loss != "" {
		title += " (" + loss + ")"
	}
	var fig Figure
	fig.Cols = 2
	for _, pn := range []Panel{
		{Title: title, XLabel: xlabel, YLabel: "loss", IntegerX: true,
			LogY: spansDecade(trainLoss, valLoss, testLoss), Series: series(trainLoss, valLoss, testLoss)},
		{Title: "accuracy", XLabel: xlabel, YLabel: "accuracy (%)", IntegerX: true, Series: series(
			pct(func(r train.EpochResult) float64 { return r.TrainAccuracy }),
			pct(func(r train.EpochResult) float64 { return r.ValAccuracy }),
			pct(func(r train.EpochResult) float64 { return r.TestAccuracy }))},
	} {
		for _, s := range pn.Series {
			if hasValue(s.Y) {
				fig.Panels = append(fig.Panels, pn)
				break
			}
		}
	}
	return fig
}

// spansDecade reports whether the positive finite values span more than
// a factor of ten.
func spansDecade(ys ...[]float64) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, y := range ys {
		for _, v := range y {
			if v > 0 && finite(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	return hi > 10*lo
}

// Diagnostics returns the figure of the diagnostics over epochs, one panel
// per kind (amount of control, GN alignment, update angles, gradient
// norms, feedback ratio), one colour per layer. Training epochs are solid
// lines; the epochs in which only the feedback weights learn (feedback
// pre-training, and the sleep phases of the two-phase methods, where
// their feedback learning happens) are dashed lines with open circles,
// one more legend entry saying so. Kinds no epoch recorded are left out.
func Diagnostics(h []train.EpochResult) Figure {
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
		{"gn_alignment", "Gauss-Newton alignment of Q", "||P_J Q|| / ||Q||", false},
		{"angle_", "angle of the forward update to backprop", "degrees", false},
		{"grad_norm_forward_", "forward gradient norm (before clipping)", "norm", true},
		{"grad_norm_feedback_", "feedback gradient norm (before clipping)", "norm", true},
		{"feedback_ratio_", "feedback / forward input", "||Q u|| / ||W r||", true},
	}
	// Every panel spans all epochs, so that one epoch is at one place
	// in each.
	xmin, xmax := math.Inf(1), math.Inf(-1)
	for _, v := range x {
		xmin, xmax = math.Min(xmin, v), math.Max(xmax, v)
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
		pn := Panel{Title: k.title, XLabel: epochAxis(h), YLabel: k.ylabel, LogY: k.logY, IntegerX: true, XMin: xmin, XMax: xmax}
		fbShown := false
		for i, key := range keys {
			// One series of the training epochs and one of the
			// feedback-only epochs, each NaN at the other's.
			of := func(fb bool) []float64 {
				return column(h, func(r train.EpochResult) float64 {
					if v, ok := r.Diagnostics[key]; ok && feedbackOnly(r.Phase) == fb {
						return v
					}
					return math.NaN()
				})
			}
			name := seriesName(strings.TrimPrefix(key, k.prefix))
			tr, fb := of(false), of(true)
			if hasValue(tr) {
				pn.Series = append(pn.Series, Series{Name: name, X: x, Y: tr, Color: i})
			}
			if hasValue(fb) {
				s := Series{X: x, Y: fb, Color: i, Dashed: true, Marker: "ring"}
				if !hasValue(tr) && len(keys) > 1 {
					s.Name = name // the layer's only entry
				}
				pn.Series = append(pn.Series, s)
				fbShown = true
			}
		}
		if fbShown {
			pn.Series = append(pn.Series, Series{Name: qOnly(h), Color: 7, Dashed: true, Marker: "ring"})
		}
		fig.Panels = append(fig.Panels, pn)
	}
	return fig
}

// seriesName is the legend entry of a diagnostic's series, from what
// follows its kind in its key: "layer2" is "layer 2", "total" the whole
// network's, and a diagnostic with one series ("") is the training
// epochs' (the feedback-only epochs get their own entry).
func seriesName(suffix string) string {
	switch {
	case suffix == "":
		return "training"
	case suffix == "total":
		return "whole network"
	case strings.HasPrefix(suffix, "layer"):
		return "layer " + strings.TrimPrefix(suffix, "layer")
	}
	return suffix
}

// qOnly names the feedback-only epochs of h in a legend.
func qOnly(h []train.EpochResult) string {
	switch pre, sleep := phases(h); {
	case pre && sleep:
		return "pre-training, sleep (Q only)"
	case sleep:
		return "sleep (Q only)"
	}
	return "pre-training (Q only)"
}

// hasValue reports whether y holds a finite value.
func hasValue(y []float64) bool {
	for _, v := range y {
		if finite(v) {
			return true
		}
	}
	return false
}

// Run is one run's history, named for a legend, with the group (a
// configuration, say) whose colour it takes.
type Run struct {
	Name    string
	Group   int
	History []train.EpochResult
}

// Compare returns the figure of several runs' learning curves over their
// training epochs: test accuracy (in %) and training loss (named loss,
// e.g. "cross-entropy"), one line per run, the two panels one above the
// other. Runs of one group share a colour: the first of them is drawn
// solid, the next dashed, and so on, with markers up to 15 epochs; the
// groups beyond the palette's ten swap solid and dashed. Epochs that left
// the forward weights alone (feedback pre-training, sleep) are not drawn:
// the curves start after the first training epoch. A panel no run has
// values for (the accuracy of autoencoders) is left out.
func Compare(runs []Run, loss string) Figure {
	markers := []string{"circle", "square", "triangle", "ring"}
	inGroup := map[int]int{}
	var acc, lss []Series
	maxEpochs := 0
	for _, r := range runs {
		var h []train.EpochResult
		for _, e := range r.History {
			if !feedbackOnly(e.Phase) {
				h = append(h, e)
			}
		}
		x := column(h, func(e train.EpochResult) float64 { return float64(e.Epoch) })
		maxEpochs = max(maxEpochs, len(h))
		k := inGroup[r.Group]
		inGroup[r.Group]++
		s := Series{Name: r.Name, X: x, Color: r.Group % len(Palette),
			Dashed: (k%2 == 1) != (r.Group >= len(Palette)), Marker: markers[k%len(markers)]}
		a, l := s, s
		a.Y = column(h, func(e train.EpochResult) float64 { return 100 * e.TestAccuracy })
		l.Y = column(h, func(e train.EpochResult) float64 { return e.TrainLoss })
		acc, lss = append(acc, a), append(lss, l)
	}
	if maxEpochs > 15 {
		for i := range acc {
			acc[i].Marker, lss[i].Marker = "", ""
		}
	}
	title := "training loss"
	if loss != "" {
		title += " (" + loss + ")"
	}
	ys := make([][]float64, len(lss))
	for i, s := range lss {
		ys[i] = s.Y
	}
	fig := Figure{Cols: 1}
	for _, pn := range []Panel{
		{Title: "test accuracy after each epoch", XLabel: "epoch", YLabel: "accuracy (%)", IntegerX: true, Series: acc},
		{Title: title, XLabel: "epoch", YLabel: "loss", IntegerX: true, LogY: spansDecade(ys...), Series: lss},
	} {
		for _, s := range pn.Series {
			if hasValue(s.Y) {
				fig.Panels = append(fig.Panels, pn)
				break
			}
		}
	}
	return fig
}
