// Package scheduler owns the clock and the loop that integrates a circuit
// over time.
//
// The Clock counts integer steps; time is always step·dt, never a running
// sum of floats. It is the one owner of dt: a circuit is built on a clock
// and reads its time step from it, and the scheduler runs only systems
// built on its own clock. A Scheduler runs windows: at the start of a
// window the batch is presented (and, unless samples come as a continuous
// stream, the state is set to the feedforward values), then every step runs
// the dynamics and the plasticity accumulation, and the accumulated updates
// are applied at the end of the window, or every n steps (continuous-time
// plasticity when n = 1). A window of one time index only presents and
// applies (for rules that compute their update analytically). Observers
// can record chosen variables every k steps; they read the system and must
// not change it.
//
// The scheduler drives anything that implements System; *circuit.Circuit
// does.
package scheduler
