package neuron

import "fmt"

// Row is one sample's view of a population's state: every slice holds one
// value per neuron, and Extra the soma's own variables (Soma.Extra names
// them). Rows share their memory with the State they come from.
type Row struct {
	Basal, Apical, Soma, Rate []float64
	Extra                     [][]float64
	// Rand holds this step's uniform draws in (0, 1), one per neuron, for
	// a soma that draws them (nil otherwise); once it has drawn from them,
	// the soma may use the slice as scratch.
	Rand []float64
}

// Soma is the somatic compartment of a population: how the somatic voltage
// integrates the dendritic voltages, what the neuron sends on (its rate,
// or spikes), and what forward plasticity compares.
//
// The methods work on one sample at a time; Layer calls them for the rows
// of a minibatch, from several goroutines at once for different rows, so an
// implementation keeps no per-call state of its own outside the row.
type Soma interface {
	// Extra names the soma's own per-neuron state variables beyond the
	// voltage and the rate (nil for a rate neuron); every State made for
	// the layer holds one batch × n matrix for each.
	Extra() []string
	// Reset sets one sample to the state at the start of a window: the
	// fixed point of its basal input alone (r.Basal is set; the apical
	// voltage is zero).
	Reset(r *Row)
	// Integrate advances one sample by one Euler step: on entry r.Basal and
	// r.Apical hold the new dendritic voltages v_ff[k+1] and v_fb[k+1]; it
	// updates r.Soma, adds noise (σ_s·ξ, nil when there is none) to it
	// before the output is computed, and sets r.Rate.
	Integrate(r *Row, noise []float64)
	// Mismatch sets dst to what the neuron sends minus what its basal input
	// alone would make it send (φ(v) − φ(v_ff) for a rate neuron): the
	// error that forward plasticity turns into weight changes.
	Mismatch(dst []float64, r *Row)
}

// A random soma draws uniform numbers every step: the layer fills
// Row.Rand from its noise source (a UniformSource) before Integrate.
type random interface {
	Random() bool
}

// A SomaModel makes the somata of a population from its constants. The
// model holds the soma's own constants and is a value that can be
// compared and printed; NewSoma validates them.
type SomaModel interface {
	NewSoma(p Params) (Soma, error)
}

// RateSoma is the rate neuron of Strong-DFC (the default soma): a leaky
// integrator of the sum of its dendritic voltages whose rate is φ of the
// voltage,
//
//	v[k+1] = v[k] + (dt/τ_v)·(v_fb[k+1] + v_ff[k+1] − v[k]),  r = φ(v[k+1]).
//
// Its mismatch, what forward plasticity learns from, is φ(v) − φ(v_ff) as
// published. With FilteredPrediction the basal prediction is the voltage
// the soma would have with its basal input alone, v̂, which follows v_ff
// with the soma's own time constant,
//
//	v̂[k+1] = v̂[k] + (dt/τ_v)·(v_ff[k+1] − v̂[k]),   mismatch φ(v) − φ(v̂),
//
// (Urbanczik and Senn's dendritic prediction, filtered like the soma):
// without apical input and noise v̂ = v exactly, so when the input
// switches and the soma lags behind the new basal voltage, the lag is not
// taken for an error. It matters where the state is carried from one
// sample to the next (a stream); v̂ is the soma's own variable
// "prediction".
type RateSoma struct {
	FilteredPrediction bool
}

// NewSoma returns the rate soma for p.
func (m RateSoma) NewSoma(p Params) (Soma, error) {
	s := &rate{act: p.Activation, k: p.DT / p.TauV}
	if m.FilteredPrediction {
		return &filteredRate{s}, nil
	}
	return s, nil
}

// String names the model.
func (m RateSoma) String() string {
	if m.FilteredPrediction {
		return "rate(filtered prediction)"
	}
	return "rate"
}

type rate struct {
	act Activation
	k   float64 // dt/τ_v
}

func (*rate) Extra() []string { return nil }

func (s *rate) Reset(r *Row) {
	copy(r.Soma, r.Basal)
	s.act.Apply(r.Rate, r.Soma)
}

func (s *rate) Integrate(r *Row, noise []float64) {
	integrate(s.k, r, noise)
	s.act.Apply(r.Rate, r.Soma)
}

func (s *rate) Mismatch(dst []float64, r *Row) { mismatch(s.act, dst, r.Rate, r.Basal) }

// filteredRate is the rate soma with the filtered basal prediction; its
// own variable 0 is v̂.
type filteredRate struct{ *rate }

func (*filteredRate) Extra() []string { return []string{"prediction"} }

func (s *filteredRate) Reset(r *Row) {
	s.rate.Reset(r)
	copy(r.Extra[0], r.Basal)
}

func (s *filteredRate) Integrate(r *Row, noise []float64) {
	s.rate.Integrate(r, noise)
	follow(s.k, r.Extra[0], r.Basal)
}

func (s *filteredRate) Mismatch(dst []float64, r *Row) { mismatch(s.act, dst, r.Rate, r.Extra[0]) }

// follow moves the prediction v̂ one Euler step towards the basal voltage:
// v̂ += k·(v_ff − v̂).
func follow(k float64, pred, basal []float64) {
	basal = basal[:len(pred)]
	for j := range pred {
		pred[j] += k * (basal[j] - pred[j])
	}
}

