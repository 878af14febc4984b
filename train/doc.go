// Package train runs whole experiments: it builds a network and its
// circuits from a Config, loads and splits the data, runs feedback
// pre-training and training epochs through the scheduler, and evaluates.
// It reports progress through a callback and returns values and errors; it
// does not log. The commands in experiments/ and cmd/ drive it.
package train
