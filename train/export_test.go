package train

// ReduceChunks runs the serial part of a window-parallel window again (the
// sum of the chunks' gradients and the optimizers' step) for benchmarks.
func ReduceChunks(r Runner, rows int) (WindowResult, error) {
	return r.(*chunkedRunner).reduce(rows)
}

// PhaseStarted reports whether the run's phase of that name has built its
// runner (phases start when they first simulate).
func PhaseStarted(t *Trainer, name string) bool { return t.phase(name).run.Started() }
