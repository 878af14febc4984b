package train_test

// This file shows how the simulator is extended without touching its
// core: a new soma and a new plasticity rule are defined here, in a test
// file, and a small network trains with them through the public API.

import (
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/neuron"
	"github.com/strongdfc/strongdfc/train"
)

// adaptingSoma is a rate neuron with spike-frequency adaptation: an
// adaptation current a follows the rate with time constant tauA and is
// subtracted from the somatic input,
//
//	v += dt/τ_v·(v_fb + v_ff − g·a − v),  r = tanh(v),  a += dt/τ_a·(r − a).
//
// Its basal prediction is the rate the basal input alone would give at
// the same adaptation, tanh(v_ff − g·a).
type adaptingSoma struct {
	Gain, TauA float64
}

func (m adaptingSoma) NewSoma(p neuron.Params) (neuron.Soma, error) {
	if !(m.TauA >= p.DT) || m.Gain < 0 {
		return nil, fmt.Errorf("adapting soma: τ_a = %g must be at least dt = %g, gain %g non-negative", m.TauA, p.DT, m.Gain)
	}
	return &adapting{k: p.DT / p.TauV, ka: p.DT / m.TauA, g: m.Gain}, nil
}

type adapting struct{ k, ka, g float64 }

func (*adapting) Extra() []string { return []string{"adaptation"} }

func (s *adapting) Reset(r *neuron.Row) {
	a := r.Extra[0]
	for j := range r.Soma {
		a[j] = 0
		r.Soma[j] = r.Basal[j]
		r.Rate[j] = math.Tanh(r.Soma[j])
	}
}

func (s *adapting) Integrate(r *neuron.Row, noise []float64) {
	a := r.Extra[0]
	for j := range r.Soma {
		r.Soma[j] += s.k * (r.Apical[j] + r.Basal[j] - s.g*a[j] - r.Soma[j])
		if noise != nil {
			r.Soma[j] += noise[j]
		}
		r.Rate[j] = math.Tanh(r.Soma[j])
		a[j] += s.ka * (r.Rate[j] - a[j])
	}
}

func (s *adapting) Mismatch(dst []float64, r *neuron.Row) {
	a := r.Extra[0]
	for j := range dst {
		dst[j] = r.Rate[j] - math.Tanh(r.Basal[j]-s.g*a[j])
	}
}

// naiveForward is the forward rule written without the simulator's
// stacking: at every step it taps each layer's mismatch into a batch-major
// buffer and adds δᵀ·r_pre to a sum with one product per layer and step;
// the gradient is −(2/(B·T)) of the sum, like the published rule's.
type naiveForward struct{}

func (naiveForward) Bind(c *circuit.Circuit) (circuit.Learner, error) {
	net := c.Network()
	l := &naiveLearner{c: c}
	for i := 1; i <= net.L(); i++ {
		l.delta = append(l.delta, mat.NewDense(c.MaxBatch(), net.Sizes[i], nil))
		l.sumW = append(l.sumW, mat.NewDense(net.Sizes[i], net.Sizes[i-1], nil))
		l.sumB = append(l.sumB, make([]float64, net.Sizes[i]))
		l.groups = append(l.groups, circuit.Group{Name: fmt.Sprintf("forward_layer%d", i), Kind: "forward", Layer: i,
			Params: net.Forward[i-1].Params(fmt.Sprintf("layer%d.", i))})
	}
	return l, nil
}

type naiveLearner struct {
	c      *circuit.Circuit
	delta  []*mat.Dense
	sumW   []*mat.Dense
	sumB   [][]float64
	terms  int
	groups []circuit.Group
}

func (l *naiveLearner) Groups() []circuit.Group { return l.groups }

func (l *naiveLearner) Begin(reset bool) {}

func (l *naiveLearner) Step(taps []neuron.Taps) {
	for i, d := range l.delta {
		taps[i].Add(neuron.TapMismatch, compute.StridedOf(l.view(d), false))
	}
}

func (l *naiveLearner) view(m *mat.Dense) *mat.Dense {
	_, n := m.Dims()
	return m.Slice(0, l.c.Batch(), 0, n).(*mat.Dense)
}

func (l *naiveLearner) Integrated(layer int) {
	if layer < len(l.delta) {
		return // the step ends with the last layer
	}
	for i, d := range l.delta {
		dv := l.view(d)
		var p mat.Dense
		p.Mul(dv.T(), l.c.Pre(i+1))
		l.sumW[i].Add(l.sumW[i], &p)
		for b := range l.c.Batch() {
			for j, x := range dv.RawRowView(b) {
				l.sumB[i][j] += x
			}
		}
	}
	l.terms++
}

func (l *naiveLearner) Gradient() {
	net := l.c.Network()
	s := 0.0
	if l.terms > 0 {
		s = -2 / float64(l.c.Batch()*l.terms)
	}
	for i, f := range net.Forward {
		f.GradW.Scale(s, l.sumW[i])
		gb := f.GradB.RawVector().Data
		for j, x := range l.sumB[i] {
			gb[j] = s * x
		}
		l.sumW[i].Zero()
		clear(l.sumB[i])
	}
	l.terms = 0
}

// TestExtensionSomaAndRule trains a small network whose neurons are
// adaptingSoma and whose forward weights learn by naiveForward (with the
// published feedback rule), through train.New with a method built from
// the published one: it learns the synthetic task.
func TestExtensionSomaAndRule(t *testing.T) {
	c := tinyConfig()
	c.Pretrain.Epochs = 0
	m, err := c.MethodSpec()
	if err != nil {
		t.Fatal(err)
	}
	tr := m.Phase("train").(train.Simulated)
	tr.Circuit.Soma = adaptingSoma{Gain: 0.5, TauA: 0.02}
	tr.Rules[0].Rule = naiveForward{}
	m.Phases = []train.Phase{tr}
	trainer, err := train.New(c, tinyData(t, c), train.Options{Method: &m})
	if err != nil {
		t.Fatal(err)
	}
	if got := trainer.Circuit().Layer(1).Soma().Extra(); len(got) != 1 || got[0] != "adaptation" {
		t.Fatalf("the layers' soma has variables %v", got)
	}
	_, before := trainer.Evaluate(trainer.Data().Test)
	finish(t, trainer)
	// Evaluation is the feedforward pass, the state at which every window
	// starts (the adaptation is zero there).
	_, after := trainer.Evaluate(trainer.Data().Test)
	if after < 0.8 || after <= before {
		t.Errorf("test accuracy %.3f after training with the new soma and rule (%.3f before)", after, before)
	}
	a := trainer.Circuit().State(1).Extra[0]
	if mat.Max(a) == 0 && mat.Min(a) == 0 {
		t.Error("the adaptation variable never moved")
	}
	// A bad constant of the new soma is refused when the run is built.
	tr.Circuit.Soma = adaptingSoma{Gain: 0.5, TauA: 0}
	m.Phases = []train.Phase{tr}
	if _, err := train.New(c, tinyData(t, c), train.Options{Method: &m}); err == nil {
		t.Error("τ_a = 0 accepted")
	}
}
