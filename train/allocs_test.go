package train_test

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/strongdfc/strongdfc/train"
)

// TestNoAllocationPerStep: an epoch of training allocates as much with
// windows of 160 steps as with windows of 40 (the evaluation, the
// diagnostics and each window's end allocate; a time step must not), with
// and without window-parallel chunks. It measures the second epoch, after
// the first has built the circuits.
// The collector is off during the measured epoch: a collection empties
// the sync.Pools the products take their work descriptions from.
func TestNoAllocationPerStep(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's sync.Pool drops items at random: pooled objects are allocated again")
	}
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
				runtime.GC()
				defer debug.SetGCPercent(debug.SetGCPercent(-1))
				runtime.ReadMemStats(&before)
				if _, err := tr.Next(context.Background(), nil); err != nil {
					t.Fatal(err)
				}
				runtime.ReadMemStats(&after)
				return after.Mallocs - before.Mallocs
			}
			short, long := allocs(40), allocs(160)
			// A few dozen allocations may differ (sync.Pool's per-P caches
			// as the workers move between threads, the runtime's own); one
			// allocation at every step of a window's last quarter (the
			// observer's before b278968) made 555-1073 more.
			if long > short+64 {
				t.Errorf("an epoch allocated %d times with 160 steps per window, %d with 40", long, short)
			}
			if testing.Verbose() {
				t.Logf("%d allocations with 40 steps per window, %d with 160", short, long)
			}
		})
	}
}
