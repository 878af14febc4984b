// Package synapse owns the connections between populations and how they
// learn.
//
// A Forward projection (weights W, bias b) drives the basal compartment of
// the layer above: v_ff = r·Wᵀ + b. A Feedback projection (weights Q) carries
// the controller's signal u to the apical compartment: Q·u. Both hold a
// gradient buffer beside their weights, like a tensor's .grad.
//
// The two plasticity rules are local in space and time and accumulate their
// sums online, one time step at a time, never storing a trajectory:
// ForwardRule correlates the somatic-minus-basal rate difference with the
// presynaptic rate, FeedbackRule correlates the noisy apical voltage with the
// high-passed control. To run near the speed of the machine's matrix units,
// both stack several time steps and add them with a single matrix product
// (see Correlator). At the end of a window a rule turns its sum into a
// gradient in its projection's buffer; ClipNorm and an Optimizer (Adam or
// SGD) then apply it.
//
// Weight initialisation (xavier-normal, identity) is in init.go.
package synapse
