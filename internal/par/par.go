// Package par runs data-parallel loops on a fixed set of worker goroutines
// without allocating: a loop body is a value implementing Body, usually a
// pointer to a struct built once, so a call to Run costs no heap allocation.
//
// Results never depend on how many workers there are: Run only splits an
// index range into contiguous chunks, and every Body in this module computes
// each index independently of the others.
package par

import (
	"runtime"
	"sync"
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

type job struct {
	body   Body
	lo, hi int
}

// Pool is a set of worker goroutines that run chunks of loops.
// The zero value is not usable; call NewPool. Run may be called from
// several goroutines; calls are served one at a time. A Body must not call
// Run on the same pool.
type Pool struct {
	workers int
	jobs    []chan job
	mu      sync.Mutex
	wg      sync.WaitGroup
}

// NewPool starts workers-1 goroutines (the caller's goroutine is the last
// worker). workers ≤ 0 means runtime.GOMAXPROCS(0).
func NewPool(workers int) *Pool {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	p := &Pool{workers: workers, jobs: make([]chan job, workers-1)}
	for i := range p.jobs {
		ch := make(chan job, 1)
		p.jobs[i] = ch
		go func() {
			for j := range ch {
				j.body.Range(j.lo, j.hi)
				p.wg.Done()
			}
		}()
	}
	return p
}

// Workers reports the number of workers, the caller included.
func (p *Pool) Workers() int { return p.workers }

// Run calls b.Range on contiguous chunks that cover [0, n) and returns when
// all are done. Chunks have at least grain indices (grain ≤ 0 means 1), so
// small loops run on fewer workers.
func (p *Pool) Run(n, grain int, b Body) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	w := min(p.workers, (n+grain-1)/grain)
	if w <= 1 {
		b.Range(0, n)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.wg.Add(w - 1)
	for i := 1; i < w; i++ {
		p.jobs[i-1] <- job{body: b, lo: i * n / w, hi: (i + 1) * n / w}
	}
	b.Range(0, n/w)
	p.wg.Wait()
}

// Close stops the pool's goroutines. The pool must not be used afterwards.
func (p *Pool) Close() {
	for _, ch := range p.jobs {
		close(ch)
	}
}

var (
	defaultOnce sync.Once
	defaultPool *Pool
)

// Default returns a process-wide pool with GOMAXPROCS workers, created on
// first use.
func Default() *Pool {
	defaultOnce.Do(func() { defaultPool = NewPool(0) })
	return defaultPool
}
