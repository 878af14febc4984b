package train_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/strongdfc/strongdfc/train"
)

// TestNoAllocationPerStep: an epoch of training allocates as much with
// windows of 160 steps as with windows of 40 (the evaluation, the
// diagnostics and each window's end allocate; a time step must not), with
// and without window-parallel chunks. It measures the second epoch, after
// the first has built the circuits.
func TestNoAllocationPerStep(t *testing.T) {
	for _, chunks := range []int{0, 2} {
		t.Run(fmt.Sprintf("chunks=%d", chunks), func(t *testing.T) {
			allocs := func(steps int) uint64 {
				c := tinyConfig()
				c.Pretrain.Epochs = 0
				c.Chunks = chunks
				c.Dynamics.Steps = steps
				tr, err := train.New(c, tinyData(t, c))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tr.Next(context.Background(), nil); err != nil {
					t.Fatal(err)
				}
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				if _, err := tr.Next(context.Background(), nil); err != nil {
					t.Fatal(err)
				}
				runtime.ReadMemStats(&after)
				return after.Mallocs - before.Mallocs
			}
			short, long := allocs(40), allocs(160)
			// A handful of allocations may differ (the runtime's own, the
			// diagnostics' values); 120 more steps in every window of the
			// epoch may not.
			if long > short+8 {
				t.Errorf("an epoch allocated %d times with 160 steps per window, %d with 40", long, short)
			}
		})
	}
}
