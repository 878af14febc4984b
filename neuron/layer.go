package neuron

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/internal/par"
)

// Params are the physical constants of one population. They are validated
// by NewLayer and immutable afterwards.
type Params struct {
	// Size is the number of neurons.
	Size int
	// Activation is the rate function φ of the soma.
	Activation Activation
	// DT is the Euler time step and TauV the somatic time constant
	// (0 < DT ≤ TauV).
	DT, TauV float64
	// Sigma is the amplitude of the apical noise (≥ 0; 0 switches it off).
	Sigma float64
	// TauNoise is the time constant of the noise's low-pass filter,
	// ñ[k+1] = (a/√dt)·ξ + (1−a)·ñ[k] with a = DT/TauNoise. Zero means white
	// noise, ñ = ξ/√dt. Otherwise DT ≤ TauNoise.
	TauNoise float64
	// ApicalTau is the time constant of the apical compartment. Zero makes
	// it instantaneous, v_fb = Q·u + σ·ñ (single-phase Strong-DFC); a
	// positive value gives it its own dynamics,
	// v_fb += (DT/ApicalTau)·(Q·u + σ·ñ − v_fb) (the sleep phase of DFC).
	ApicalTau float64
	// SomaSigma is the standard deviation of noise added to the somatic
	// voltage at every step, v[k+1] += SomaSigma·ξ (0: none). It models
	// noisy dynamics, as in the noise study; its draws come from the noise
	// source's somatic stream of the layer (index −layer).
	SomaSigma float64
}

// Validate reports the first impossible value in p.
func (p Params) Validate() error {
	switch {
	case p.Size <= 0:
		return fmt.Errorf("neuron: layer size %d must be positive", p.Size)
	case !p.Activation.Valid():
		return fmt.Errorf("neuron: invalid activation %d", uint8(p.Activation))
	case !(p.DT > 0) || math.IsInf(p.DT, 0):
		return fmt.Errorf("neuron: time step dt = %g must be positive and finite", p.DT)
	case !(p.TauV > 0) || math.IsInf(p.TauV, 0):
		return fmt.Errorf("neuron: somatic time constant τ_v = %g must be positive and finite", p.TauV)
	case p.DT > p.TauV:
		return fmt.Errorf("neuron: time step dt = %g is larger than τ_v = %g; the Euler step would overshoot (use dt ≤ τ_v)", p.DT, p.TauV)
	case !(p.Sigma >= 0) || math.IsInf(p.Sigma, 0):
		return fmt.Errorf("neuron: noise amplitude σ = %g must be non-negative and finite", p.Sigma)
	case !(p.TauNoise >= 0) || math.IsInf(p.TauNoise, 0):
		return fmt.Errorf("neuron: noise time constant τ_noise = %g must be non-negative and finite", p.TauNoise)
	case p.TauNoise > 0 && p.DT > p.TauNoise:
		return fmt.Errorf("neuron: time step dt = %g is larger than τ_noise = %g (use dt ≤ τ_noise, or τ_noise = 0 for white noise)", p.DT, p.TauNoise)
	case !(p.ApicalTau >= 0) || math.IsInf(p.ApicalTau, 0):
		return fmt.Errorf("neuron: apical time constant %g must be non-negative and finite", p.ApicalTau)
	case p.ApicalTau > 0 && p.DT > p.ApicalTau:
		return fmt.Errorf("neuron: time step dt = %g is larger than the apical time constant %g", p.DT, p.ApicalTau)
	case !(p.SomaSigma >= 0) || math.IsInf(p.SomaSigma, 0):
		return fmt.Errorf("neuron: somatic noise σ = %g must be non-negative and finite", p.SomaSigma)
	}
	return nil
}

// State is the state of one population for a minibatch, batch-major: row b
// of every matrix is sample b.
type State struct {
	// Basal is the basal (forward) voltage v_ff.
	Basal *mat.Dense
	// Feedback is the top-down drive Q·u that reaches the apical
	// compartment, before noise.
	Feedback *mat.Dense
	// Apical is the apical (feedback) voltage v_fb, noise included.
	Apical *mat.Dense
	// Soma is the somatic voltage v.
	Soma *mat.Dense
	// Rate is the firing rate r = φ(v).
	Rate *mat.Dense
	// Noise is the filtered noise state ñ (before scaling by σ).
	Noise *mat.Dense

	xi []float64 // scratch for one step's draws
}

