package runner

import (
	"context"
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/strongdfc/strongdfc/internal/synth"
	"github.com/strongdfc/strongdfc/presets"
	"github.com/strongdfc/strongdfc/train"
)

// TestLimitMemory: the soft memory limit lies MemoryHeadroom above what
// the process uses after collecting (at least the live heap), a
// GOMEMLIMIT in the environment is left alone, and unlimitMemory lifts
// the limit.
func TestLimitMemory(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)
	t.Setenv("GOMEMLIMIT", "")
	keep := make([]byte, 64<<20) // 64 MiB live
	for i := range keep {
		keep[i] = byte(i)
	}
	start := time.Now()
	limit := limitMemory()
	took := time.Since(start)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Errorf("limit in force %d, limitMemory returned %d", got, limit)
	}
	if limit < int64(ms.HeapAlloc)+MemoryHeadroom {
		t.Errorf("limit %d MiB below the live heap (%d MiB) plus the headroom", limit>>20, ms.HeapAlloc>>20)
	}
	if limit > int64(ms.Sys)+MemoryHeadroom {
		t.Errorf("limit %d MiB above all the runtime holds (%d MiB) plus the headroom", limit>>20, ms.Sys>>20)
	}
	t.Logf("limit %d MiB with %d MiB live; %v", limit>>20, ms.HeapAlloc>>20, took)
	runtime.KeepAlive(keep)

	debug.SetMemoryLimit(before)
	t.Setenv("GOMEMLIMIT", "1GiB")
	if got := limitMemory(); got != 0 {
		t.Errorf("with GOMEMLIMIT set, limitMemory set a limit of %d", got)
	}
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("with GOMEMLIMIT set, the limit changed to %d", got)
	}

	// unlimitMemory lifts it.
	t.Setenv("GOMEMLIMIT", "")
	limitMemory()
	unlimitMemory()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("after unlimitMemory the limit is %d, want none", got)
	}
}

// limitWatcher records the soft memory limit in force at every epoch's
// end.
type limitWatcher struct{ limits []int64 }

func (w *limitWatcher) Started(*train.Trainer, string)                         {}
func (w *limitWatcher) Progress(*train.Trainer, train.Progress, time.Duration) {}
func (w *limitWatcher) Epoch(*train.Trainer, train.EpochResult) {
	w.limits = append(w.limits, debug.SetMemoryLimit(-1))
}

// TestRunLimitsMemory: a run's epochs end under a soft memory limit, and
// the run lifts it when it returns.
func TestRunLimitsMemory(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	t.Setenv("GOMEMLIMIT", "")
	dir := t.TempDir()
	if err := synth.WriteIDX(dir, 96, 32); err != nil {
		t.Fatal(err)
	}
	cfg := presets.MNIST()
	cfg.Hidden, cfg.Epochs, cfg.Batch, cfg.Validation = []int{8}, 2, 16, 16
	cfg.Dynamics.Steps, cfg.Pretrain.Dynamics.Steps = 12, 12
	w := &limitWatcher{}
	if _, err := Run(context.Background(), cfg, Options{DataDir: dir, Observer: w}); err != nil {
		t.Fatal(err)
	}
	if len(w.limits) != 3 {
		t.Fatalf("%d epochs observed, want 3 (one of pre-training, two of training)", len(w.limits))
	}
	for i, l := range w.limits {
		if l == math.MaxInt64 {
			t.Errorf("epoch %d ended with no memory limit", i+1)
		}
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("after the run the limit is %d, want none", got)
	}
}
