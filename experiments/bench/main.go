// Command bench measures training speed: windows of the published MNIST
// Strong-DFC configuration on random data. It prints a JSON object as the
// last line of stdout with samples per second, the counted GFLOP/s, the
// GFLOP/s of a representative matrix product in the same process, their
// ratio (efficiency), the backend and the peak memory.
//
//	go run ./experiments/bench
//	go run -tags openblas ./experiments/bench
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/internal/bench"
	"github.com/strongdfc/strongdfc/internal/prof"
	"github.com/strongdfc/strongdfc/presets"
)

func main() {
	cfg := presets.MNIST()
	opt := bench.Options{Inputs: 784, Classes: 10}
	var pf prof.Flags
	flag.IntVar(&opt.Windows, "windows", 10, "timed `windows` (minibatches of 500 steps)")
	flag.IntVar(&opt.Warmup, "warmup", 1, "untimed warm-up `windows`")
	flag.IntVar(&cfg.Batch, "batch", cfg.Batch, "minibatch `size`")
	flag.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random `seed`")
	pf.Register(flag.CommandLine)
	flag.Parse()
	opt.Pool = compute.NewPool(0)
	defer opt.Pool.Close()
	stop, addr, err := pf.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if addr != "" {
		fmt.Fprintf(os.Stderr, "pprof at http://%s/debug/pprof/\n", addr)
	}
	fmt.Fprintf(os.Stderr, "bench: %d windows of %d steps, batch %d, backend %s\n", opt.Windows, cfg.Dynamics.Steps, cfg.Batch, compute.Backend())
	r, err := bench.Run(cfg, opt)
	if serr := stop(); serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "%.1f samples/s, %.1f GFLOP/s of %.1f (%s): efficiency %.2f, %.2f ms/step, peak RSS %.0f MB\n",
		r.SamplesPerSecond, r.GFLOPS, r.BLASGFLOPS, r.BLASShape, r.Efficiency, r.MillisPerStep, r.PeakRSSMB)
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}
