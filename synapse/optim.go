package synapse

import (
	"errors"
	"fmt"
	"math"

	"github.com/strongdfc/strongdfc/compute"
)

// ClipNorm scales the gradients of a group jointly so that their combined
// Euclidean norm N is at most max, as torch.nn.utils.clip_grad_norm_ does:
// every entry is multiplied by min(1, max/(N + 1e-6)). It returns N, the
// norm before clipping. max ≤ 0 disables clipping (N is still returned).
func ClipNorm(max float64, grads ...[]float64) float64 {
	var sq float64
	for _, g := range grads {
		n := norm2(g)
		sq += n * n
	}
	total := math.Sqrt(sq)
	if max <= 0 {
		return total
	}
	c := max / (total + 1e-6)
	if c < 1 {
		for _, g := range grads {
			for i := range g {
				g[i] *= c
			}
		}
	}
	return total
}

// norm2 is the Euclidean norm of x.
func norm2(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s)
}

// Optimizer applies the gradients held in its parameters.
type Optimizer interface {
	// Step updates every parameter's value from its gradient.
	Step()
	// Params returns the parameters the optimizer updates.
	Params() []Param
	// State returns a copy of the optimizer's state, for checkpoints.
	State() OptimizerState
	// SetState restores a state returned by State of an optimizer of the
	// same kind and parameters; on error nothing changes.
	SetState(OptimizerState) error
}

// A StateViewer returns its state without copying it: the buffers are the
// optimizer's own, valid until its next Step or SetState and not to be
// changed. A checkpoint is written from views, so that writing one does
// not hold a second copy of every buffer (Adam's two moments are twice the
// parameters).
type StateViewer interface {
	StateView() OptimizerState
}

// cloneState returns s with its buffers deep-copied.
func cloneState(s OptimizerState) OptimizerState {
	out := OptimizerState{Steps: s.Steps, Buffers: make(map[string][][]float64, len(s.Buffers))}
	for k, b := range s.Buffers {
		out.Buffers[k] = cloneBuffers(b)
	}
	return out
}

// OptimizerState is an optimizer's state: its step count and its
// per-parameter buffers by name ("m" and "v" for Adam, "momentum" for
// SGD), each one slice per parameter in Params order.
type OptimizerState struct {
	Steps   int
	Buffers map[string][][]float64
}

// cloneBuffers deep-copies buffers.
func cloneBuffers(b [][]float64) [][]float64 {
	out := make([][]float64, len(b))
	for i := range b {
		out[i] = append([]float64(nil), b[i]...)
	}
	return out
}

// setBuffers checks that src has the shapes of dst for every named buffer
// and then copies it.
func setBuffers(kind string, params []Param, s OptimizerState, dst map[string][][]float64) error {
	if s.Steps < 0 {
		return fmt.Errorf("%s: step count %d is negative", kind, s.Steps)
	}
	if len(s.Buffers) != len(dst) {
		return fmt.Errorf("%s: state has %d buffers, want %d", kind, len(s.Buffers), len(dst))
	}
	for name, d := range dst {
		b, ok := s.Buffers[name]
		if !ok {
			return fmt.Errorf("%s: state has no buffer %q", kind, name)
		}
		if len(b) != len(d) {
			return fmt.Errorf("%s: buffer %q holds %d parameters, want %d", kind, name, len(b), len(d))
		}
		for i := range d {
			if len(b[i]) != len(d[i]) {
				return fmt.Errorf("%s: buffer %q of %s has %d values, want %d", kind, name, params[i].Name, len(b[i]), len(d[i]))
			}
		}
	}
	for name, d := range dst {
		for i := range d {
			copy(d[i], s.Buffers[name][i])
		}
	}
	return nil
}

// AdamConfig are Adam's hyperparameters. WeightDecay is coupled L2 decay:
// wd·p is added to the gradient before the moments (torch.optim.Adam, not
// AdamW).
//
// Smooth, when in (0, 1), feeds the second moment with the square of a
// running average of the gradients, s ← (1−Smooth)·s + Smooth·g (bias
// corrected like the moments), instead of the square of each gradient.
// It is for updates that each apply a small share of a longer window's
// gradient (plasticity applied every step): the second moment then
// measures the spread of window-long averages, as a window-end update's
// does, not the far larger spread of single steps, which would shorten
// every step. 0 (or 1) is plain Adam. On a constant gradient the two
// agree.
type AdamConfig struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64
	Smooth                             float64
}

// smoothing reports whether the second moment takes averaged gradients.
func (c AdamConfig) smoothing() bool { return c.Smooth > 0 && c.Smooth < 1 }

