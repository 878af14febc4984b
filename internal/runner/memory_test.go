package runner

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
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
