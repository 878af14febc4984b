package bench

import (
	"testing"

	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/presets"
)

// TestRun: a tiny benchmark runs the phase as training does, with and
// without window-parallel chunks, and reports what it timed.
func TestRun(t *testing.T) {
	pool := compute.NewPool(2)
	defer pool.Close()
	for _, chunks := range []int{0, 2} {
		cfg := presets.MNIST()
		cfg.Hidden = []int{8, 8}
		cfg.Batch, cfg.Chunks = 4, chunks
		cfg.Dynamics.Steps = 5
		r, err := Run(cfg, Options{Windows: 2, Inputs: 12, Classes: 3, Pool: pool})
		if err != nil {
			t.Fatal(err)
		}
		if r.Windows != 2 || r.Chunks != chunks || r.Steps != 5 || !(r.SamplesPerSecond > 0) || !(r.FLOPsPerWindow > 0) {
			t.Errorf("chunks %d: %+v", chunks, r)
		}
	}
	if _, err := Run(presets.MNIST(), Options{Windows: 0, Inputs: 12, Classes: 3}); err == nil {
		t.Error("no timed window accepted")
	}
}
