//go:build !race

package train_test

// raceEnabled says whether the tests run under the race detector.
const raceEnabled = false
