package scheduler

import (
	"errors"
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// fake records what the scheduler asks of it.
type fake struct {
	clock    *Clock
	presents []bool // reset flags
	steps    int
	applies  []int // step counts at each Apply
	failAt   int
}

func (f *fake) Clock() *Clock                            { return f.clock }
func (f *fake) Present(x, target *mat.Dense, reset bool) { f.presents = append(f.presents, reset) }
func (f *fake) Step()                                    { f.steps++ }
func (f *fake) Apply() error {
	f.applies = append(f.applies, f.steps)
	if f.failAt > 0 && f.steps >= f.failAt {
		return errors.New("boom")
	}
	return nil
}

func TestWindowSchedules(t *testing.T) {
	cases := []struct {
		name         string
		cfg          Config
		windows      int
		wantApplies  []int
		wantPresents []bool
	}{
		{"end of window", Config{Steps: 5}, 2, []int{4, 8}, []bool{true, true}},
		{"continuous plasticity", Config{Steps: 4, ApplyEvery: 1}, 1, []int{1, 2, 3}, []bool{true}},
		{"every 2 steps", Config{Steps: 6, ApplyEvery: 2}, 1, []int{2, 4, 5}, []bool{true}},
		{"every 2 steps, none left", Config{Steps: 5, ApplyEvery: 2}, 1, []int{2, 4}, []bool{true}},
		{"stream", Config{Steps: 3, Stream: true}, 3, []int{2, 4, 6}, []bool{true, false, false}},
		{"one index (analytic)", Config{Steps: 1}, 2, []int{0, 0}, []bool{true, true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk, err := NewClock(0.5)
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(tc.cfg, clk)
			if err != nil {
				t.Fatal(err)
			}
			var seen []int
			s.Observe(2, func(k int, c *Clock) { seen = append(seen, k) })
			f := &fake{clock: clk}
			for range tc.windows {
				if err := s.Window(f, nil, nil); err != nil {
					t.Fatal(err)
				}
			}
			if got, want := f.steps, tc.windows*(tc.cfg.Steps-1); got != want {
				t.Errorf("steps = %d, want %d", got, want)
			}
			if !slices.Equal(f.applies, tc.wantApplies) {
				t.Errorf("applies at %v, want %v", f.applies, tc.wantApplies)
			}
			if len(f.presents) != len(tc.wantPresents) {
				t.Fatalf("presents %v, want %v", f.presents, tc.wantPresents)
			}
			for i := range f.presents {
				if f.presents[i] != tc.wantPresents[i] {
					t.Errorf("presents %v, want %v", f.presents, tc.wantPresents)
				}
			}
			if got := s.Clock().Step(); got != int64(f.steps) {
				t.Errorf("clock at step %d after %d steps", got, f.steps)
			}
			if got, want := s.Clock().Time(), float64(f.steps)*0.5; got != want {
				t.Errorf("clock time %g, want %g", got, want)
			}
			if len(seen) == 0 || seen[0] != 0 || seen[len(seen)-1] != tc.cfg.Steps-1 {
				t.Errorf("observer saw steps %v", seen)
			}
		})
	}
}

func TestWindowErrors(t *testing.T) {
	clk, _ := NewClock(0.1)
	s, err := New(Config{Steps: 10, ApplyEvery: 1}, clk)
	if err != nil {
		t.Fatal(err)
	}
	f := &fake{clock: clk, failAt: 3}
	if err := s.Window(f, nil, nil); err == nil || f.steps != 3 {
		t.Errorf("error %v after %d steps; want an error at step 3", err, f.steps)
	}
	other, _ := NewClock(0.1)
	if err := s.Window(&fake{clock: other}, nil, nil); !errors.Is(err, ErrClock) {
		t.Errorf("a system on another clock gave %v", err)
	}
	for _, cfg := range []Config{{Steps: 0}, {Steps: 5, ApplyEvery: -1}} {
		if _, err := New(cfg, clk); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
	if _, err := New(Config{Steps: 5}, nil); err == nil {
		t.Error("no clock accepted")
	}
	for _, dt := range []float64{0, -1, math.Inf(1), math.NaN()} {
		if _, err := NewClock(dt); err == nil {
			t.Errorf("dt %g accepted", dt)
		}
	}
}
