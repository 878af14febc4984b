package circuit

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/neuron"
)

// SpikeInput presents the input as spike trains. The inputs x come
// normalised as (pixel − Mean)/Std with the pixel in [0, 1] (Std 0 means
// 1: the pixels as they are); input j of a sample spikes at the rate
// RateMax·ρ_j, ρ_j = clamp(Std·x_j + Mean, 0, 1), the pixel, and layer 1
// receives the spikes' trace,
//
//	s̃[k+1] = (1 − dt/τ_s)·s̃[k] + (1/τ_s)·spike[k+1],
//
// decoded as (s̃/RateMax − Mean)/Std, whose expectation is x_j for pixels
// in [0, 1]: the spike trains carry the input the rate network receives.
//
//   - Poisson (Regular false): a spike in every step with probability
//     RateMax·dt·ρ_j;
//   - regular (Regular true): the input adds RateMax·dt·ρ_j to a phase
//     in [0, 1) and spikes when the phase passes 1 (and loses 1), a clock
//     without noise. The phases start where a uniform draw puts them when
//     a sample is presented (the trace at its expectation), so that the
//     inputs do not spike in step with each other.
//
// The draws come from the circuit's noise source (population 0 of a
// neuron.UniformSource): one per input and step for Poisson trains, one
// per input and presentation for regular ones.
type SpikeInput struct {
	RateMax, TauSyn float64
	Regular         bool
	Mean, Std       float64
}

func (in SpikeInput) validate(dt float64) error {
	switch {
	case !(in.RateMax > 0) || math.IsInf(in.RateMax, 0):
		return fmt.Errorf("circuit: input spike rate %g must be positive", in.RateMax)
	case in.RateMax*dt > 1:
		return fmt.Errorf("circuit: input spike rate %g is more than one spike per step of %g", in.RateMax, dt)
	case in.Std < 0 || math.IsInf(in.Std, 0) || math.IsNaN(in.Std) || math.IsInf(in.Mean, 0) || math.IsNaN(in.Mean):
		return fmt.Errorf("circuit: input normalisation mean %g, standard deviation %g: want finite values and a non-negative deviation", in.Mean, in.Std)
	case !(in.TauSyn >= dt) || math.IsInf(in.TauSyn, 0):
		return fmt.Errorf("circuit: input synaptic time constant %g must be at least dt = %g", in.TauSyn, dt)
	}
	return nil
}

// encoder turns the presented input into spike trains and their decoded
// trace, batch × n_0.
type encoder struct {
	c               *Circuit
	unif            neuron.UniformSource
	pmax, a         float64 // p = pmax·clamp(std·x + mean); x̂ ← (1−a)·x̂ + a·beta + tc·alpha·spike
	traceF, spikeF  *mat.Dense
	trace, spike    *mat.Dense // views of the current batch
	regular         bool
	phaseF, phase   *mat.Dense // regular trains' phases, and the current batch's view
	u               []float64  // the draws, batch × n_0
	mean, std       float64    // the inputs' normalisation: pixel = std·x + mean
	body            encoderBody
	alpha, beta, tc float64 // decoding for event-driven transmission
}

func newEncoder(c *Circuit, in SpikeInput, noise neuron.NoiseSource) (*encoder, error) {
	dt := c.clock.DT()
	if err := in.validate(dt); err != nil {
		return nil, err
	}
	u, ok := noise.(neuron.UniformSource)
	if !ok {
		return nil, fmt.Errorf("circuit: spiking input needs a noise source with uniform streams (neuron.Gaussian)")
	}
	u.ReserveUniform(1, c.maxBatch)
	n := c.net.NIn()
	e := &encoder{c: c, unif: u, pmax: in.RateMax * dt, a: dt / in.TauSyn,
		traceF: mat.NewDense(c.maxBatch, n, nil), spikeF: mat.NewDense(c.maxBatch, n, nil),
		u: make([]float64, c.maxBatch*n), tc: 1 / in.TauSyn, regular: in.Regular, mean: in.Mean, std: in.Std}
	if e.std == 0 {
		e.std = 1
	}
	// x̂ = (s̃/RateMax − Mean)/Std = α·s̃ + β.
	e.alpha, e.beta = 1/(in.RateMax*e.std), -e.mean/e.std
	if in.Regular {
		e.phaseF = mat.NewDense(c.maxBatch, n, nil)
	}
	e.body.e = e
	e.setBatch(c.maxBatch)
	return e, nil
}

func (e *encoder) setBatch(b int) {
	n := e.c.net.NIn()
	e.trace = e.traceF.Slice(0, b, 0, n).(*mat.Dense)
	e.spike = e.spikeF.Slice(0, b, 0, n).(*mat.Dense)
	if e.regular {
		e.phase = e.phaseF.Slice(0, b, 0, n).(*mat.Dense)
	}
}

// reset puts the trace at its expectation for input x, the pixel
// clamp(std·x + mean, 0, 1) normalised back, and draws regular trains'
// phases.
func (e *encoder) reset(x *mat.Dense) {
	e.spike.Zero()
	b, n := x.Dims()
	for i := range b {
		xr, tr := x.RawRowView(i), e.trace.RawRowView(i)
		for j := range n {
			tr[j] = (math.Min(1, math.Max(0, e.std*xr[j]+e.mean)) - e.mean) / e.std
		}
		if e.regular {
			e.unif.Uniform(0, i, e.phase.RawRowView(i))
		}
	}
}

// step draws one step's input spikes and advances the decoded trace.
func (e *encoder) step() {
	b, _ := e.trace.Dims()
	e.c.pool.Run(b, 8, &e.body)
}

type encoderBody struct{ e *encoder }

