package neuron

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/compute"
)

func TestActivations(t *testing.T) {
	for _, a := range []Activation{Linear, Tanh, Logistic, ReLU} {
		got, err := ParseActivation(a.String())
		if err != nil || got != a {
			t.Errorf("ParseActivation(%q) = %v, %v", a.String(), got, err)
		}
		for _, v := range []float64{-3, -0.7, -1e-3, 0.2, 1.5, 4} {
			const h = 1e-6
			fd := (a.Eval(v+h) - a.Eval(v-h)) / (2 * h)
			if d := math.Abs(fd - a.Deriv(v)); d > 1e-8 {
				t.Errorf("%v: φ'(%g) = %g, finite difference %g", a, v, a.Deriv(v), fd)
			}
		}
	}
	want := map[Activation][2]float64{Linear: {0.5, 0.5}, Tanh: {0.5, math.Tanh(0.5)}, Logistic: {0, 0.5}, ReLU: {-1, 0}}
	for a, w := range want {
		if got := a.Eval(w[0]); math.Abs(got-w[1]) > 1e-15 {
			t.Errorf("%v(%g) = %g, want %g", a, w[0], got, w[1])
		}
	}
	if _, err := ParseActivation("softsign"); err == nil {
		t.Error("unknown activation accepted")
	}
	if a, err := ParseActivation("Sigmoid"); err != nil || a != Logistic {
		t.Error("sigmoid is not logistic")
	}
}

func TestParamsValidate(t *testing.T) {
	good := Params{Size: 3, Activation: Tanh, DT: 0.001, TauV: 0.01, Sigma: 0.1, TauNoise: 0.05}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(*Params){
		"zero size":          func(p *Params) { p.Size = 0 },
		"zero dt":            func(p *Params) { p.DT = 0 },
		"negative dt":        func(p *Params) { p.DT = -1e-3 },
		"NaN dt":             func(p *Params) { p.DT = math.NaN() },
		"dt > tau_v":         func(p *Params) { p.DT = 0.02 },
		"negative sigma":     func(p *Params) { p.Sigma = -0.1 },
		"dt > tau_noise":     func(p *Params) { p.TauNoise = 1e-4 },
		"negative tau_noise": func(p *Params) { p.TauNoise = -1 },
		"bad activation":     func(p *Params) { p.Activation = 99 },
		"zero apical tau":    func(p *Params) { p.Apical = LeakyApical{} },
		"dt > apical tau":    func(p *Params) { p.Apical = LeakyApical{Tau: 1e-4} },
	}
	for name, mod := range cases {
		p := good
		mod(&p)
		if err := p.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if _, err := NewLayer(1, p, NewGaussian(1), nil); err == nil {
			t.Errorf("%s: NewLayer accepted", name)
		}
	}
	p := good
	if _, err := NewLayer(1, p, nil, nil); err == nil {
		t.Error("σ > 0 without a noise source accepted")
	}
}