// NewState returns a zero state for batch samples of n neurons.
func NewState(batch, n int) *State {
	if batch <= 0 || n <= 0 {
		panic(fmt.Sprintf("neuron: NewState(%d, %d): sizes must be positive", batch, n))
	}
	return &State{
		Basal:    mat.NewDense(batch, n, nil),
		Feedback: mat.NewDense(batch, n, nil),
		Apical:   mat.NewDense(batch, n, nil),
		Soma:     mat.NewDense(batch, n, nil),
		Rate:     mat.NewDense(batch, n, nil),
		Noise:    mat.NewDense(batch, n, nil),
		xi:       make([]float64, batch*n),
	}
}

// Dims returns the batch size and the number of neurons.
func (s *State) Dims() (batch, n int) { return s.Soma.Dims() }

// Layer is a population of neurons with fixed parameters. It is not safe
// for concurrent use: one circuit steps it at a time.
type Layer struct {
	index int
	p     Params
	noise NoiseSource
	pool  *par.Pool

	k      float64 // dt/τ_v
	ka     float64 // dt/τ_apical (dynamic apical compartment)
	c1, c2 float64 // noise filter: ñ ← c1·ξ + c2·ñ

	body   stepBody
	noTaps Taps
}

// NewLayer validates p and returns the layer with the given index (1 for
// the first layer above the input; the index names the layer's noise
// streams). noise may be nil when p.Sigma is 0.
func NewLayer(index int, p Params, noise NoiseSource) (*Layer, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("layer %d: %w", index, err)
	}
	if index < 1 {
		return nil, fmt.Errorf("neuron: layer index %d must be at least 1", index)
	}
	if (p.Sigma > 0 || p.SomaSigma > 0) && noise == nil {
		return nil, errors.New("neuron: a layer with noise (σ > 0) needs a noise source")
	}
	l := &Layer{index: index, p: p, noise: noise, pool: par.Default(), k: p.DT / p.TauV}
	if p.ApicalTau > 0 {
		l.ka = p.DT / p.ApicalTau
	}
	if p.TauNoise > 0 {
		a := p.DT / p.TauNoise
		l.c1, l.c2 = a/math.Sqrt(p.DT), 1-a
	} else {
		l.c1, l.c2 = 1/math.Sqrt(p.DT), 0
	}
	l.body.l = l
	return l, nil
}

// Params returns the layer's parameters.
func (l *Layer) Params() Params { return l.p }

// Index returns the layer's index.
func (l *Layer) Index() int { return l.index }

// Size returns the number of neurons.
func (l *Layer) Size() int { return l.p.Size }

// Reset sets the state to the feedforward fixed point of the current basal
// input: v = v_ff, r = φ(v_ff), and zero apical voltage, feedback drive and
// noise. It is the state at the start of a window (k = 0).
func (l *Layer) Reset(st *State) {
	l.checkState(st)
	st.Soma.Copy(st.Basal)
	l.p.Activation.Apply(st.Rate.RawMatrix().Data, st.Soma.RawMatrix().Data)
	st.Apical.Zero()
	st.Feedback.Zero()
	st.Noise.Zero()
}

// Strided is a destination for one value per sample and neuron: the value
// of sample i, neuron j goes to Data[i*RowStride + j*ColStride]. With
// RowStride = n and ColStride = 1 it is a batch-major matrix; with
// RowStride = 1 it is a neuron-major (transposed) one, as the plasticity
// rules stack their time steps.
type Strided struct {
	Data                 []float64
	RowStride, ColStride int
	// Add makes Step add to the destination instead of overwriting it.
	Add bool
}

// StridedMatrix returns the batch-major destination of m.
func StridedMatrix(m *mat.Dense, add bool) *Strided {
	raw := m.RawMatrix()
	return &Strided{Data: raw.Data, RowStride: raw.Stride, ColStride: 1, Add: add}
}

