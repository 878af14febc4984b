package neuron

import (
	"fmt"
	"math"
)

// SpikingSoma is a spiking neuron: the somatic voltage integrates the basal
// and apical voltages as the rate neuron's does,
//
//	v[k+1] = v[k] + (dt/τ_v)·(v_fb[k+1] + v_ff[k+1] − v[k]),
//
// and the soma emits a spike in a step with probability
// p = RateMax·dt·φ⁺(v), φ⁺ = (1 + tanh)/2 (escape noise: an inhomogeneous
// Bernoulli process, the spiking of Urbanczik and Senn's dendritic
// prediction rule). Its spikes are filtered by a synaptic trace,
//
//	s̃[k+1] = (1 − dt/τ_s)·s̃[k] + (1/τ_s)·spike[k+1],
//
// whose expectation is the firing rate RateMax·φ⁺(v), and what the neuron
// sends on (Rate) is the trace decoded to the rate neuron's range,
// 2·s̃/RateMax − 1, an unbiased estimate of tanh(v): the mean field of a
// network of spiking somata is the rate network with the same weights. Its
// mismatch, what forward plasticity learns from, is that decoded spiking
// minus what the basal input alone predicts, tanh(v_ff). With
// FilteredPrediction the prediction is filtered as the spiking is: the
// voltage with basal input alone, v̂ (RateSoma's), drives an expected
// trace t̂[k+1] = (1 − dt/τ_s)·t̂[k] + (1/τ_s)·RateMax·dt·φ⁺(v̂[k+1]), and
// the mismatch is the decoded trace minus the decoded t̂: with no apical
// input the two differ by the spikes' noise only, whatever the input did
// before.
//
// With Intensity (which needs FilteredPrediction) the mismatch takes the
// soma's firing intensity instead of its spikes: an expected trace
// ĩ[k+1] = (1 − dt/τ_s)·ĩ[k] + (1/τ_s)·RateMax·dt·φ⁺(v[k+1]), driven by
// the soma's own voltage as t̂ is by v̂, so the mismatch is the decoded ĩ
// minus the decoded t̂: the same expectation as with the spikes, without
// the variance of the soma's own spike sampling (the neuron still sends
// spikes on, and its voltage still follows spiking inputs).
//
// The soma's own variables are "spike" (1 in a step with a spike, else
// 0) and "trace" (s̃), with FilteredPrediction also "prediction" (v̂)
// and "expected" (t̂), with Intensity also "intensity" (ĩ). It draws
// uniform numbers from the layer's noise source (which must be a
// UniformSource). The layer's activation must be
// tanh (the signed rate is decoded from a positive one) or logistic
// (φ⁺ = logistic, decoded as s̃/RateMax).
type SpikingSoma struct {
	// RateMax is the firing rate at φ⁺ = 1, in spikes per unit of time;
	// RateMax·dt ≤ 1.
	RateMax float64
	// TauSyn is the time constant of the trace (≥ dt).
	TauSyn float64
	// FilteredPrediction compares the spiking with the filtered basal
	// prediction (see above) instead of tanh(v_ff).
	FilteredPrediction bool
	// Intensity makes the mismatch compare the soma's firing intensity
	// (filtered as its spikes are) with the filtered prediction instead
	// of its decoded spikes (see above); it needs FilteredPrediction.
	Intensity bool
}

// NewSoma validates the constants and returns the soma for p.
func (m SpikingSoma) NewSoma(p Params) (Soma, error) {
	switch {
	case !(m.RateMax > 0) || math.IsInf(m.RateMax, 0):
		return nil, fmt.Errorf("spiking soma: maximal rate %g must be positive", m.RateMax)
	case m.RateMax*p.DT > 1:
		return nil, fmt.Errorf("spiking soma: maximal rate %g is more than one spike per step of %g", m.RateMax, p.DT)
	case !(m.TauSyn >= p.DT) || math.IsInf(m.TauSyn, 0):
		return nil, fmt.Errorf("spiking soma: synaptic time constant %g must be at least dt = %g", m.TauSyn, p.DT)
	case p.Activation != Tanh && p.Activation != Logistic:
		return nil, fmt.Errorf("spiking soma: activation %s has no positive rate; use tanh or logistic", p.Activation)
	case m.Intensity && !m.FilteredPrediction:
		return nil, fmt.Errorf("spiking soma: learning from the intensity needs the filtered prediction (an intensity filtered as the spikes are, compared with a prediction that is not, would lag it)")
	}
	return &spiking{act: p.Activation, k: p.DT / p.TauV, pmax: m.RateMax * p.DT, a: p.DT / m.TauSyn,
		rmax: m.RateMax, gain: 1 / m.TauSyn, filtered: m.FilteredPrediction, intensity: m.Intensity}, nil
}

// String names the model.
func (m SpikingSoma) String() string {
	if m.Intensity {
		return fmt.Sprintf("spiking(r_max=%g, τ_s=%g, filtered prediction, learns from the intensity)", m.RateMax, m.TauSyn)
	}
	if m.FilteredPrediction {
		return fmt.Sprintf("spiking(r_max=%g, τ_s=%g, filtered prediction)", m.RateMax, m.TauSyn)
	}
	return fmt.Sprintf("spiking(r_max=%g, τ_s=%g)", m.RateMax, m.TauSyn)
}

