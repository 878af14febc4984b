// Package neuron owns populations of multi-compartment neurons: the state of
// one layer for a whole minibatch and the physics of a single neuron.
//
// Each neuron has a basal compartment (forward input, v_ff), an apical
// compartment (feedback input, v_fb) and a soma (voltage v, rate r = φ(v)).
// State is kept as a struct of arrays, batch-major: every variable is a
// *mat.Dense of batch × neurons (see State). A Layer holds the validated,
// immutable parameters of one population and advances its soma by one Euler
// step for the whole batch at once (Layer.Step); the inputs to the
// compartments are computed by the projections of package synapse and put in
// place by package circuit.
//
// The apical compartment receives low-pass-filtered white noise, drawn from
// an injectable NoiseSource so that tests can replay recorded noise.
// Activation functions (tanh, linear, logistic, ReLU) are in activation.go.
package neuron
