// Package circuit owns a whole network of neuron populations, the
// projections between them and the controller, and the order of the physics
// within one time step.
//
// A Network holds the architecture and the weights (forward W, b and
// feedback Q of every layer) and offers what does not need dynamics: the
// feedforward pass, backprop gradients of the same network (the baseline and
// the reference for alignment angles), the Jacobian and the analytic steady
// state u_ss = (J·Q̄ + α·I)⁻¹·δ_L.
//
// A Circuit simulates a Network for a minibatch under given dynamical
// constants (Params). Present starts a window (the batch is set, the state
// put at the feedforward values), Step advances every layer by one Euler
// step in the published order (controller first, then layers 1..L with
// instantaneous transmission and a proactive controller) while the
// plasticity rules accumulate, and Apply turns the accumulated sums into
// gradients, clips them per layer and lets the optimizers apply them. The
// clock and the length of a window belong to package scheduler.
//
// Several circuits may share one Network, for example the training circuit
// and the feedback pre-training circuit, which differ only in their
// constants, plasticity and optimizer.
package circuit
