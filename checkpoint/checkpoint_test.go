package checkpoint_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/strongdfc/strongdfc/checkpoint"
	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/internal/synth"
	"github.com/strongdfc/strongdfc/train"
)

func finish(t *testing.T, tr *train.Trainer) {
	t.Helper()
	for !tr.Done() {
		if _, err := tr.Next(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
}

// sameRun reports the first difference between two finished runs (but
// the optimizers and phases named in skip).
func sameRun(a, b *train.Snapshot, skip ...string) string { return synth.Diff(a, b, skip...) }

// TestReadFormat1: checkpoints written by the program before phases became
// a list (format 1; testdata/v1, written at commit 175a25b: single-phase
// Strong-DFC stopped in pre-training, in training and at an epoch's end;
// DFC in a sleep phase; backprop) resume to exactly the run an
// uninterrupted program makes today.
func TestReadFormat1(t *testing.T) {
	files, _ := filepath.Glob("testdata/v1/*.npz")
	if len(files) != 5 {
		t.Fatalf("found %d format-1 checkpoints", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			snap, err := checkpoint.Read(f)
			if err != nil {
				t.Fatal(err)
			}
			c := snap.Config
			data, err := synth.Data(c)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := train.New(c, data)
			if err != nil {
				t.Fatal(err)
			}
			finish(t, ref)
			want, _ := ref.Snapshot()
			tr, err := train.New(c, data)
			if err != nil {
				t.Fatal(err)
			}
			if err := tr.Restore(snap); err != nil {
				t.Fatal(err)
			}
			if tr.Done() || len(tr.History()) == 0 {
				t.Fatalf("restored at %s with %d epochs done", tr.Position(), len(tr.History()))
			}
			// Format 1 dropped the pre-training optimizer and noise when
			// pre-training ended (they never run again): their states are not
			// compared then.
			var skip []string
			if pre, _, _ := snap.Epochs(); pre == c.Pretrain.Epochs {
				skip = append(skip, "pretrain")
			}
			finish(t, tr)
			got, _ := tr.Snapshot()
			if compute.Backend() != "gonum" {
				// The checkpoints were written by the pure-Go build: another
				// backend's uninterrupted run rounds differently before the
				// checkpoint, so the two runs agree to rounding, not to the bit.
				if d := closeWeights(want, got, 1e-6); d != "" {
					t.Errorf("resumed from a format-1 checkpoint under %s: %s", compute.Backend(), d)
				}
				return
			}
			if d := sameRun(want, got, skip...); d != "" {
				t.Errorf("resumed from a format-1 checkpoint: %s differ from an uninterrupted run", d)
			}
		})
	}
}

// TestWriteRead: a snapshot taken in the middle of an epoch comes back
// from a file equal, and a run resumed from it ends as an uninterrupted one.
func TestWriteRead(t *testing.T) {
	snap, err := checkpoint.Read("testdata/v1/strong-dfc-train.npz")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := synth.Data(snap.Config)
	a, _ := train.New(snap.Config, data)
	if err := a.Restore(snap); err != nil {
		t.Fatal(err)
	}
	s2, _ := a.Snapshot()
	var buf bytes.Buffer
	if err := checkpoint.Write(&buf, s2); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "c.npz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := checkpoint.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := sameRun(s2, back); d != "" || back.Done != s2.Done || back.Partial == nil || back.Partial.Next != s2.Partial.Next {
		t.Errorf("read back differs: %s (done %d/%d)", d, back.Done, s2.Done)
	}
}

// closeWeights names the first weight of b farther than tol (relative,
// or absolute below 1) from a's ("" when all are close).
func closeWeights(a, b *train.Snapshot, tol float64) string {
	for i := range a.W {
		for _, p := range [][2][]float64{{a.W[i], b.W[i]}, {a.B[i], b.B[i]}, {a.Q[i], b.Q[i]}} {
			for k := range p[0] {
				if d := math.Abs(p[0][k] - p[1][k]); !(d <= tol*math.Max(1, math.Abs(p[0][k]))) {
					return fmt.Sprintf("layer %d weight %d is %g, uninterrupted %g", i+1, k, p[1][k], p[0][k])
				}
			}
		}
	}
	return ""
}