type spiking struct {
	act     Activation
	k       float64 // dt/τ_v
	pmax    float64 // RateMax·dt
	a, gain float64 // trace: s̃ ← (1−a)·s̃ + gain·spike
	rmax    float64
	// filtered: the mismatch uses the filtered prediction (variables
	// predVar and expVar).
	filtered bool
	// intensity: the mismatch uses the soma's filtered intensity
	// (variable intVar) instead of its trace.
	intensity bool
}

// The indices of the soma's own variables in Row.Extra and State.Extra.
const (
	spikeVar = iota
	traceVar
	predVar
	expVar
	intVar
)

func (s *spiking) Extra() []string {
	if s.intensity {
		return []string{"spike", "trace", "prediction", "expected", "intensity"}
	}
	if s.filtered {
		return []string{"spike", "trace", "prediction", "expected"}
	}
	return []string{"spike", "trace"}
}

// Random says that the soma draws uniform numbers (Row.Rand) every step.
func (*spiking) Random() bool { return true }

// positive returns φ⁺ for a value of φ.
func (s *spiking) positive(phi float64) float64 {
	if s.act == Tanh {
		return 0.5 * (1 + phi)
	}
	return phi
}

// decode returns the rate neuron's value for a trace.
func (s *spiking) decode(trace float64) float64 {
	if s.act == Tanh {
		return 2*trace/s.rmax - 1
	}
	return trace / s.rmax
}

func (s *spiking) Reset(r *Row) {
	copy(r.Soma, r.Basal)
	s.act.Apply(r.Rate, r.Soma)
	spike, trace := r.Extra[spikeVar], r.Extra[traceVar]
	for j, phi := range r.Rate {
		spike[j] = 0
		trace[j] = s.rmax * s.positive(phi) // the trace's steady state
	}
	if s.filtered {
		copy(r.Extra[predVar], r.Basal)
		copy(r.Extra[expVar], trace)
	}
	if s.intensity {
		copy(r.Extra[intVar], trace)
	}
}

func (s *spiking) Integrate(r *Row, noise []float64) {
	integrate(s.k, r, noise)
	v := r.Soma
	s.act.Apply(r.Rate, v) // φ(v), replaced by the decoded trace below
	spike, trace, u := r.Extra[spikeVar][:len(v)], r.Extra[traceVar][:len(v)], r.Rand[:len(v)]
	rate := r.Rate[:len(v)]
	var in []float64
	if s.intensity {
		in = r.Extra[intVar][:len(v)]
	}
	gp := s.gain * s.pmax // the expected traces' gain (ĩ and t̂ alike)
	for j, phi := range rate {
		pos := s.positive(phi)
		sp := 0.0
		if u[j] < s.pmax*pos {
			sp = 1
		}
		spike[j] = sp
		trace[j] += s.gain*sp - s.a*trace[j]
		rate[j] = s.decode(trace[j])
		if in != nil {
			in[j] += gp*pos - s.a*in[j]
		}
	}
	if s.filtered {
		pred, exp := r.Extra[predVar][:len(v)], r.Extra[expVar][:len(v)]
		follow(s.k, pred, r.Basal)
		// φ(v̂) goes through u, whose draws are used.
		s.act.Apply(u, pred)
		for j, phi := range u {
			exp[j] += gp*s.positive(phi) - s.a*exp[j]
		}
	}
}

func (s *spiking) Mismatch(dst []float64, r *Row) {
	if !s.filtered {
		mismatch(s.act, dst, r.Rate, r.Basal)
		return
	}
	exp, rate := r.Extra[expVar][:len(dst)], r.Rate[:len(dst)]
	if s.intensity {
		in := r.Extra[intVar][:len(dst)]
		for j := range dst {
			dst[j] = s.decode(in[j]) - s.decode(exp[j])
		}
		return
	}
	for j := range dst {
		dst[j] = rate[j] - s.decode(exp[j])
	}
}

// Decoder is implemented by somata whose Rate is the decoded trace of
// their spikes, x̂ = alpha·s̃ + beta with s̃ ← (1−a)·s̃ + gain·spike; a
// downstream layer can then follow x̂ from the spikes alone (event-driven
// transmission).
type Decoder interface {
	Decoding() (a, alpha, beta, gain float64)
}

// Decoding returns the trace's decay and gain and the decoding.
func (s *spiking) Decoding() (a, alpha, beta, gain float64) {
	if s.act == Tanh {
		return s.a, 2 / s.rmax, -1, s.gain
	}
	return s.a, 1 / s.rmax, 0, s.gain
}

// Spikes returns the index of a soma's "spike" variable in State.Extra,
// or −1 when the soma does not spike.
func Spikes(s Soma) int {
	for i, n := range s.Extra() {
		if n == "spike" {
			return i
		}
	}
	return -1
}
