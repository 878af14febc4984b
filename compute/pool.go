package compute

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Body is the work of one chunk [lo, hi) of a loop over [0, n).
type Body interface {
	Range(lo, hi int)
}

// Func adapts a function to Body. Converting a closure allocates, so hot
// paths use a struct that implements Body instead.
type Func func(lo, hi int)

// Range calls f(lo, hi).
func (f Func) Range(lo, hi int) { f(lo, hi) }

// testHookAfterDone, set by tests only, runs in a worker between counting
// its chunk done and waking the caller, where the scheduler may stop it.
var testHookAfterDone atomic.Pointer[func()]

// spinFor is how long an idle worker spins before it parks.
const spinFor = 100 * time.Microsecond

// Pool is a set of worker goroutines that run chunks of loops. Run may be
// called from several goroutines; calls are served one at a time. A Body
// must not call Run on the same pool.
type Pool struct {
	workers int
	mu      sync.Mutex // serialises Run

	// The current loop, written by Run before it publishes gen.
	body  Body
	n     int
	gen   atomic.Uint64 // incremented to publish a loop
	done  atomic.Int64  // chunks finished in the current loop
	wake  []chan struct{}
	state []atomic.Int32 // per worker: running or parked

	// The caller of Run parks on finished when the loop takes long: it sets
	// waiting to the loop's generation, and the worker that finishes that
	// loop last and finds waiting at it wakes the caller. (Keyed by the
	// generation, a worker slow to look can never wake the caller of a
	// later loop.)
	waiting  atomic.Uint64
	finished chan struct{}
}

const (
	running int32 = iota
	parked
)

// NewPool starts workers-1 goroutines (the caller of Run is the last
// worker). workers ≤ 0 means runtime.GOMAXPROCS(0).
func NewPool(workers int) *Pool {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	p := &Pool{workers: workers, wake: make([]chan struct{}, workers), state: make([]atomic.Int32, workers),
		finished: make(chan struct{}, 1)}
	for i := 1; i < workers; i++ {
		p.wake[i] = make(chan struct{}, 1)
		go p.worker(i)
	}
	return p
}

// Workers reports the number of workers, the caller included (1 for a nil
// pool).
func (p *Pool) Workers() int {
	if p == nil {
		return 1
	}
	return p.workers
}

// worker runs chunk id of every loop. Every worker takes part in every
// loop (possibly with an empty chunk), so no worker can miss one and the
// loop's fields are stable while it reads them.
func (p *Pool) worker(id int) {
	var seen uint64
	for {
		g := p.await(id, seen)
		if g == 0 {
			return // closed
		}
		seen = g
		if lo, hi := id*p.n/p.workers, (id+1)*p.n/p.workers; lo < hi {
			p.body.Range(lo, hi)
		}
		last := p.done.Add(1) == int64(p.workers-1)
		if h := testHookAfterDone.Load(); h != nil {
			(*h)()
		}
		if last && p.waiting.CompareAndSwap(g, 0) {
			p.finished <- struct{}{}
		}
	}
}

// await returns the next generation after seen, spinning first and then
// parking; 0 means the pool is closed.
func (p *Pool) await(id int, seen uint64) uint64 {
	spin := runtime.GOMAXPROCS(0) > 1
	start := time.Now()
	for i := 0; ; i++ {
		if g := p.gen.Load(); g != seen {
			return g
		}
		if spin && (i&1023 != 0 || time.Since(start) < spinFor) {
			continue
		}
		// Park: announce it, check once more, then block.
		p.state[id].Store(parked)
		if g := p.gen.Load(); g != seen {
			p.state[id].Store(running)
			return g
		}
		if _, ok := <-p.wake[id]; !ok {
			return 0
		}
		p.state[id].Store(running)
		spin = runtime.GOMAXPROCS(0) > 1
		start = time.Now()
	}
}

// Run calls b.Range on contiguous chunks that cover [0, n), one per worker,
// and returns when all are done. A loop of fewer than 2·grain indices runs
// on the caller alone (grain ≤ 0 means 1). A nil pool runs every loop on
// the caller alone, as b.Range(0, n).
func (p *Pool) Run(n, grain int, b Body) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	if p == nil || p.workers == 1 || n < 2*grain {
		b.Range(0, n)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.body, p.n = b, n
	p.done.Store(0)
	gen := p.gen.Add(1)
	for i := 1; i < p.workers; i++ {
		if p.state[i].Load() == parked {
			select {
			case p.wake[i] <- struct{}{}:
			default:
			}
		}
	}
	if hi := n / p.workers; hi > 0 {
		b.Range(0, hi)
	}
	p.wait(gen)
	p.body = nil
}

// wait returns when every worker has finished the current loop: it spins
// for a while (the other chunks usually end within microseconds of the
// caller's), then parks until the last worker wakes it, so that a machine
// busy with other work does not lose a core to the spinning.
func (p *Pool) wait(gen uint64) {
	all := int64(p.workers - 1)
	start := time.Now()
	for i := 0; ; i++ {
		if p.done.Load() == all {
			return
		}
		if i&255 == 255 && time.Since(start) > spinFor/4 {
			break
		}
	}
	p.waiting.Store(gen)
	if p.done.Load() == all {
		if p.waiting.CompareAndSwap(gen, 0) {
			return
		}
		// The last worker claimed the flag: its wake-up is on the way.
	}
	<-p.finished
}

// Close stops the pool's goroutines. The pool must not be used afterwards.
// Closing a nil pool does nothing.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	for i := 1; i < p.workers; i++ {
		close(p.wake[i])
	}
}
