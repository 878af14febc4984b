// Package checkpoint reads and writes the files in which a run keeps its
// state: weights files (a network and its configuration) and checkpoints
// (everything a train.Trainer needs to continue bit for bit), both NumPy
// .npz archives that numpy.load reads.
package checkpoint
