// Package neuron owns populations of multi-compartment neurons: the state of
// one layer for a whole minibatch and the physics of a single neuron.
//
// Each neuron has a basal compartment (forward input, v_ff), an apical
// compartment (feedback input, v_fb) and a soma. State is kept as a struct
// of arrays, batch-major: every variable is a *mat.Dense of batch × neurons
// (see State), and Row is one sample's view of it.
//
// The physics are types: a Soma integrates the dendritic voltages and says
// what the neuron sends on (RateSoma: v += dt/τ_v·(v_fb + v_ff − v),
// r = φ(v)), an Apical compartment makes v_fb from the top-down drive and
// the noise (InstantApical, or LeakyApical with its own time constant for
// the sleep phase). A new soma or compartment is one new type; its model
// (SomaModel, ApicalModel) is a comparable value that validates its
// constants once. A Layer holds a population's immutable parameters, its
// soma and apical compartment, its noise and its pool, and advances the
// whole batch by one Euler step (Layer.Step), splitting the rows over the
// pool's workers and filling, while each block of rows is in cache, the
// taps that plasticity rules asked for (Taps: the rate, the apical voltage,
// the soma's mismatch, ...). The inputs to the compartments are computed by
// the projections of package synapse and put in place by package circuit.
//
// The apical compartment receives low-pass-filtered white noise, drawn from
// an injectable NoiseSource (Gaussian: one seeded stream per layer and
// sample; Replay: recorded draws, for tests); a source that is also a
// RowsSource draws a block of rows at once, as Gaussian does with eight
// streams side by side in AVX-512 lanes (ziggurat*.go), bit for bit the
// draws of one row at a time. Activation functions (tanh,
// linear, logistic, ReLU) are in activation.go, the vectorised tanh in
// tanh*.go.
package neuron
