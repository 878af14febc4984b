package compute

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type mark struct{ seen []int32 }

func (m *mark) Range(lo, hi int) {
	for i := lo; i < hi; i++ {
		atomic.AddInt32(&m.seen[i], 1)
	}
}

// TestRunCoversOnce: every index is visited exactly once, for any number
// of workers and loop length, also when callers run concurrently and when
// workers park between loops.
func TestRunCoversOnce(t *testing.T) {
	for _, workers := range []int{1, 2, 3, 8} {
		p := NewPool(workers)
		for _, n := range []int{0, 1, 2, 3, 7, 64, 129, 1000} {
			for _, grain := range []int{0, 1, 8} {
				m := &mark{seen: make([]int32, n)}
				p.Run(n, grain, m)
				for i, c := range m.seen {
					if c != 1 {
						t.Fatalf("workers %d, n %d, grain %d: index %d visited %d times", workers, n, grain, i, c)
					}
				}
			}
		}
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 200 {
					m := &mark{seen: make([]int32, 50)}
					p.Run(50, 1, m)
					for _, c := range m.seen {
						if c != 1 {
							t.Error("concurrent Run visited an index twice or not at all")
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		p.Close()
	}
}

// TestRunSingleProc: with GOMAXPROCS=1 the pool neither spins forever nor
// deadlocks.
func TestRunSingleProc(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	p := NewPool(3)
	defer p.Close()
	for range 100 {
		m := &mark{seen: make([]int32, 30)}
		p.Run(30, 1, m)
	}
}

func TestRunAllocs(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	m := &mark{seen: make([]int32, 100)}
	if n := testing.AllocsPerRun(100, func() { p.Run(100, 1, m) }); n != 0 {
		t.Errorf("Run allocates %v times", n)
	}
}

// TestLateWorker: a worker stopped between counting its chunk done and
// waking the caller (as the scheduler may stop it) must not wake the caller
// of the next loop, who would return before that loop is done. (A run of
// the DFC sleep phase crashed on this before the wake-up was keyed by the
// loop's generation.)
func TestLateWorker(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	defer testHookAfterDone.Store(nil)
	for attempt := 0; attempt < 50; attempt++ {
		for range 10 {
			p.Run(4, 1, &mark{seen: make([]int32, 4)}) // the worker is awake and spinning
		}
		release := make(chan struct{})
		var once sync.Once
		hook := func() { once.Do(func() { <-release }) }
		testHookAfterDone.Store(&hook)
		firstDone := make(chan struct{})
		go func() {
			p.Run(4, 1, &mark{seen: make([]int32, 4)}) // its worker stops in the hook
			close(firstDone)
		}()
		select {
		case <-firstDone:
		case <-time.After(50 * time.Millisecond):
			// The caller parked before the worker counted its chunk: this
			// attempt cannot show the race.
			close(release)
			<-firstDone
			testHookAfterDone.Store(nil)
			continue
		}
		// The second loop's worker chunk is slow, so that a caller woken too
		// early returns before it is done.
		second := &slowMark{mark: mark{seen: make([]int32, 4)}}
		done := make(chan struct{})
		go func() {
			p.Run(4, 1, second)
			close(done)
		}()
		for p.waiting.Load() == 0 { // the second loop's caller parks
			time.Sleep(10 * time.Microsecond)
		}
		close(release)
		<-done
		testHookAfterDone.Store(nil)
		for i, c := range second.seen {
			if c != 1 {
				t.Fatalf("the second Run returned with index %d visited %d times", i, c)
			}
		}
		return
	}
	t.Skip("could not stop a worker at the right moment")
}

// slowMark is a mark whose chunks other than the caller's take 5 ms.
type slowMark struct{ mark }

func (m *slowMark) Range(lo, hi int) {
	if lo > 0 {
		time.Sleep(5 * time.Millisecond)
	}
	m.mark.Range(lo, hi)
}