// Validate reports an impossible value.
func (c AdamConfig) Validate() error {
	switch {
	case !(c.LR >= 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("adam: learning rate %g must be non-negative and finite", c.LR)
	case !(c.Beta1 >= 0 && c.Beta1 < 1):
		return fmt.Errorf("adam: β1 = %g must be in [0, 1)", c.Beta1)
	case !(c.Beta2 >= 0 && c.Beta2 < 1):
		return fmt.Errorf("adam: β2 = %g must be in [0, 1)", c.Beta2)
	case !(c.Eps > 0) || math.IsInf(c.Eps, 0):
		return fmt.Errorf("adam: ε = %g must be positive and finite", c.Eps)
	case !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0):
		return fmt.Errorf("adam: weight decay %g must be non-negative and finite", c.WeightDecay)
	case !(c.Smooth >= 0 && c.Smooth <= 1):
		return fmt.Errorf("adam: smoothing weight %g must be in [0, 1]", c.Smooth)
	}
	return nil
}

// Adam is the Adam optimizer with torch semantics (bias-corrected moments,
// ε added to the corrected root of the second moment).
type Adam struct {
	cfg    AdamConfig
	params []Param
	// Pool runs Step's elementwise loop (nil: the caller). Every entry is
	// updated on its own, so the result does not depend on it.
	Pool *compute.Pool
	body adamBody
	rng  paramRange
	// M and V are the first and second moments, one per parameter; S
	// is the running average of the gradients that feeds V when the
	// configuration smooths (AdamConfig.Smooth; nil otherwise).
	M, V, S [][]float64
	// T is the number of steps taken.
	T int
}

// NewAdam returns an Adam optimizer for params with zero moments.
func NewAdam(cfg AdamConfig, params []Param) (*Adam, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(params) == 0 {
		return nil, errors.New("adam: no parameters")
	}
	a := &Adam{cfg: cfg, params: params}
	for _, p := range params {
		if len(p.Value) != len(p.Grad) {
			panic(fmt.Sprintf("synapse: parameter %s has %d values and %d gradients", p.Name, len(p.Value), len(p.Grad)))
		}
		a.M = append(a.M, make([]float64, len(p.Value)))
		a.V = append(a.V, make([]float64, len(p.Value)))
		if cfg.smoothing() {
			a.S = append(a.S, make([]float64, len(p.Value)))
		}
	}
	return a, nil
}

// Config returns the hyperparameters.
func (a *Adam) Config() AdamConfig { return a.cfg }

// Params returns the parameters Adam updates.
func (a *Adam) Params() []Param { return a.params }

// State returns a copy of the moments (and the running average "s" when
// smoothing) and the step count.
func (a *Adam) State() OptimizerState { return cloneState(a.StateView()) }

// StateView returns the moments (and "s") themselves and the step count
// (StateViewer).
func (a *Adam) StateView() OptimizerState {
	st := OptimizerState{Steps: a.T, Buffers: map[string][][]float64{"m": a.M, "v": a.V}}
	if a.S != nil {
		st.Buffers["s"] = a.S
	}
	return st
}

// SetState restores the moments and the step count.
func (a *Adam) SetState(s OptimizerState) error {
	dst := map[string][][]float64{"m": a.M, "v": a.V}
	if a.S != nil {
		dst["s"] = a.S
	}
	if err := setBuffers("adam", a.params, s, dst); err != nil {
		return err
	}
	a.T = s.Steps
	return nil
}

// Step takes one Adam step on every parameter.
func (a *Adam) Step() {
	a.T++
	c := a.cfg
	a.body.a = a
	a.body.bc2 = math.Sqrt(1 - math.Pow(c.Beta2, float64(a.T)))
	a.body.stepSize = c.LR / (1 - math.Pow(c.Beta1, float64(a.T)))
	if a.S != nil {
		a.body.bcS = 1 / (1 - math.Pow(1-c.Smooth, float64(a.T)))
	}
	a.rng = paramRange{params: a.params, body: &a.body}
	runParams(a.Pool, &a.rng)
}

// adamBody is Step's loop over a range of the parameters' entries.
type adamBody struct {
	a             *Adam
	bc2, stepSize float64
	bcS           float64 // 1/(1 − (1−Smooth)^t), when smoothing
}

func (b *adamBody) param(i, lo, hi int) {
	c, p := b.a.cfg, b.a.params[i]
	m, v := b.a.M[i][lo:hi], b.a.V[i][lo:hi]
	val, grad := p.Value[lo:hi], p.Grad[lo:hi]
	if b.a.S != nil {
		b.smoothed(b.a.S[i][lo:hi], val, grad, m, v)
		return
	}
	for j, g := range grad {
		if c.WeightDecay != 0 {
			g += c.WeightDecay * val[j]
		}
		m[j] = m[j]*c.Beta1 + (1-c.Beta1)*g
		v[j] = v[j]*c.Beta2 + (1-c.Beta2)*g*g
		denom := math.Sqrt(v[j])/b.bc2 + c.Eps
		val[j] += -b.stepSize * m[j] / denom // torch addcdiv_: p + (value·m)/denom
	}
}

