package runner

import (
	"os"
	"runtime/debug"
	rtmetrics "runtime/metrics"
)

// MemoryHeadroom is how far above what a run uses after an epoch's end
// its soft memory limit lies (settleMemory).
const MemoryHeadroom = 32 << 20

// settleMemory collects the garbage an epoch's end leaves (the figures'
// images, the evaluation's and the checkpoint's buffers, a finished
// phase's circuits), hands the free pages back to the system, and sets the
// Go runtime's soft memory limit to what the run then uses plus
// MemoryHeadroom, unless the environment's GOMEMLIMIT sets one. A training
// window allocates nothing, so the limit only makes the collector run
// sooner in the bursts between epochs (evaluation, checkpoints, figures),
// which keeps the resident memory near the live heap
// (docs/performance.md). It returns the limit set (0 when GOMEMLIMIT is
// set).
func settleMemory() int64 {
	debug.FreeOSMemory()
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	s := []rtmetrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	rtmetrics.Read(s)
	used := int64(s[0].Value.Uint64() - s[1].Value.Uint64())
	limit := used + MemoryHeadroom
	debug.SetMemoryLimit(limit)
	return limit
}
