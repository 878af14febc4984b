package synapse

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestAdamTorchSemantics checks three Adam steps against torch.optim.Adam's
// update written out independently (bias-corrected moments, ε added to the
// corrected root, coupled L2 decay added to the gradient).
func TestAdamTorchSemantics(t *testing.T) {
	cfg := AdamConfig{LR: 0.01, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0.5}
	value := []float64{0.3, -1.2, 2.0}
	grad := make([]float64, 3)
	a, err := NewAdam(cfg, []Param{{Name: "w", Value: value, Grad: grad}})
	if err != nil {
		t.Fatal(err)
	}
	want := append([]float64(nil), value...)
	m, v := make([]float64, 3), make([]float64, 3)
	grads := [][]float64{{0.1, -0.2, 0.3}, {-0.05, 0.4, 0.0}, {1.0, 1e-3, -2.0}}
	for step, g := range grads {
		copy(grad, g)
		a.Step()
		k := float64(step + 1)
		for j := range want {
			gj := g[j] + cfg.WeightDecay*want[j]
			m[j] = cfg.Beta1*m[j] + (1-cfg.Beta1)*gj
			v[j] = cfg.Beta2*v[j] + (1-cfg.Beta2)*gj*gj
			mhat := m[j] / (1 - math.Pow(cfg.Beta1, k))
			vhat := v[j] / (1 - math.Pow(cfg.Beta2, k))
			want[j] -= cfg.LR * mhat / (math.Sqrt(vhat) + cfg.Eps)
		}
		for j := range want {
			if d := math.Abs(value[j] - want[j]); d > 1e-14*math.Max(1, math.Abs(want[j])) {
				t.Fatalf("step %d, entry %d: %.17g, want %.17g", step+1, j, value[j], want[j])
			}
		}
	}
	if a.T != len(grads) {
		t.Fatalf("T = %d after %d steps", a.T, len(grads))
	}
}

func TestAdamConfigValidate(t *testing.T) {
	ok := AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*AdamConfig)
	}{
		{"negative lr", func(c *AdamConfig) { c.LR = -1 }},
		{"NaN lr", func(c *AdamConfig) { c.LR = math.NaN() }},
		{"beta1 one", func(c *AdamConfig) { c.Beta1 = 1 }},
		{"beta2 negative", func(c *AdamConfig) { c.Beta2 = -0.1 }},
		{"zero eps", func(c *AdamConfig) { c.Eps = 0 }},
		{"negative decay", func(c *AdamConfig) { c.WeightDecay = -1 }},
		{"smoothing above one", func(c *AdamConfig) { c.Smooth = 1.5 }},
		{"NaN smoothing", func(c *AdamConfig) { c.Smooth = math.NaN() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ok
			tc.edit(&c)
			if err := c.Validate(); err == nil {
				t.Fatalf("%+v accepted", c)
			}
			if _, err := NewAdam(c, []Param{{Value: []float64{1}, Grad: []float64{1}}}); err == nil {
				t.Fatal("NewAdam accepted it")
			}
		})
	}
}

// TestAdamSmoothConstant: on a constant gradient the running average is
// the gradient itself, so smoothing changes nothing (to rounding).
func TestAdamSmoothConstant(t *testing.T) {
	cfg := AdamConfig{LR: 0.01, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8}
	sm := cfg
	sm.Smooth = 0.05
	v1, v2 := []float64{0.3, -1.2}, []float64{0.3, -1.2}
	g1, g2 := make([]float64, 2), make([]float64, 2)
	a, _ := NewAdam(cfg, []Param{{Name: "w", Value: v1, Grad: g1}})
	b, _ := NewAdam(sm, []Param{{Name: "w", Value: v2, Grad: g2}})
	for range 200 {
		copy(g1, []float64{0.2, -3e-4})
		copy(g2, g1)
		a.Step()
		b.Step()
	}
	for j := range v1 {
		if d := math.Abs(v1[j] - v2[j]); d > 1e-12 {
			t.Errorf("entry %d: smoothed %.17g, plain %.17g", j, v2[j], v1[j])
		}
	}
	if v1[0] == 0.3 {
		t.Fatal("no step taken")
	}
}

