package train_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/strongdfc/strongdfc/train"

	"github.com/strongdfc/strongdfc/checkpoint"
	"github.com/strongdfc/strongdfc/compute"
)

// procsConfig is a run large enough that the matrix products are split
// into tiles and the elementwise kernels into chunks on the worker pool.
func procsConfig() train.Config {
	c := tinyConfig()
	c.Hidden = []int{160, 160}
	c.Batch = 32
	c.Epochs = 1
	c.TrainLimit = 160
	c.Dynamics.Steps = 12
	c.Pretrain.Dynamics.Steps = 12
	return c
}

// TestGOMAXPROCS: a training run gives the same bits with GOMAXPROCS 1, 2
// and 8, with per-step parallelism and window-parallel (3 chunks). The worker pool is sized once per process, so each setting runs in a
// child process (this test binary, asked by an environment variable to
// train and print a hash of the final checkpoint).
func TestGOMAXPROCS(t *testing.T) {
	if os.Getenv("STRONGDFC_PROCS_CHILD") == "1" {
		c := procsConfig()
		c.Chunks, _ = strconv.Atoi(os.Getenv("STRONGDFC_PROCS_CHUNKS"))
		pool := compute.NewPool(0)
		defer pool.Close()
		tr, err := train.New(c, tinyData(t, c), train.Options{Pool: pool})
		if err != nil {
			t.Fatal(err)
		}
		finish(t, tr)
		s, _ := tr.Snapshot()
		for i := range s.History {
			s.History[i].Seconds, s.History[i].EvalSeconds = 0, 0 // wall time differs
		}
		var buf bytes.Buffer
		if err := checkpoint.Write(&buf, s); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("workers=%d hash=%x\n", pool.Workers(), sha256.Sum256(buf.Bytes()))
		return
	}
	for _, chunks := range []string{"0", "3"} {
		hashes := map[string]string{}
		for _, procs := range []string{"1", "2", "8"} {
			cmd := exec.Command(os.Args[0], "-test.run=^TestGOMAXPROCS$", "-test.count=1")
			cmd.Env = append(os.Environ(), "STRONGDFC_PROCS_CHILD=1", "GOMAXPROCS="+procs, "STRONGDFC_PROCS_CHUNKS="+chunks)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("GOMAXPROCS=%s: %v\n%s", procs, err, out)
			}
			var workers int
			var hash string
			for _, line := range strings.Split(string(out), "\n") {
				if _, err := fmt.Sscanf(line, "workers=%d hash=%s", &workers, &hash); err == nil {
					break
				}
			}
			if hash == "" || fmt.Sprint(workers) != procs {
				t.Fatalf("GOMAXPROCS=%s: child ran %d workers, printed:\n%s", procs, workers, out)
			}
			hashes[procs] = hash
		}
		if hashes["1"] != hashes["2"] || hashes["1"] != hashes["8"] {
			t.Errorf("chunks %s: checkpoint hash %s with GOMAXPROCS 1, %s with 2, %s with 8", chunks, hashes["1"], hashes["2"], hashes["8"])
		}
	}
}
