// Package train runs whole experiments.
//
// A Config describes a run completely (the data set and task, the network,
// the method and its constants, the seed). Config.MethodSpec turns it into
// a Method: the optimizers, the list of phases, and when each phase runs
// (a prologue of feedback pre-training epochs, then the phases of every
// training epoch: sleep phases around the training phase of the two-phase
// methods). A Phase is a type: Simulated (windows of a circuit with given
// dynamics, rules and window) and Backprop are the published ones; a phase's
// Runner trains one minibatch at a time. Simulated.Build is the one builder
// of circuits, used by training, the benchmark and the trace.
//
// The Trainer loads and splits the data (LoadData, SplitData), builds the
// network, checks every phase and builds each one's circuits when it first
// runs (so a run holds only the phase under way's), runs the method epoch
// by epoch (Next), evaluates
// after each, and keeps the run's complete state in a Snapshot (weights,
// optimizer and phase states, the shuffling generator, the epoch under way)
// that Restore continues bit for bit; package checkpoint writes it to
// files. It reports progress through a callback and returns values and
// errors; it does not log. The commands in experiments/ and cmd/ drive it.
package train