// TestAdamSmoothWindow: per-step updates that each apply 1/n of a window's
// noisy gradient, with the constants scaled per step as train does
// (lr·f, ε·f, β^f, f = 1/n). Plain Adam's second moment then sees the
// single steps' spread and moves the weights far less than the window-end
// Adam; with Smooth = 2f/(1+f) (an average whose variance is a window
// mean's) it moves them as far.
func TestAdamSmoothWindow(t *testing.T) {
	const (
		n, windows, params = 100, 300, 64
		mu, sigma          = 1.0, 10.0 // per-step terms; a window's mean has spread 1
	)
	win := AdamConfig{LR: 1e-3, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8}
	f := 1.0 / n
	step := AdamConfig{LR: win.LR * f, Beta1: math.Pow(win.Beta1, f), Beta2: math.Pow(win.Beta2, f), Eps: win.Eps * f}
	smooth := step
	smooth.Smooth = 2 * f / (1 + f)
	type run struct {
		a         *Adam
		val, grad []float64
		perWindow bool
	}
	mk := func(c AdamConfig, perWindow bool) *run {
		r := &run{val: make([]float64, params), grad: make([]float64, params), perWindow: perWindow}
		var err error
		if r.a, err = NewAdam(c, []Param{{Name: "w", Value: r.val, Grad: r.grad}}); err != nil {
			t.Fatal(err)
		}
		return r
	}
	runs := []*run{mk(win, true), mk(step, false), mk(smooth, false)}
	rng := rand.New(rand.NewPCG(5, 6))
	x := make([]float64, params)
	for range windows {
		for _, r := range runs {
			if r.perWindow {
				clear(r.grad)
			}
		}
		for range n {
			for j := range x {
				x[j] = mu + sigma*rng.NormFloat64()
			}
			for _, r := range runs {
				for j := range x {
					if r.perWindow {
						r.grad[j] += x[j] / n
					} else {
						r.grad[j] = x[j] * f
					}
				}
				if !r.perWindow {
					r.a.Step()
				}
			}
		}
		runs[0].a.Step()
	}
	moved := func(r *run) float64 {
		var s float64
		for _, v := range r.val {
			s -= v
		}
		return s / params
	}
	w, p, s := moved(runs[0]), moved(runs[1]), moved(runs[2])
	if w <= 0 {
		t.Fatalf("window-end Adam moved %g, want > 0", w)
	}
	if r := p / w; r > 0.3 {
		t.Errorf("plain per-step Adam moved %.3g of the window-end distance, want < 0.3 (its steps shortened by the steps' spread)", r)
	}
	if r := s / w; r < 0.85 || r > 1.15 {
		t.Errorf("smoothed per-step Adam moved %.3g of the window-end distance, want 0.85–1.15", r)
	}
	t.Logf("distance per window, relative to window-end Adam: plain %.3f, smoothed %.3f", p/w, s/w)
}

// TestAdamSmoothState: a smoothing Adam's state carries its running
// average, and a state without it is refused.
func TestAdamSmoothState(t *testing.T) {
	cfg := AdamConfig{LR: 0.01, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, Smooth: 0.1}
	mk := func(c AdamConfig) (*Adam, []float64) {
		g := []float64{0.5, -0.25}
		a, err := NewAdam(c, []Param{{Name: "w", Value: []float64{1, 2}, Grad: g}})
		if err != nil {
			t.Fatal(err)
		}
		return a, g
	}
	a, _ := mk(cfg)
	a.Step()
	st := a.State()
	if got := st.Buffers["s"]; len(got) != 1 || got[0][0] == 0 {
		t.Fatalf("state's running average %v, want the step's", got)
	}
	b, _ := mk(cfg)
	if err := b.SetState(st); err != nil {
		t.Fatal(err)
	}
	if b.S[0][0] != a.S[0][0] || b.T != 1 {
		t.Errorf("restored s %v, T %d; want %v, 1", b.S, b.T, a.S)
	}
	plain := cfg
	plain.Smooth = 0
	p, _ := mk(plain)
	if err := b.SetState(p.State()); err == nil {
		t.Error("a plain Adam's state (no running average) was accepted by a smoothing one")
	}
}

func TestClipNorm(t *testing.T) {
	for _, tc := range []struct {
		name      string
		max       float64
		a, b      []float64
		wantNorm  float64
		wantScale float64
	}{
		{"below the limit", 10, []float64{3}, []float64{4}, 5, 1},
		{"joint norm over both groups", 1, []float64{3}, []float64{4}, 5, 1 / (5 + 1e-6)},
		{"disabled", 0, []float64{30}, []float64{40}, 50, 1},
		{"zero gradient", 1, []float64{0, 0}, []float64{0}, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a0, b0 := append([]float64(nil), tc.a...), append([]float64(nil), tc.b...)
			n := ClipNorm(tc.max, tc.a, tc.b)
			if math.Abs(n-tc.wantNorm) > 1e-12 {
				t.Fatalf("norm %g, want %g", n, tc.wantNorm)
			}
			for i := range a0 {
				if got, want := tc.a[i], a0[i]*tc.wantScale; math.Abs(got-want) > 1e-15 {
					t.Fatalf("a[%d] = %g, want %g", i, got, want)
				}
			}
			for i := range b0 {
				if got, want := tc.b[i], b0[i]*tc.wantScale; math.Abs(got-want) > 1e-15 {
					t.Fatalf("b[%d] = %g, want %g", i, got, want)
				}
			}
		})
	}
}

func TestXavierNormal(t *testing.T) {
	m := mat.NewDense(300, 400, nil)
	XavierNormal(m, rand.New(rand.NewPCG(3, 4)))
	var s, sq float64
	d := m.RawMatrix().Data
	for _, x := range d {
		s += x
		sq += x * x
	}
	n := float64(len(d))
	mean, std := s/n, math.Sqrt(sq/n-(s/n)*(s/n))
	want := math.Sqrt(2.0 / 700)
	// 120 000 draws: the sample std is within 1 % of the true one with
	// overwhelming probability (its relative sd is about 0.2 %).
	if math.Abs(std/want-1) > 0.01 || math.Abs(mean) > 5*want/math.Sqrt(n) {
		t.Fatalf("mean %g, std %g; want 0 and %g", mean, std, want)
	}
	Identity(m.Slice(0, 300, 0, 300).(*mat.Dense))
	if m.At(7, 7) != 1 || m.At(7, 8) != 0 {
		t.Fatal("Identity did not set the identity")
	}
}
