//go:build race

package train_test

// raceEnabled says whether the tests run under the race detector, whose
// sync.Pool drops a share of what is put into it (so pooled objects are
// allocated again at random).
const raceEnabled = true
