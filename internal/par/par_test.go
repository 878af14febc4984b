package par

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
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
