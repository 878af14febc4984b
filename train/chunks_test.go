package train_test

import (
	"context"
	"math"
	"testing"

	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/train"
)

// runMinibatches trains c for n minibatches on pool and returns its
// snapshot.
func runMinibatches(t *testing.T, c train.Config, n int, pool *compute.Pool) *train.Snapshot {
	t.Helper()
	tr, err := train.New(c, tinyData(t, c), train.Options{Pool: pool})
	if err != nil {
		t.Fatal(err)
	}
	done := 0
	for done < n && !tr.Done() {
		ctx, cancel := context.WithCancel(context.Background())
		tr.Next(ctx, func(train.Progress) { //nolint:errcheck // stopped on purpose
			done++
			if done == n {
				cancel()
			}
		})
		cancel()
	}
	s, err := tr.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestChunksAgree: a minibatch simulated window-parallel in chunks gives
// the weights of the minibatch simulated as one, to rounding; the number
// of workers does not change a bit; and a chunked run resumes exactly.
func TestChunksAgree(t *testing.T) {
	c := resumeConfig()
	c.Pretrain.Epochs = 0 // training windows: both rules
	c.Epochs = 1
	one := runMinibatches(t, c, 3, nil)
	c.Chunks = 4
	four := runMinibatches(t, c, 3, nil)
	var worst float64
	for i := range one.W {
		for j, w := range one.W[i] {
			worst = math.Max(worst, math.Abs(w-four.W[i][j])/math.Max(1e-3, math.Abs(w)))
		}
		for j, q := range one.Q[i] {
			worst = math.Max(worst, math.Abs(q-four.Q[i][j])/math.Max(1e-3, math.Abs(q)))
		}
	}
	t.Logf("largest relative difference of a weight, 4 chunks against 1: %.3g", worst)
	if worst > 1e-8 {
		t.Errorf("4 chunks change the weights by %.3g relative to one minibatch", worst)
	}
	for _, w := range []int{2, 3} {
		p := compute.NewPool(w)
		got := runMinibatches(t, c, 3, p)
		p.Close()
		if d := sameBits(four, got); d != "" {
			t.Errorf("%d workers: %s differ from none", w, d)
		}
	}
	c.Epochs, c.Pretrain.Epochs = 2, 1
	data := tinyData(t, c)
	ref, _ := train.New(c, data)
	finish(t, ref)
	want, _ := ref.Snapshot()
	_, got := resumed(t, c, data, "train", 1, 4)
	if d := sameBits(want, got); d != "" {
		t.Errorf("a chunked run resumed: %s differ", d)
	}
}