func (b *encoderBody) Range(lo, hi int) {
	e := b.e
	n := e.c.net.NIn()
	for i := lo; i < hi; i++ {
		x, tr, sp := e.c.x.RawRowView(i), e.trace.RawRowView(i), e.spike.RawRowView(i)
		if e.regular {
			ph := e.phase.RawRowView(i)
			for j := range n {
				s := 0.0
				if ph[j] += e.pmax * clampOne(e.std*x[j]+e.mean); ph[j] >= 1 {
					s, ph[j] = 1, ph[j]-1
				}
				sp[j] = s
				tr[j] += s*e.tc*e.alpha + e.a*(e.beta-tr[j])
			}
			continue
		}
		u := e.u[i*n:][:n]
		e.unif.Uniform(0, i, u)
		for j := range n {
			s := 0.0
			if u[j] < e.pmax*clampOne(e.std*x[j]+e.mean) {
				s = 1
			}
			sp[j] = s
			// The decoded trace x̂ = α·s̃ + β:
			// x̂ ← (1−a)·x̂ + a·β + α·spike/τ_s.
			tr[j] += s*e.tc*e.alpha + e.a*(e.beta-tr[j])
		}
	}
}

// clampOne is min(1, max(0, x)) by comparisons, which the compiler
// inlines (math.Min and math.Max are calls here, 3 % of a spiking step).
// It differs from them only in keeping −0 (and NaN alike), which a
// comparison with a uniform draw in (0, 1) cannot tell from +0.
func clampOne(x float64) float64 {
	if x < 0 {
		return 0
	}
	if x > 1 {
		return 1
	}
	return x
}

// eventLayer computes a layer's basal input from the spikes of its
// presynaptic population: with the population's decoded trace
// x̂[k+1] = (1−a)·x̂[k] + a·β + g·spike[k+1],
//
//	v_ff[k+1] = (1−a)·v_ff[k] + a·(b + β·W·1) + g·Σ_{j spiked} W[:, j],
//
// which equals W·x̂ + b to rounding at a cost in proportion to the spikes.
// It keeps Wᵀ (so that a spike adds a contiguous row) and the constant
// vector, both refreshed whenever the weights change.
type eventLayer struct {
	c          *Circuit
	i          int // the layer (1..L)
	a, beta, g float64
	wt         *mat.Dense // Wᵀ, n_{i−1} × n_i
	cst        []float64  // b + β·W·1
	spikes     func() *mat.Dense
	body       eventBody
}

func newEventLayer(c *Circuit, i int, a, beta, g float64, spikes func() *mat.Dense) *eventLayer {
	out, in := c.net.Forward[i-1].Dims()
	ev := &eventLayer{c: c, i: i, a: a, beta: beta, g: g, wt: mat.NewDense(in, out, nil), cst: make([]float64, out), spikes: spikes}
	ev.body.ev = ev
	return ev
}

// refresh copies Wᵀ and recomputes the constant vector from the current
// weights.
func (ev *eventLayer) refresh() {
	f := ev.c.net.Forward[ev.i-1]
	ev.wt.CloneFrom(f.W.T())
	out, in := f.Dims()
	b := f.B.RawVector().Data
	for r := range out {
		s := 0.0
		for _, w := range f.W.RawRowView(r)[:in] {
			s += w
		}
		ev.cst[r] = b[r] + ev.beta*s
	}
}

// step advances the basal voltages of the current batch by one step.
func (ev *eventLayer) step() {
	b, _ := ev.c.st[ev.i-1].Dims()
	ev.c.pool.Run(b, 8, &ev.body)
}

type eventBody struct{ ev *eventLayer }

func (b *eventBody) Range(lo, hi int) {
	ev := b.ev
	basal := ev.c.st[ev.i-1].Basal
	spk := ev.spikes()
	_, n := basal.Dims()
	keep := 1 - ev.a
	wt := ev.wt.RawMatrix()
	for r := lo; r < hi; r++ {
		v := basal.RawRowView(r)[:n]
		for j := range v {
			v[j] = keep*v[j] + ev.a*ev.cst[j]
		}
		for j, s := range spk.RawRowView(r) {
			if s != 0 {
				// v += g·Wᵀ[j, :]
				compute.Axpy(ev.g, wt.Data[j*wt.Stride:][:n], v)
			}
		}
	}
}

// InputVaries reports whether the input layer's presynaptic activity
// changes within a window (spiking input).
func (c *Circuit) InputVaries() bool { return c.enc != nil }

// InputSpikes returns the input's spikes of the last step (batch × n_0),
// or nil when the input does not spike.
func (c *Circuit) InputSpikes() *mat.Dense {
	if c.enc == nil {
		return nil
	}
	return c.enc.spike
}

// setupSpikes builds the input encoder and the event-driven layers.
func (c *Circuit) setupSpikes(noise neuron.NoiseSource) error {
	p := c.p
	if p.Input != nil {
		var err error
		if c.enc, err = newEncoder(c, *p.Input, noise); err != nil {
			return err
		}
	}
	c.ev = make([]*eventLayer, c.net.L())
	if !p.EventDriven {
		return nil
	}
	for i := 1; i <= c.net.L(); i++ {
		switch {
		case i == 1 && c.enc != nil:
			e := c.enc
			c.ev[0] = newEventLayer(c, 1, e.a, e.beta, e.tc*e.alpha, func() *mat.Dense { return e.spike })
		case i > 1:
			dec, ok := c.layers[i-2].Soma().(neuron.Decoder)
			k := neuron.Spikes(c.layers[i-2].Soma())
			if !ok || k < 0 {
				continue
			}
			a, alpha, beta, gain := dec.Decoding()
			pre := i - 1
			c.ev[i-1] = newEventLayer(c, i, a, beta, alpha*gain, func() *mat.Dense { return c.st[pre-1].Extra[k] })
		}
	}
	return nil
}
