package train

import (
	"fmt"
	"runtime"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/circuit"
)

// lazyRunner starts its phase when the phase first simulates (or is asked
// for its circuit), so that a run holds only the circuits of the phase
// under way: the training's circuits are not built while the feedback
// pre-training runs, and the pre-training's are released when it ends
// (Trainer.releaseFinished). Building a phase is deterministic (its noise
// is seeded from the run's seed), so when it starts changes no bit.
//
// New builds every phase once to check it and to learn its groups, its
// initial state and what its states look like, and keeps only those: the
// probe's circuits are collected before the next phase is built, so that
// they do not pile up on the run's peak memory.
type lazyRunner struct {
	spec       Phase
	env        *Env
	run        Runner // nil until the phase starts
	groups     []circuit.Group
	hasCircuit bool
	// shape checks states while the phase is not started (nil for a
	// runner that cannot say: a probe is then built for the check).
	shape *stateShape
	// state is the phase's state until it starts: its initial state, or
	// the one a checkpoint restored (set on the runner when it starts).
	state PhaseState
}

// newLazyRunner checks that spec starts in env and returns it unstarted.
func newLazyRunner(spec Phase, env *Env) (*lazyRunner, error) {
	probe, err := spec.Start(env)
	if err != nil {
		return nil, err
	}
	st, err := probe.State()
	if err != nil {
		return nil, err
	}
	l := &lazyRunner{spec: spec, env: env, groups: probe.Groups(), hasCircuit: probe.Circuit() != nil,
		state: clonePhaseState(st)}
	if p, ok := probe.(interface{ stateShape() (stateShape, error) }); ok {
		sh, err := p.stateShape()
		if err != nil {
			return nil, err
		}
		l.shape = &sh
	}
	dropProbe(probe)
	return l, nil
}

// dropProbe lets a runner built only to be looked at go, and collects it
// now: a phase's circuits are tens of MB (the stacks of its plasticity
// products) that would otherwise lie in the heap beside the next phase's
// and the checkpoint's until the collector's next cycle. A runner without
// a circuit (backprop's) holds nothing worth a collection.
func dropProbe(probe Runner) {
	if probe.Circuit() == nil {
		return
	}
	probe.Release()
	runtime.GC()
}

// start builds the phase's runner if it is not built yet, with the state
// it holds.
func (l *lazyRunner) start() Runner {
	if l.run == nil {
		r, err := l.spec.Start(l.env)
		if err != nil {
			// It started in New with the same spec and env.
			panic(fmt.Sprintf("train: %s phase: %v", l.spec.Name(), err))
		}
		r.SetState(l.state)
		l.run, l.state = r, PhaseState{}
	}
	return l.run
}

// Started reports whether the phase's runner has been built.
func (l *lazyRunner) Started() bool { return l.run != nil }

// Window starts the phase if needed and trains on the minibatch.
func (l *lazyRunner) Window(x, targets *mat.Dense) (WindowResult, error) {
	return l.start().Window(x, targets)
}

// Groups are the phase's parameter groups (known before it starts).
func (l *lazyRunner) Groups() []circuit.Group {
	if l.run == nil {
		return l.groups
	}
	return l.run.Groups()
}

// Norms are the gradient norms of the last window (zeros before any).
func (l *lazyRunner) Norms() []float64 {
	if l.run == nil {
		return make([]float64, len(l.groups))
	}
	return l.run.Norms()
}

// Circuit returns the phase's circuit, starting the phase (nil for a
// phase without one).
func (l *lazyRunner) Circuit() *circuit.Circuit {
	if !l.hasCircuit {
		return nil
	}
	return l.start().Circuit()
}

// StateCircuit is the circuit that simulates (a chunk's, for a
// window-parallel phase), as the runner says, or its Circuit.
func (l *lazyRunner) StateCircuit() *circuit.Circuit {
	if r, ok := l.start().(interface{ StateCircuit() *circuit.Circuit }); ok {
		return r.StateCircuit()
	}
	return l.Circuit()
}

// State returns the runner's state, or the one the phase will start with.
func (l *lazyRunner) State() (PhaseState, error) {
	if l.run == nil {
		return clonePhaseState(l.state), nil
	}
	return l.run.State()
}

// CheckState checks s against a runner of the phase: the started one, the
// shape of its states learnt in New, or one built for the check and
// dropped.
func (l *lazyRunner) CheckState(s PhaseState) error {
	if l.run != nil {
		return l.run.CheckState(s)
	}
	if l.shape != nil {
		return l.shape.check(s)
	}
	probe, err := l.spec.Start(l.env)
	if err != nil {
		return err
	}
	defer dropProbe(probe)
	return probe.CheckState(s)
}

// SetState sets the runner's state, or keeps s for its start.
func (l *lazyRunner) SetState(s PhaseState) {
	if l.run == nil {
		l.state = clonePhaseState(s)
		return
	}
	l.run.SetState(s)
}

// Release lets a started phase's buffers go; an unstarted one holds none.
func (l *lazyRunner) Release() {
	if l.run != nil {
		l.run.Release()
	}
}

// clonePhaseState returns a deep copy of s.
func clonePhaseState(s PhaseState) PhaseState {
	c := s
	c.Noise = slices.Clone(s.Noise)
	if s.Vars != nil {
		c.Vars = make(map[string][]float64, len(s.Vars))
		for k, v := range s.Vars {
			c.Vars[k] = slices.Clone(v)
		}
	}
	return c
}
