package neuron

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/compute"
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
	// Apical is the apical compartment's model; nil means InstantApical,
	// v_fb = Q·u + σ·ñ (single-phase Strong-DFC). LeakyApical gives it its
	// own dynamics (the sleep phase of DFC).
	Apical ApicalModel
	// Soma is the soma's model; nil means RateSoma.
	Soma SomaModel
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
	case !(p.SomaSigma >= 0) || math.IsInf(p.SomaSigma, 0):
		return fmt.Errorf("neuron: somatic noise σ = %g must be non-negative and finite", p.SomaSigma)
	}
	// The models validate their own constants.
	if p.Apical != nil {
		if _, err := p.Apical.NewApical(p); err != nil {
			return err
		}
	}
	if p.Soma != nil {
		if _, err := p.Soma.NewSoma(p); err != nil {
			return err
		}
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
	// Rate is the firing rate r = φ(v) (what the neuron sends on).
	Rate *mat.Dense
	// Noise is the filtered noise state ñ (before scaling by σ).
	Noise *mat.Dense
	// Extra are the soma's own state variables (Soma.Extra names them).
	Extra []*mat.Dense

	rows []Row
	// Scratch of one step, n values per row, used in turn for the apical
	// noise draws and term, the somatic noise and the mismatch: one
	// buffer, so that a step touches no more memory than it must. ru holds
	// a random soma's uniform draws.
	xi, ru []float64
}

// NewState returns a zero state for batch samples of n neurons with extra
// soma variables (Layer.NewState gives a layer's soma its own).
func NewState(batch, n, extra int) *State {
	if batch <= 0 || n <= 0 || extra < 0 {
		panic(fmt.Sprintf("neuron: NewState(%d, %d, %d): sizes must be positive", batch, n, extra))
	}
	s := &State{
		Basal:    mat.NewDense(batch, n, nil),
		Feedback: mat.NewDense(batch, n, nil),
		Apical:   mat.NewDense(batch, n, nil),
		Soma:     mat.NewDense(batch, n, nil),
		Rate:     mat.NewDense(batch, n, nil),
		Noise:    mat.NewDense(batch, n, nil),
		xi:       make([]float64, batch*n),
	}
	for range extra {
		s.Extra = append(s.Extra, mat.NewDense(batch, n, nil))
	}
	s.makeRows()
	return s
}

// makeRows builds the per-sample views of the state's matrices.
func (s *State) makeRows() {
	b, n := s.Dims()
	s.rows = make([]Row, b)
	row := func(m *mat.Dense, i int) []float64 {
		raw := m.RawMatrix()
		return raw.Data[i*raw.Stride:][:n:n]
	}
	for i := range s.rows {
		r := &s.rows[i]
		r.Basal, r.Apical, r.Soma, r.Rate = row(s.Basal, i), row(s.Apical, i), row(s.Soma, i), row(s.Rate, i)
		for _, m := range s.Extra {
			r.Extra = append(r.Extra, row(m, i))
		}
		if s.ru != nil {
			r.Rand = s.ru[i*n:][:n:n]
		}
	}
}

// Dims returns the batch size and the number of neurons.
func (s *State) Dims() (batch, n int) { return s.Soma.Dims() }

// Row returns the view of sample i.
func (s *State) Row(i int) *Row { return &s.rows[i] }

// Layer is a population of neurons with fixed parameters: its soma and
// apical compartment, its noise, and the pool its steps run on. It is not
// safe for concurrent use: one circuit steps it at a time.
type Layer struct {
	index  int
	p      Params
	noise  NoiseSource
	rows   RowsSource // noise, when it draws blocks of rows at once
	pool   *compute.Pool
	soma   Soma
	apical Apical
	noisy  NoisyApical   // apical, when it fuses the noise filter
	unif   UniformSource // for a random soma's draws (nil otherwise)

	c1, c2 float64 // noise filter: ñ ← c1·ξ + c2·ñ

	body   stepBody
	noTaps Taps
}

