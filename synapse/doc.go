// Package synapse owns the connections between populations and the
// optimizers that change them.
//
// A Forward projection (weights W, bias b) drives the basal compartment of
// the layer above: v_ff = r·Wᵀ + b. A Feedback projection (weights Q) carries
// the controller's signal u to the apical compartment: Q·u. Both hold a
// gradient buffer beside their weights, like a tensor's .grad, and compute
// on the compute.Pool they are given.
//
// Plasticity rules (package circuit) write gradients into those buffers;
// ClipNorm limits a group's norm and an Optimizer (Adam with torch's
// semantics, or SGD with momentum) applies them. Optimizers expose their
// state (OptimizerState) for checkpoints. Weight initialisation
// (xavier-normal, identity) is in init.go.
package synapse