// smoothed is param's loop when the second moment takes the running
// average s of the gradients.
func (b *adamBody) smoothed(s, val, grad, m, v []float64) {
	c := b.a.cfg
	for j, g := range grad {
		if c.WeightDecay != 0 {
			g += c.WeightDecay * val[j]
		}
		m[j] = m[j]*c.Beta1 + (1-c.Beta1)*g
		s[j] = s[j]*(1-c.Smooth) + c.Smooth*g
		avg := s[j] * b.bcS
		v[j] = v[j]*c.Beta2 + (1-c.Beta2)*avg*avg
		denom := math.Sqrt(v[j])/b.bc2 + c.Eps
		val[j] += -b.stepSize * m[j] / denom
	}
}

// paramBody updates entries lo..hi-1 of parameter i.
type paramBody interface {
	param(i, lo, hi int)
}

// paramRange adapts a paramBody to a compute.Body over the concatenation
// of the parameters' entries.
type paramRange struct {
	params []Param
	body   paramBody
}

func (r *paramRange) Range(lo, hi int) {
	off := 0
	for i, p := range r.params {
		n := len(p.Value)
		if a, b := max(lo, off), min(hi, off+n); a < b {
			r.body.param(i, a-off, b-off)
		}
		off += n
	}
}

// runParams runs r's body over every entry of its parameters on pool, in
// chunks of at least 4096 entries.
func runParams(pool *compute.Pool, r *paramRange) {
	n := 0
	for _, p := range r.params {
		n += len(p.Value)
	}
	pool.Run(n, 4096, r)
}

// SGDConfig are the hyperparameters of stochastic gradient descent with
// optional momentum and coupled L2 weight decay (torch.optim.SGD).
type SGDConfig struct {
	LR, Momentum, WeightDecay float64
}

// Validate reports an impossible value.
func (c SGDConfig) Validate() error {
	switch {
	case !(c.LR >= 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("sgd: learning rate %g must be non-negative and finite", c.LR)
	case !(c.Momentum >= 0 && c.Momentum < 1):
		return fmt.Errorf("sgd: momentum %g must be in [0, 1)", c.Momentum)
	case !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0):
		return fmt.Errorf("sgd: weight decay %g must be non-negative and finite", c.WeightDecay)
	}
	return nil
}

// SGD is stochastic gradient descent.
type SGD struct {
	cfg    SGDConfig
	params []Param
	// Pool runs Step's elementwise loop (nil: the caller).
	Pool *compute.Pool
	body sgdBody
	rng  paramRange
	// Buf is the momentum buffer of each parameter (nil without momentum).
	Buf [][]float64
	// T is the number of steps taken.
	T int
}

// NewSGD returns an SGD optimizer for params.
func NewSGD(cfg SGDConfig, params []Param) (*SGD, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(params) == 0 {
		return nil, errors.New("sgd: no parameters")
	}
	s := &SGD{cfg: cfg, params: params}
	if cfg.Momentum > 0 {
		for _, p := range params {
			s.Buf = append(s.Buf, make([]float64, len(p.Value)))
		}
	}
	return s, nil
}

// Params returns the parameters SGD updates.
func (s *SGD) Params() []Param { return s.params }

// State returns a copy of the momentum buffers and the step count.
func (s *SGD) State() OptimizerState { return cloneState(s.StateView()) }

// StateView returns the momentum buffers themselves and the step count
// (StateViewer).
func (s *SGD) StateView() OptimizerState {
	st := OptimizerState{Steps: s.T, Buffers: map[string][][]float64{}}
	if s.Buf != nil {
		st.Buffers["momentum"] = s.Buf
	}
	return st
}

// SetState restores the momentum buffers and the step count.
func (s *SGD) SetState(st OptimizerState) error {
	dst := map[string][][]float64{}
	if s.Buf != nil {
		dst["momentum"] = s.Buf
	}
	if err := setBuffers("sgd", s.params, st, dst); err != nil {
		return err
	}
	s.T = st.Steps
	return nil
}

// Step takes one step on every parameter.
func (s *SGD) Step() {
	s.body.s = s
	s.rng = paramRange{params: s.params, body: &s.body}
	runParams(s.Pool, &s.rng)
	s.T++
}

// sgdBody is Step's loop over a range of the parameters' entries.
type sgdBody struct{ s *SGD }

func (b *sgdBody) param(i, lo, hi int) {
	s := b.s
	c, p := s.cfg, s.params[i]
	val, grad := p.Value[lo:hi], p.Grad[lo:hi]
	for j, g := range grad {
		if c.WeightDecay != 0 {
			g += c.WeightDecay * val[j]
		}
		if c.Momentum > 0 {
			buf := s.Buf[i][lo:hi]
			if s.T == 0 {
				buf[j] = g
			} else {
				buf[j] = c.Momentum*buf[j] + g
			}
			g = buf[j]
		}
		val[j] -= c.LR * g
	}
}