// NewLayer validates p and returns the layer with the given index (1 for
// the first layer above the input; the index names the layer's noise
// streams), whose steps run on pool (nil: on the caller). noise may be nil
// when the layer has no noise.
func NewLayer(index int, p Params, noise NoiseSource, pool *compute.Pool) (*Layer, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("layer %d: %w", index, err)
	}
	if index < 1 {
		return nil, fmt.Errorf("neuron: layer index %d must be at least 1", index)
	}
	if (p.Sigma > 0 || p.SomaSigma > 0) && noise == nil {
		return nil, errors.New("neuron: a layer with noise (σ > 0) needs a noise source")
	}
	if p.Soma == nil {
		p.Soma = RateSoma{}
	}
	if p.Apical == nil {
		p.Apical = InstantApical{}
	}
	l := &Layer{index: index, p: p, noise: noise, pool: pool}
	l.rows, _ = noise.(RowsSource)
	var err error
	if l.soma, err = p.Soma.NewSoma(p); err != nil {
		return nil, fmt.Errorf("layer %d: %w", index, err)
	}
	if l.apical, err = p.Apical.NewApical(p); err != nil {
		return nil, fmt.Errorf("layer %d: %w", index, err)
	}
	l.noisy, _ = l.apical.(NoisyApical)
	if r, ok := l.soma.(random); ok && r.Random() {
		u, ok := noise.(UniformSource)
		if !ok {
			return nil, fmt.Errorf("layer %d: its soma spikes at random and needs a noise source with uniform streams (neuron.Gaussian)", index)
		}
		l.unif = u
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

// Params returns the layer's parameters (with the default models filled
// in).
func (l *Layer) Params() Params { return l.p }

// Index returns the layer's index.
func (l *Layer) Index() int { return l.index }

// Size returns the number of neurons.
func (l *Layer) Size() int { return l.p.Size }

// Soma returns the layer's soma.
func (l *Layer) Soma() Soma { return l.soma }

// NewState returns a zero state of the layer for batch samples, with the
// soma's own variables.
func (l *Layer) NewState(batch int) *State {
	st := NewState(batch, l.p.Size, len(l.soma.Extra()))
	if l.unif != nil {
		st.ru = make([]float64, batch*l.p.Size)
		st.makeRows()
		l.unif.ReserveUniform(l.index+1, batch)
	}
	return st
}

// Reset sets the state to the start of a window at its current basal
// input: each soma at the fixed point of its basal input (Soma.Reset), and
// zero apical voltage, feedback drive and noise (k = 0).
func (l *Layer) Reset(st *State) {
	b := l.checkState(st)
	for i := range b {
		l.soma.Reset(&st.rows[i])
	}
	st.Apical.Zero()
	st.Feedback.Zero()
	st.Noise.Zero()
}

// Mismatch sets dst (batch × n) to the soma's mismatch of the current state
// (see Soma.Mismatch), for rules that take it once per window.
func (l *Layer) Mismatch(dst *mat.Dense, st *State) {
	b := l.checkState(st)
	if r, c := dst.Dims(); r != b || c != l.p.Size {
		panic(fmt.Sprintf("neuron: Mismatch: dst is %d×%d, want %d×%d", r, c, b, l.p.Size))
	}
	for i := range b {
		l.soma.Mismatch(dst.RawRowView(i), &st.rows[i])
	}
}

// Step advances the population by one Euler step of length dt.
//
// On entry st.Basal holds the new basal voltage v_ff[k+1] and st.Feedback
// the new top-down drive Q·u[k+1]. For each sample Step draws the noise ξ
// and updates the filtered noise ñ, lets the apical compartment set
// v_fb[k+1] (Apical.Update) and the soma integrate (Soma.Integrate, with
// the somatic noise), and fills the taps (nil: none). The batch is split
// among the pool's workers by rows; each row is one pass over memory.
func (l *Layer) Step(st *State, taps *Taps) {
	b := l.checkState(st)
	if taps == nil {
		taps = &l.noTaps
	}
	for _, t := range taps.list {
		if !t.Dst.Fits(b, l.p.Size) {
			t.Dst.Check("neuron: Step: "+t.Q.String()+" tap", b, l.p.Size)
		}
	}
	l.body.st, l.body.taps = st, taps
	l.pool.Run(b, 8, &l.body)
	l.body.st, l.body.taps = nil, nil
}

func (l *Layer) checkState(st *State) int {
	b, n := st.Dims()
	if n != l.p.Size {
		panic(fmt.Sprintf("neuron: layer %d has %d neurons, state has %d", l.index, l.p.Size, n))
	}
	check := func(m *mat.Dense) {
		if r, c := m.Dims(); r != b || c != n {
			panic(fmt.Sprintf("neuron: layer %d state matrices disagree: %d×%d and %d×%d", l.index, b, n, r, c))
		}
	}
	check(st.Basal)
	check(st.Feedback)
	check(st.Apical)
	check(st.Rate)
	check(st.Noise)
	for _, m := range st.Extra {
		check(m)
	}
	if want := len(l.soma.Extra()); len(st.Extra) != want {
		panic(fmt.Sprintf("neuron: layer %d's soma has %d variables of its own, the state %d (use Layer.NewState)", l.index, want, len(st.Extra)))
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

func (s *stepBody) Range(lo, hi int) {
	l, st, taps := s.l, s.st, s.taps
	n := l.p.Size
	sigma, c1, c2, ss := l.p.Sigma, l.c1, l.c2, l.p.SomaSigma
	fbM, nzM := st.Feedback.RawMatrix(), st.Noise.RawMatrix()
	for i0 := lo; i0 < hi; i0 += compute.RowBlock {
		i1 := min(i0+compute.RowBlock, hi)
		// The block's apical draws ξ, into the rows' scratch: at once
		// where the source can, else row by row below.
		drawn := sigma != 0 && l.rows != nil
		if drawn {
			l.rows.StdNormalRows(l.index, i0, i1-i0, n, st.xi[i0*n:], n)
		}
		for i := i0; i < i1; i++ {
			row := &st.rows[i]
			fb := fbM.Data[i*fbM.Stride:][:n]
			// The apical noise term σ·ñ[k+1] goes into the row's scratch.
			switch {
			case sigma == 0:
				l.apical.Update(row.Apical, fb, nil)
			case l.noisy != nil:
				fn := FilteredNoise{Xi: st.xi[i*n:][:n], Nz: nzM.Data[i*nzM.Stride:][:n], C1: c1, C2: c2, Sigma: sigma}
				if !drawn {
					l.noise.StdNormal(l.index, i, fn.Xi)
				}
				l.noisy.UpdateNoisy(row.Apical, fb, fn)
			default:
				xi, nz := st.xi[i*n:][:n], nzM.Data[i*nzM.Stride:][:n]
				if !drawn {
					l.noise.StdNormal(l.index, i, xi)
				}
				for j := range n {
					z := c1*xi[j] + c2*nz[j]
					nz[j] = z
					xi[j] = sigma * z
				}
				l.apical.Update(row.Apical, fb, xi)
			}
			var somaNoise []float64
			if ss > 0 {
				// The row's scratch is free again once the apical
				// compartment has its voltage.
				somaNoise = st.xi[i*n:][:n]
				l.noise.StdNormal(-l.index, i, somaNoise)
				for j := range somaNoise {
					somaNoise[j] *= ss
				}
			}
			if l.unif != nil {
				l.unif.Uniform(l.index, i, row.Rand)
			}
			l.soma.Integrate(row, somaNoise)
			if taps.mismatch {
				l.soma.Mismatch(st.xi[i*n:][:n], row)
			}
		}
		for _, t := range taps.list {
			src, stride := st.tapSource(t.Q)
			t.Dst.PutRows(i0, i1, src, stride, n)
		}
	}
}

// tapSource returns the memory of quantity q and its row stride.
func (s *State) tapSource(q Quantity) ([]float64, int) {
	var m *mat.Dense
	switch q {
	case TapMismatch:
		_, n := s.Dims()
		return s.xi, n
	case TapRate:
		m = s.Rate
	case TapApical:
		m = s.Apical
	case TapSoma:
		m = s.Soma
	case TapBasal:
		m = s.Basal
	}
	raw := m.RawMatrix()
	return raw.Data, raw.Stride
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
	v := &State{
		Basal: sl(s.Basal), Feedback: sl(s.Feedback), Apical: sl(s.Apical),
		Soma: sl(s.Soma), Rate: sl(s.Rate), Noise: sl(s.Noise),
		rows: s.rows[:b], xi: s.xi[:b*n],
	}
	for _, m := range s.Extra {
		v.Extra = append(v.Extra, sl(m))
	}
	if s.ru != nil {
		v.ru = s.ru[:b*n]
	}
	return v
}