func (d *Strided) check(who string, b, n int) {
	if d == nil {
		return
	}
	last := (b-1)*d.RowStride + (n-1)*d.ColStride
	if d.RowStride < 0 || d.ColStride < 0 || last >= len(d.Data) {
		panic(fmt.Sprintf("neuron: Step: %s destination of %d values cannot hold %d×%d with strides %d, %d",
			who, len(d.Data), b, n, d.RowStride, d.ColStride))
	}
}

func (d *Strided) put(i int, v []float64) {
	dst, cs := d.Data[i*d.RowStride:], d.ColStride
	if d.Add {
		for j, x := range v {
			dst[j*cs] += x
		}
		return
	}
	if cs == 1 {
		copy(dst, v)
		return
	}
	for j, x := range v {
		dst[j*cs] = x
	}
}

// Taps are optional destinations that Step fills while a row's values are
// in cache, so that plasticity needs no separate pass over memory.
type Taps struct {
	// Diff receives the somatic-minus-basal rate difference
	// φ(v[k+1]) − φ(v_ff[k+1]) that drives forward plasticity.
	Diff *Strided
	// Rate receives a copy of the new rates r[k+1] (the presynaptic rates
	// of the next layer's forward plasticity).
	Rate *Strided
	// Apical receives a copy of the new apical voltage v_fb[k+1] (for
	// feedback plasticity).
	Apical *Strided
}

// Step advances the population by one Euler step of length dt.
//
// On entry st.Basal holds the new basal voltage v_ff[k+1] and st.Feedback
// the new top-down drive Q·u[k+1]. Step draws the noise ξ, updates the
// filtered noise ñ, sets the apical voltage v_fb[k+1], integrates the soma
//
//	v[k+1] = v[k] + (dt/τ_v)·(v_fb[k+1] + v_ff[k+1] − v[k]),  r = φ(v[k+1]),
//
// and fills the taps that are not nil. The batch is split among the
// worker goroutines by rows; each row is one pass over memory.
func (l *Layer) Step(st *State, taps *Taps) {
	b := l.checkState(st)
	if taps == nil {
		taps = &l.noTaps
	}
	taps.Diff.check("diff", b, l.p.Size)
	taps.Rate.check("rate", b, l.p.Size)
	taps.Apical.check("apical", b, l.p.Size)
	l.body.st, l.body.taps = st, taps
	l.pool.Run(b, 8, &l.body)
	l.body.st, l.body.taps = nil, nil
}

func (l *Layer) checkState(st *State) int {
	b, n := st.Dims()
	if n != l.p.Size {
		panic(fmt.Sprintf("neuron: layer %d has %d neurons, state has %d", l.index, l.p.Size, n))
	}
	for _, m := range []*mat.Dense{st.Basal, st.Feedback, st.Apical, st.Rate, st.Noise} {
		if r, c := m.Dims(); r != b || c != n {
			panic(fmt.Sprintf("neuron: layer %d state matrices disagree: %d×%d and %d×%d", l.index, b, n, r, c))
		}
	}
	return b
}

// stepBody is the per-row kernel of Layer.Step, kept in the layer so that a
// step allocates nothing.
type stepBody struct {
	l    *Layer
	st   *State
	taps *Taps
}

// rowBlock is the number of rows the kernel finishes before writing their
// rate differences, so that a strided (neuron-major) destination receives
// rowBlock consecutive values per cache line instead of one.
const rowBlock = 4