// integrate is the Euler step of a somatic voltage that leaks towards the
// sum of its dendritic voltages, v += k·(v_fb + v_ff − v), plus the
// somatic noise (nil: none): the soma of every neuron type.
func integrate(k float64, r *Row, noise []float64) {
	v := r.Soma
	ap, basal := r.Apical[:len(v)], r.Basal[:len(v)]
	for j := range v {
		v[j] += k * (ap[j] + basal[j] - v[j])
	}
	if noise != nil {
		noise = noise[:len(v)]
		for j := range v {
			v[j] += noise[j]
		}
	}
}

// mismatch sets dst to what the neuron sends (rate) minus φ(pred), the
// rate its basal input alone would give: pred is v_ff (as published) or
// the filtered prediction v̂.
func mismatch(act Activation, dst, rate, pred []float64) {
	act.Apply(dst, pred)
	rate = rate[:len(dst)]
	for j := range dst {
		dst[j] = rate[j] - dst[j]
	}
}

// Apical is the apical compartment of a population: how the top-down drive
// Q·u and the noise make the apical voltage v_fb. Like Soma, it works on
// one sample at a time and keeps no per-call state.
type Apical interface {
	// Update sets one sample's apical voltage ap (holding v_fb[k]) to
	// v_fb[k+1] from the new drive and the noise term σ·ñ[k+1] (nil when
	// the layer has no apical noise).
	Update(ap, drive, noise []float64)
}

// FilteredNoise is the apical noise of one sample: the standard normal
// draws Xi, the filter state Nz (ñ), and the constants of
// ñ[k+1] = C1·ξ + C2·ñ[k] and of the term σ·ñ[k+1].
type FilteredNoise struct {
	Xi, Nz        []float64
	C1, C2, Sigma float64
}

// NoisyApical is implemented by apical compartments that fuse the noise
// filter into their update (one pass over memory instead of two). Update
// with the noise term must give the same result as UpdateNoisy.
type NoisyApical interface {
	Apical
	// UpdateNoisy advances the filter state n.Nz, sets n.Xi to the term
	// σ·ñ[k+1], and updates ap as Update(ap, drive, n.Xi) would.
	UpdateNoisy(ap, drive []float64, n FilteredNoise)
}

// An ApicalModel makes the apical compartments of a population from its
// constants.
type ApicalModel interface {
	NewApical(p Params) (Apical, error)
}

// InstantApical is the apical compartment without dynamics of single-phase
// Strong-DFC (the default): v_fb = Q·u + σ·ñ.
type InstantApical struct{}

// NewApical returns the compartment.
func (InstantApical) NewApical(Params) (Apical, error) { return InstantApical{}, nil }

// String names the model.
func (InstantApical) String() string { return "instant" }

// Update sets ap = drive + noise.
func (InstantApical) Update(ap, drive, noise []float64) {
	drive = drive[:len(ap)]
	if noise == nil {
		copy(ap, drive)
		return
	}
	noise = noise[:len(ap)]
	for j := range ap {
		ap[j] = drive[j] + noise[j]
	}
}

// UpdateNoisy is Update fused with the noise filter.
func (InstantApical) UpdateNoisy(ap, drive []float64, n FilteredNoise) {
	drive = drive[:len(ap)]
	xi, nz := n.Xi[:len(ap)], n.Nz[:len(ap)]
	c1, c2, sigma := n.C1, n.C2, n.Sigma
	for j := range ap {
		z := c1*xi[j] + c2*nz[j]
		nz[j] = z
		t := sigma * z
		xi[j] = t
		ap[j] = drive[j] + t
	}
}

// LeakyApical is an apical compartment with its own time constant Tau (the
// sleep phase of DFC):
//
//	v_fb[k+1] = v_fb[k] + (dt/Tau)·(Q·u + σ·ñ − v_fb[k]).
type LeakyApical struct {
	Tau float64
}

// NewApical validates Tau (dt ≤ Tau) and returns the compartment.
func (a LeakyApical) NewApical(p Params) (Apical, error) {
	if !(a.Tau > 0) || a.Tau > 1e300 {
		return nil, fmt.Errorf("neuron: apical time constant %g must be positive and finite", a.Tau)
	}
	if p.DT > a.Tau {
		return nil, fmt.Errorf("neuron: time step dt = %g is larger than the apical time constant %g", p.DT, a.Tau)
	}
	return leaky{k: p.DT / a.Tau}, nil
}

// String names the model.
func (a LeakyApical) String() string { return fmt.Sprintf("leaky(τ=%g)", a.Tau) }

type leaky struct{ k float64 }

func (l leaky) Update(ap, drive, noise []float64) {
	k := l.k
	drive = drive[:len(ap)]
	if noise == nil {
		for j := range ap {
			ap[j] += k * (drive[j] - ap[j])
		}
		return
	}
	noise = noise[:len(ap)]
	for j := range ap {
		ap[j] += k * (drive[j] + noise[j] - ap[j])
	}
}

func (l leaky) UpdateNoisy(ap, drive []float64, n FilteredNoise) {
	k := l.k
	drive = drive[:len(ap)]
	xi, nz := n.Xi[:len(ap)], n.Nz[:len(ap)]
	c1, c2, sigma := n.C1, n.C2, n.Sigma
	for j := range ap {
		z := c1*xi[j] + c2*nz[j]
		nz[j] = z
		t := sigma * z
		xi[j] = t
		ap[j] += k * (drive[j] + t - ap[j])
	}
}
