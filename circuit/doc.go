// Package circuit owns a whole network of neuron populations, the
// projections between them and the controller, the order of the physics
// within one time step, and the plasticity rules.
//
// A Network holds the architecture and the weights (forward W, b and
// feedback Q of every layer) and offers what does not need dynamics: the
// feedforward pass, backprop gradients of the same network (the baseline and
// the reference for alignment angles), the Jacobian, the analytic steady
// state u_ss = (J·Q̄ + α·I)⁻¹·δ_L and diagnostics.
//
// A Circuit simulates a Network for a minibatch under given constants
// (Params), on a scheduler.Clock (whose dt is the Euler step) and a
// compute.Pool. Present starts a window (the batch is set, the state put at
// the feedforward values), Step advances every layer by one Euler step in
// the published order (controller first, then layers 1..L with
// instantaneous transmission and a proactive controller), and Apply lets
// every rule turn what it accumulated into gradients, clips them per group
// and lets each rule's optimizer step. The clock and the length of a window
// belong to package scheduler.
//
// Plasticity is a list of Learning: a Rule (a comparable configuration)
// with the optimizer that applies it. Bound to a circuit a rule is a
// Learner, called at every Present, every step (before the layers, and after
// each layer with its taps filled) and when plasticity is applied. The
// published rules are ContinuousForward (single-phase Strong-DFC, DFC),
// LastStepForward (DFC-SS, two-phase Strong-DFC), AnalyticForward (DFC-SSA)
// and FeedbackRule. A new rule is one new type (docs/architecture.md).
//
// Several circuits may share one Network, for example the training circuit
// and the feedback pre-training circuit, which differ only in their
// constants, rules and optimizers.
package circuit