// TestStepEquations checks one step against the equations written out.
func TestStepEquations(t *testing.T) {
	p := Params{Size: 4, Activation: Tanh, DT: 0.001, TauV: 0.01, Sigma: 0.3, TauNoise: 0.05}
	xi := [][][][]float64{{{{0.1, -1, 2, 0.5}}, {{-0.3, 0.2, 0.0, 1.1}}}}
	l, err := NewLayer(1, p, NewReplay([][][][]float64{{xi[0][0], xi[0][1]}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	st := NewState(1, 4, 0)
	st.Basal.SetRow(0, []float64{0.2, -0.4, 1, 0})
	l.Reset(st)
	diff := mat.NewDense(1, 4, nil)
	a := p.DT / p.TauNoise
	var n [4]float64
	v := []float64{0.2, -0.4, 1, 0}
	for step := range 2 {
		st.Feedback.SetRow(0, []float64{0.5, 0.1, -0.2, 0.3})
		var taps Taps
		taps.Add(TapMismatch, compute.StridedOf(diff, false))
		l.Step(st, &taps)
		for j := range 4 {
			n[j] = a/math.Sqrt(p.DT)*xi[0][step][0][j] + (1-a)*n[j]
			vfb := st.Feedback.At(0, j) + p.Sigma*n[j]
			v[j] += p.DT / p.TauV * (vfb + st.Basal.At(0, j) - v[j])
			check := func(what string, got, want float64) {
				if math.Abs(got-want) > 1e-15*math.Max(1, math.Abs(want)) {
					t.Errorf("step %d %s[%d] = %.17g, want %.17g", step, what, j, got, want)
				}
			}
			check("noise", st.Noise.At(0, j), n[j])
			check("v_fb", st.Apical.At(0, j), vfb)
			check("v", st.Soma.At(0, j), v[j])
			check("r", st.Rate.At(0, j), math.Tanh(v[j]))
			check("δ", diff.At(0, j), math.Tanh(v[j])-math.Tanh(st.Basal.At(0, j)))
		}
	}
}

// TestApicalDynamics checks the apical compartment with its own time
// constant and white noise: v_fb += dt/τ_a·(Q u − v_fb) + σ·√dt/τ_a·ξ.
func TestApicalDynamics(t *testing.T) {
	p := Params{Size: 2, Activation: Linear, DT: 0.01, TauV: 0.02, Sigma: 0.5, Apical: LeakyApical{Tau: 0.1}}
	xi := []float64{1.5, -0.5}
	l, err := NewLayer(2, p, NewReplay([][][][]float64{nil, {{xi}}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	st := NewState(1, 2, 0)
	l.Reset(st)
	st.Apical.SetRow(0, []float64{0.2, 0.1})
	st.Feedback.SetRow(0, []float64{1, -1})
	l.Step(st, nil)
	for j, prev := range []float64{0.2, 0.1} {
		want := prev + p.DT/0.1*(st.Feedback.At(0, j)-prev) + p.Sigma*math.Sqrt(p.DT)/0.1*xi[j]
		if got := st.Apical.At(0, j); math.Abs(got-want) > 1e-15 {
			t.Errorf("v_fb[%d] = %.17g, want %.17g", j, got, want)
		}
	}
}

// TestStepIndependentOfWorkers checks that splitting the batch among any
// number of workers gives the same bits.
func TestStepIndependentOfWorkers(t *testing.T) {
	run := func(workers int, src func(*Gaussian) NoiseSource) []float64 {
		p := Params{Size: 37, Activation: Tanh, DT: 0.001, TauV: 0.009, Sigma: 0.01, TauNoise: 0.07}
		l, err := NewLayer(1, p, src(func() *Gaussian { g := NewGaussian(5); g.Reserve(1, 29); return g }()), nil)
		if err != nil {
			t.Fatal(err)
		}
		l.pool = compute.NewPool(workers)
		defer l.pool.Close()
		st := NewState(29, 37, 0)
		rng := rand.New(rand.NewPCG(1, 1))
		for i := range 29 {
			for j := range 37 {
				st.Basal.Set(i, j, rng.NormFloat64())
				st.Feedback.Set(i, j, rng.NormFloat64())
			}
		}
		l.Reset(st)
		diff := mat.NewDense(29, 37, nil)
		for range 20 {
			var taps Taps
			taps.Add(TapMismatch, compute.StridedOf(diff, true))
			l.Step(st, &taps)
		}
		return append(append([]float64(nil), st.Rate.RawMatrix().Data...), diff.RawMatrix().Data...)
	}
	// The source as it is (drawing blocks of rows at once), hidden behind
	// one that draws row by row, and behind an Offset of 0.
	plain := func(g *Gaussian) NoiseSource { return g }
	byRow := func(g *Gaussian) NoiseSource { return rowByRow{g} }
	offset := func(g *Gaussian) NoiseSource { return Offset{Src: g} }
	ref := run(1, byRow)
	for _, src := range []func(*Gaussian) NoiseSource{byRow, plain, offset} {
		for _, w := range []int{1, 2, 3, 8} {
			got := run(w, src)
			for i := range ref {
				if math.Float64bits(got[i]) != math.Float64bits(ref[i]) {
					t.Fatalf("%d workers, %T source, differ from 1 drawing row by row at %d: %v vs %v", w, src(nil), i, got[i], ref[i])
				}
			}
		}
	}
}

// rowByRow hides a source's StdNormalRows, so that a layer draws row by row.
type rowByRow struct{ NoiseSource }

// TestReseed: a used source reseeded draws, normal and uniform, what a
// fresh source of that seed draws, on every reserved stream.
func TestReseed(t *testing.T) {
	used := NewGaussian(5)
	used.Reserve(2, 3)
	used.ReserveUniform(2, 3)
	buf := make([]float64, 37)
	for _, l := range []int{1, -1, 2, -2} {
		used.StdNormal(l, 1, buf)
	}
	used.Uniform(1, 2, buf)
	used.Reseed(11)
	fresh := NewGaussian(11)
	fresh.Reserve(2, 3)
	fresh.ReserveUniform(2, 3)
	a, b := make([]float64, 50), make([]float64, 50)
	for r := range 3 {
		for _, l := range []int{1, -1, 2, -2} {
			used.StdNormal(l, r, a)
			fresh.StdNormal(l, r, b)
			if !slices.Equal(a, b) {
				t.Fatalf("normal stream (%d, %d) after Reseed differs from a fresh source's", l, r)
			}
		}
		for p := range 2 {
			used.Uniform(p, r, a)
			fresh.Uniform(p, r, b)
			if !slices.Equal(a, b) {
				t.Fatalf("uniform stream (%d, %d) after Reseed differs from a fresh source's", p, r)
			}
		}
	}
	// And not what seed 5 draws.
	other := NewGaussian(5)
	other.Reserve(1, 1)
	used.Reseed(11)
	used.StdNormal(1, 0, a)
	other.StdNormal(1, 0, b)
	if slices.Equal(a, b) {
		t.Error("Reseed(11) draws what seed 5 draws")
	}
}

func TestGaussian(t *testing.T) {
	g := NewGaussian(3)
	g.Reserve(2, 4)
	buf := make([]float64, 100000)
	g.StdNormal(2, 3, buf)
	var s, s2 float64
	for _, x := range buf {
		s += x
		s2 += x * x
	}
	mean, variance := s/float64(len(buf)), s2/float64(len(buf))-(s/float64(len(buf)))*(s/float64(len(buf)))
	if math.Abs(mean) > 0.02 || math.Abs(variance-1) > 0.02 {
		t.Errorf("mean %g, variance %g", mean, variance)
	}
	// Streams are distinct.
	a, b := make([]float64, 8), make([]float64, 8)
	g.StdNormal(1, 0, a)
	g.StdNormal(1, 1, b)
	if a[0] == b[0] {
		t.Error("two streams gave the same draw")
	}
	// Save and restore: the restored source continues identically.
	state, err := g.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	h := NewGaussian(0)
	if err := h.UnmarshalBinary(state); err != nil {
		t.Fatal(err)
	}
	g.StdNormal(1, 2, a)
	h.StdNormal(1, 2, b)
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("restored stream differs")
		}
	}
	if err := h.UnmarshalBinary(state[:len(state)-3]); err == nil {
		t.Error("truncated state accepted")
	}
	// Same seed, same draws.
	g1, g2 := NewGaussian(9), NewGaussian(9)
	g1.Reserve(1, 1)
	g2.Reserve(1, 1)
	g1.StdNormal(1, 0, a)
	g2.StdNormal(1, 0, b)
	for i := range a {
		if a[i] != b[i] {
			t.Fatal("same seed gave different draws")
		}
	}
}

// BenchmarkLayerStep is one step of a 256-neuron tanh layer with noise for
// a batch of 128, with all three taps (the MNIST hidden-layer kernel).
func BenchmarkLayerStep(b *testing.B) {
	p := Params{Size: 256, Activation: Tanh, DT: 0.001, TauV: 0.009268, Sigma: 0.0043, TauNoise: 0.07}
	g := NewGaussian(1)
	g.Reserve(1, 128)
	pool := compute.NewPool(0)
	defer pool.Close()
	l, err := NewLayer(1, p, g, pool)
	if err != nil {
		b.Fatal(err)
	}
	st := NewState(128, 256, 0)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range 128 {
		for j := range 256 {
			st.Basal.Set(i, j, rng.NormFloat64())
			st.Feedback.Set(i, j, 0.01*rng.NormFloat64())
		}
	}
	l.Reset(st)
	const ld = 1280
	diff := make([]float64, 256*ld)
	rate, ap := make([]float64, 128*256), make([]float64, 128*256)
	taps := &Taps{}
	taps.Add(TapMismatch, compute.Strided{Data: diff, RowStride: 1, ColStride: ld})
	taps.Add(TapRate, compute.Strided{Data: rate, RowStride: 256, ColStride: 1})
	taps.Add(TapApical, compute.Strided{Data: ap, RowStride: 256, ColStride: 1})
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		l.Step(st, taps)
	}
	b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N)/(128*256), "ns/element")
}

// TestSomaNoise checks v[k+1] += σ_s·ξ with the somatic stream, and that
// the somatic stream is not the apical one.
func TestSomaNoise(t *testing.T) {
	p := Params{Size: 3, Activation: Linear, DT: 0.01, TauV: 0.02, SomaSigma: 0.5}
	g := NewGaussian(4)
	g.Reserve(2, 1)
	l, err := NewLayer(2, p, g, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := NewState(1, 3, 0)
	st.Basal.SetRow(0, []float64{1, 2, 3})
	l.Reset(st)
	l.Step(st, nil)
	ref := NewGaussian(4)
	ref.Reserve(2, 1)
	xi, apical := make([]float64, 3), make([]float64, 3)
	ref.StdNormal(-2, 0, xi)
	ref.StdNormal(2, 0, apical)
	for j := range 3 {
		v := float64(j + 1) // v = v_ff at rest, no feedback
		want := v + p.SomaSigma*xi[j]
		if got := st.Soma.At(0, j); math.Abs(got-want) > 1e-15 {
			t.Errorf("v[%d] = %g, want %g", j, got, want)
		}
		if xi[j] == apical[j] {
			t.Errorf("somatic and apical streams coincide")
		}
	}
	p.SomaSigma = -1
	if err := p.Validate(); err == nil {
		t.Error("negative somatic noise accepted")
	}
}
