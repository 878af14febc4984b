package runner

import (
	"math"
	"os"
	"runtime/debug"
	rtmetrics "runtime/metrics"
)

// MemoryHeadroom is how far above what a run uses, once an epoch's first
// minibatch has built the phase's circuits, its soft memory limit lies
// (limitMemory). A run's resident memory peaks at an epoch's end (the
// evaluation, the checkpoint, the figures), at about this limit plus the
// executable's pages. What is live then beyond the training's own heap
// must stay near the headroom: buffers kept from one epoch's end to the
// next would lie above the limit for the rest of the run (the evaluator's
// did until the trainer released them, and epoch ends went 10 MB higher).
// At 8 MiB the collector runs about 15 more times at each epoch's end
// (0.1 s of a 4-minute epoch) and the peak of a short run is 2-6 MB lower
// than at 16 MiB (docs/performance.md).
const MemoryHeadroom = 8 << 20

// limitMemory collects the garbage, hands the free pages back to the
// system, and sets the Go runtime's soft memory limit to what the run then
// uses plus MemoryHeadroom, unless the environment's GOMEMLIMIT sets one.
// The runner calls it after the first minibatch of every stretch of
// training (the phase's circuits are built by then): a training window
// allocates next to nothing, so the limit only makes the collector run
// sooner in the bursts that follow (a checkpoint, the epoch's evaluation
// and figures), which keeps the resident memory near the live heap
// (docs/performance.md). It returns the limit set (0 when GOMEMLIMIT is
// set).
func limitMemory() int64 {
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

// unlimitMemory collects the garbage, hands the free pages back and lifts
// the limit limitMemory set (the next phase may build circuits larger than
// the last one's; under a limit it would collect at every allocation).
func unlimitMemory() {
	debug.FreeOSMemory()
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(math.MaxInt64)
	}
}
