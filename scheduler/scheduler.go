package scheduler

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// System is what a scheduler integrates: a circuit.
type System interface {
	// Clock returns the clock the system was built on (and so its time
	// step); it must be the scheduler's.
	Clock() *Clock
	// Present starts a window with a batch; reset sets the state to the
	// feedforward values of x.
	Present(x, target *mat.Dense, reset bool)
	// Step advances the dynamics and the plasticity accumulation by dt.
	Step()
	// Apply applies the accumulated plasticity.
	Apply() error
}

// Clock counts time steps of length DT. It is the one owner of dt: a
// circuit reads its time step from the clock it is built on, and the
// scheduler ticks that same clock. The zero value is not usable; use
// NewClock.
type Clock struct {
	dt   float64
	step int64
}

// NewClock returns a clock at step 0.
func NewClock(dt float64) (*Clock, error) {
	if !(dt > 0) || math.IsInf(dt, 0) {
		return nil, fmt.Errorf("scheduler: time step dt = %g must be positive and finite", dt)
	}
	return &Clock{dt: dt}, nil
}

// Tick advances the clock by one step.
func (c *Clock) Tick() { c.step++ }

// Step returns the number of steps since the clock started.
func (c *Clock) Step() int64 { return c.step }

// SetStep sets the step count (to resume a stream).
func (c *Clock) SetStep(s int64) { c.step = s }

// DT returns the length of a step.
func (c *Clock) DT() float64 { return c.dt }

// Time returns step·dt.
func (c *Clock) Time() float64 { return float64(c.step) * c.dt }

// Config describes how windows run.
type Config struct {
	// Steps is the number of time indices in a window, T, counting the
	// initial state k = 0; a window takes Steps−1 Euler steps. A window of
	// one index only presents the batch and applies the plasticity (rules
	// that compute their update without simulating, such as DFC-SSA's).
	Steps int
	// ApplyEvery is 0 to apply the plasticity once at the end of a window,
	// or n > 0 to apply it every n steps (1: continuous-time plasticity)
	// and at the window's end when steps are left over, so that nothing
	// accumulated carries into the next window.
	ApplyEvery int
	// Stream presents samples as a continuous stream: the state carries
	// over from one window to the next instead of being reset.
	Stream bool
}

// Validate reports an impossible configuration.
func (c Config) Validate() error {
	switch {
	case c.Steps < 1:
		return fmt.Errorf("scheduler: a window needs at least 1 time index, got %d", c.Steps)
	case c.ApplyEvery < 0:
		return fmt.Errorf("scheduler: apply interval %d must be non-negative", c.ApplyEvery)
	}
	return nil
}

// Observer is called at window step k (0 at the window's start, after the
// batch is presented) with the clock. It may read the system's state and
// must not change it.
type Observer func(k int, clock *Clock)

type observer struct {
	every int
	fn    Observer
}

// Scheduler runs windows of a System.
type Scheduler struct {
	cfg       Config
	clock     *Clock
	observers []observer
	started   bool
}

// New returns a scheduler that runs windows on clock; the systems it runs
// must be built on the same clock.
func New(cfg Config, clock *Clock) (*Scheduler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if clock == nil {
		return nil, errors.New("scheduler: no clock")
	}
	return &Scheduler{cfg: cfg, clock: clock}, nil
}

// Config returns the scheduler's configuration.
func (s *Scheduler) Config() Config { return s.cfg }

// Clock returns the scheduler's clock.
func (s *Scheduler) Clock() *Clock { return s.clock }

// Observe registers fn to be called every `every` steps of a window
// (k = 0, every, 2·every, ...) and at its last step.
func (s *Scheduler) Observe(every int, fn Observer) {
	if every <= 0 {
		panic(fmt.Sprintf("scheduler: Observe every %d steps", every))
	}
	s.observers = append(s.observers, observer{every, fn})
}

// ErrClock is returned when a system runs on another clock than the
// scheduler's.
var ErrClock = errors.New("scheduler: the system runs on another clock than the scheduler's")

// Window runs one window of the system on a batch and applies its
// plasticity as configured. It stops at the first error from Apply, which
// it returns.
func (s *Scheduler) Window(sys System, x, target *mat.Dense) error {
	if sys.Clock() != s.clock {
		return ErrClock
	}
	T := s.cfg.Steps
	sys.Present(x, target, !s.cfg.Stream || !s.started)
	s.started = true
	s.notify(0, T)
	for k := 1; k < T; k++ {
		sys.Step()
		s.clock.Tick()
		s.notify(k, T)
		if s.cfg.ApplyEvery > 0 && k%s.cfg.ApplyEvery == 0 {
			if err := sys.Apply(); err != nil {
				return fmt.Errorf("at window step %d: %w", k, err)
			}
		}
	}
	if n := s.cfg.ApplyEvery; n == 0 || (T-1)%n != 0 {
		return sys.Apply()
	}
	return nil
}

// Started reports whether a stream has started (its first window reset
// the state; the next ones continue it).
func (s *Scheduler) Started() bool { return s.started }

// SetStarted sets whether a stream has started (to resume one).
func (s *Scheduler) SetStarted(v bool) { s.started = v }

func (s *Scheduler) notify(k, T int) {
	for _, o := range s.observers {
		if k%o.every == 0 || k == T-1 {
			o.fn(k, s.clock)
		}
	}
}
