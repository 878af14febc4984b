package train

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
)

// EpochResult are the metrics of one epoch.
type EpochResult struct {
	Phase string
	Epoch int
	// TrainLoss and TrainAccuracy are means over the epoch's minibatches of
	// the feedforward loss and accuracy before each update (as the
	// reference logs them).
	TrainLoss, TrainAccuracy float64
	// Validation and test metrics of the feedforward network after the
	// epoch (NaN when the split is empty or not evaluated).
	ValLoss, ValAccuracy, TestLoss, TestAccuracy float64
	Samples                                      int
	Seconds                                      float64 // training windows only
	EvalSeconds                                  float64
	// EvalReused says that the epoch's phase changed no forward weights
	// (feedback pre-training, sleep): the validation and test figures are
	// the previous epoch's, which hold for the same weights, and were not
	// computed again (EvalSeconds is 0).
	EvalReused bool
	// Diagnostics, by name. Means over the epoch's minibatches:
	// "control", the amount of control H = ‖Q̄ū‖²/(B·N) with ū the control
	// averaged over the last quarter of each window, and the per-layer
	// gradient norms before clipping, "grad_norm_forward_layerI" (training
	// only) and "grad_norm_feedback_layerI". From the epoch's last
	// minibatch: "gn_alignment", the Gauss-Newton alignment ‖P_J Q̄‖/‖Q̄‖ at
	// the feedforward state after the update (sample mean);
	// "feedback_ratio_layerI", ‖Q_i u‖/‖W_i r_{i−1}‖ at the window's last
	// step; and in training "angle_layerI" and "angle_total", the angles in
	// degrees between the forward updates and the backprop gradients.
	Diagnostics map[string]float64
}

// MetricColumns are the names of EpochResult's fixed fields in metrics
// files and JSON, in order; diagnostics follow, sorted by name.
var MetricColumns = []string{"phase", "epoch", "train_loss", "train_accuracy", "validation_loss", "validation_accuracy",
	"test_loss", "test_accuracy", "samples", "seconds", "eval_seconds", "eval_reused"}

// Values returns the fixed fields as text in the order of MetricColumns
// (floats in the shortest form that reads back exactly; "NaN" for NaN).
func (r EpochResult) Values() []string {
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	return []string{r.Phase, strconv.Itoa(r.Epoch), g(r.TrainLoss), g(r.TrainAccuracy), g(r.ValLoss), g(r.ValAccuracy),
		g(r.TestLoss), g(r.TestAccuracy), strconv.Itoa(r.Samples), g(r.Seconds), g(r.EvalSeconds), strconv.FormatBool(r.EvalReused)}
}

func (r *EpochResult) floats() []*float64 {
	return []*float64{&r.TrainLoss, &r.TrainAccuracy, &r.ValLoss, &r.ValAccuracy, &r.TestLoss, &r.TestAccuracy, &r.Seconds, &r.EvalSeconds}
}

var floatColumns = []string{"train_loss", "train_accuracy", "validation_loss", "validation_accuracy", "test_loss", "test_accuracy", "seconds", "eval_seconds"}

// MarshalJSON writes one flat object: the fields under the names of
// MetricColumns, then the diagnostics. Values that are not finite (JSON
// has no NaN) are written as null.
func (r EpochResult) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	num := func(x float64) {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			b.WriteString("null")
		} else {
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		}
	}
	ph, _ := json.Marshal(r.Phase)
	fmt.Fprintf(&b, `{"phase":%s,"epoch":%d`, ph, r.Epoch)
	for i, p := range r.floats() {
		fmt.Fprintf(&b, `,%q:`, floatColumns[i])
		num(*p)
	}
	fmt.Fprintf(&b, `,"samples":%d,"eval_reused":%t`, r.Samples, r.EvalReused)
	for _, k := range slices.Sorted(maps.Keys(r.Diagnostics)) {
		kb, _ := json.Marshal(k)
		fmt.Fprintf(&b, ",%s:", kb)
		num(r.Diagnostics[k])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads what MarshalJSON writes (null as NaN; names that are
// not fields become diagnostics).
func (r *EpochResult) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*r = EpochResult{}
	num := func(k string, raw json.RawMessage) (float64, error) {
		if string(raw) == "null" {
			return math.NaN(), nil
		}
		var x float64
		if err := json.Unmarshal(raw, &x); err != nil {
			return 0, fmt.Errorf("epoch result: %s: %w", k, err)
		}
		return x, nil
	}
	fields := map[string]*float64{}
	for i, p := range r.floats() {
		fields[floatColumns[i]] = p
	}
	for k, raw := range m {
		var err error
		switch k {
		case "phase":
			err = json.Unmarshal(raw, &r.Phase)
		case "epoch":
			err = json.Unmarshal(raw, &r.Epoch)
		case "samples":
			err = json.Unmarshal(raw, &r.Samples)
		case "eval_reused":
			err = json.Unmarshal(raw, &r.EvalReused)
		default:
			x, e := num(k, raw)
			if p, ok := fields[k]; ok {
				*p = x
			} else {
				if r.Diagnostics == nil {
					r.Diagnostics = map[string]float64{}
				}
				r.Diagnostics[k] = x
			}
			err = e
		}
		if err != nil {
			return fmt.Errorf("epoch result: %s: %w", k, err)
		}
	}
	return nil
}

func cloneHistory(h []EpochResult) []EpochResult {
	out := make([]EpochResult, len(h))
	for i, r := range h {
		out[i] = r
		out[i].Diagnostics = maps.Clone(r.Diagnostics)
	}
	return out
}

// DiagnosticNames returns, sorted, the names of every diagnostic a run of
// a network of the given number of layers (hidden and output) records
// (see EpochResult.Diagnostics), for the columns of metrics files.
func DiagnosticNames(layers int) []string {
	names := []string{"control", "gn_alignment", "angle_total"}
	for i := 1; i <= layers; i++ {
		for _, p := range []string{"grad_norm_forward_layer", "grad_norm_feedback_layer", "feedback_ratio_layer", "angle_layer"} {
			names = append(names, p+strconv.Itoa(i))
		}
	}
	slices.Sort(names)
	return names
}