func (s *stepBody) Range(lo, hi int) {
	l, st, taps := s.l, s.st, s.taps
	n := l.p.Size
	sigma, k, ka, c1, c2 := l.p.Sigma, l.k, l.ka, l.c1, l.c2
	act := l.p.Activation
	basalM, fbM, apM := st.Basal.RawMatrix(), st.Feedback.RawMatrix(), st.Apical.RawMatrix()
	somaM, rateM, nzM := st.Soma.RawMatrix(), st.Rate.RawMatrix(), st.Noise.RawMatrix()
	for i0 := lo; i0 < hi; i0 += rowBlock {
		i1 := min(i0+rowBlock, hi)
		for i := i0; i < i1; i++ {
			basal := basalM.Data[i*basalM.Stride:][:n]
			fb := fbM.Data[i*fbM.Stride:][:n]
			ap := apM.Data[i*apM.Stride:][:n]
			soma := somaM.Data[i*somaM.Stride:][:n]
			rate := rateM.Data[i*rateM.Stride:][:n]
			nz := nzM.Data[i*nzM.Stride:][:n]
			xi := st.xi[i*n:][:n]
			// Apical compartment and soma, in one pass.
			switch {
			case ka == 0 && sigma > 0:
				l.noise.StdNormal(l.index, i, xi)
				for j := range n {
					z := c1*xi[j] + c2*nz[j]
					nz[j] = z
					a := fb[j] + sigma*z
					ap[j] = a
					soma[j] += k * (a + basal[j] - soma[j])
				}
			case ka == 0:
				for j := range n {
					a := fb[j]
					ap[j] = a
					soma[j] += k * (a + basal[j] - soma[j])
				}
			case sigma > 0:
				l.noise.StdNormal(l.index, i, xi)
				for j := range n {
					z := c1*xi[j] + c2*nz[j]
					nz[j] = z
					a := ap[j] + ka*(fb[j]+sigma*z-ap[j])
					ap[j] = a
					soma[j] += k * (a + basal[j] - soma[j])
				}
			default:
				for j := range n {
					a := ap[j] + ka*(fb[j]-ap[j])
					ap[j] = a
					soma[j] += k * (a + basal[j] - soma[j])
				}
			}
			if ss := l.p.SomaSigma; ss > 0 {
				// Somatic noise; xi is free again once the apical loop is done.
				l.noise.StdNormal(-l.index, i, xi)
				for j := range n {
					soma[j] += ss * xi[j]
				}
			}
			act.Apply(rate, soma)
			if taps.Diff != nil {
				// φ(v) − φ(v_ff) into the noise scratch of the row.
				act.Apply(xi, basal)
				for j := range n {
					xi[j] = rate[j] - xi[j]
				}
			}
		}
		if taps.Diff != nil {
			taps.Diff.putRows(i0, i1, st.xi, n, n)
		}
		if taps.Rate != nil {
			taps.Rate.putRows(i0, i1, rateM.Data, rateM.Stride, n)
		}
		if taps.Apical != nil {
			taps.Apical.putRows(i0, i1, apM.Data, apM.Stride, n)
		}
	}
}

// putRows writes rows i0..i1-1 of src (n values each, rows stride apart)
// to d, several rows per cache line when d is neuron-major.
func (d *Strided) putRows(i0, i1 int, src []float64, stride, n int) {
	if d.RowStride != 1 || d.Add || i1-i0 != rowBlock {
		for i := i0; i < i1; i++ {
			d.put(i, src[i*stride:][:n])
		}
		return
	}
	r0, r1 := src[i0*stride:][:n], src[(i0+1)*stride:][:n]
	r2, r3 := src[(i0+2)*stride:][:n], src[(i0+3)*stride:][:n]
	cs := d.ColStride
	data := d.Data[i0:]
	for j := range n {
		c := data[j*cs:][:4]
		c[0], c[1], c[2], c[3] = r0[j], r1[j], r2[j], r3[j]
	}
}

// Rows returns a state whose matrices are the first b rows of s's (sharing
// their memory), for a batch smaller than the state's capacity.
func (s *State) Rows(b int) *State {
	r, n := s.Dims()
	if b <= 0 || b > r {
		panic(fmt.Sprintf("neuron: State.Rows(%d) of a state with %d rows", b, r))
	}
	if b == r {
		return s
	}
	sl := func(m *mat.Dense) *mat.Dense { return m.Slice(0, b, 0, n).(*mat.Dense) }
	return &State{
		Basal: sl(s.Basal), Feedback: sl(s.Feedback), Apical: sl(s.Apical),
		Soma: sl(s.Soma), Rate: sl(s.Rate), Noise: sl(s.Noise), xi: s.xi[:b*n],
	}
}
