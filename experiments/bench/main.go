// Command bench measures training speed: windows of the published MNIST
// Strong-DFC configuration on random data. It prints a JSON object as the
// last line of stdout with samples per second, the counted GFLOP/s, the
// GFLOP/s of a representative matrix product in the same process, their
// ratio (efficiency), the backend and the peak memory. -chunks K runs every
// minibatch window-parallel in K chunks (the configuration key chunks);
// -preset and -set measure another configuration.
//
//	go run ./experiments/bench
//	go run ./experiments/bench -chunks 2
//	go run -tags openblas ./experiments/bench
//	go run ./experiments/bench -backend go-avx2
//	go run ./experiments/bench -preset mnist-strong-dfc-online -windows 2
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/internal/bench"
	"github.com/strongdfc/strongdfc/internal/command"
	"github.com/strongdfc/strongdfc/internal/config"
	"github.com/strongdfc/strongdfc/internal/prof"
	"github.com/strongdfc/strongdfc/presets"
)

func main() {
	opt := bench.Options{Inputs: 784, Classes: 10}
	var pf prof.Flags
	preset := flag.String("preset", "mnist-strong-dfc", "configuration `name` to measure (strongdfc presets lists them)")
	var sets []string
	flag.Func("set", "change one configuration value, `key=value` (dynamics.steps=100, hidden=[64,64]); repeatable", func(s string) error {
		sets = append(sets, s)
		return nil
	})
	flag.IntVar(&opt.Windows, "windows", 10, "timed `windows` (minibatches)")
	flag.IntVar(&opt.Warmup, "warmup", 1, "untimed warm-up `windows`")
	batch := flag.Int("batch", 0, "minibatch `size` (default: the configuration's, 128)")
	chunks := flag.Int("chunks", -1, "window-parallel `chunks` per minibatch (0 or 1: none; default: the configuration's)")
	seed := flag.Uint64("seed", 1, "random `seed`")
	backend := flag.String("backend", "", "matrix-product `backend` to measure, one of "+strings.Join(compute.Backends(), ", ")+" (default: the first)")
	pf.Register(flag.CommandLine)
	command.ParseCommandLine()
	cfg, err := presets.Lookup(*preset)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	for _, kv := range sets {
		if cfg, err = config.Override(cfg, kv); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(2)
		}
	}
	cfg.Seed = *seed
	if *batch > 0 {
		cfg.Batch = *batch
	}
	if *chunks >= 0 {
		cfg.Chunks = *chunks
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if *backend != "" {
		if err := compute.SetBackend(*backend); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(2)
		}
	}
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
	fmt.Fprintf(os.Stderr, "bench: %s, %d windows of %d steps, batch %d, %d chunks, backend %s\n", *preset, opt.Windows, cfg.Dynamics.Steps, cfg.Batch, cfg.Chunks, compute.Backend())
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
