package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/internal/bench"
	"github.com/strongdfc/strongdfc/internal/config"
	"github.com/strongdfc/strongdfc/internal/prof"
	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/presets"
	"github.com/strongdfc/strongdfc/train"
)

func newPresets() *cobra.Command {
	var show string
	cmd := &cobra.Command{
		Use:   "presets",
		Short: "List the named configurations (the published ones)",
		Long: `List the named configurations: the published configurations of the
Strong-DFC paper, with the results they reached and their epochs of
feedback pre-training and of training (pre-training runs before training
whatever --epochs says; --pretrain-epochs changes it). --show NAME prints
one as a complete YAML configuration file, a starting point for --config.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if show != "" {
				cfg, err := presets.Lookup(show)
				if err != nil {
					return err
				}
				y, err := config.Marshal(cfg, show, "Preset "+show+"; `strongdfc train --config FILE` runs it.")
				if err != nil {
					return err
				}
				_, err = cmd.OutOrStdout().Write(y)
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "NAME\tPRE-TRAINING + TRAINING EPOCHS\tDESCRIPTION")
			for _, p := range presets.All() {
				c := p.Config()
				epochs := fmt.Sprintf("%d + %d", c.Pretrain.Epochs, c.Epochs)
				if c.Method == train.MethodBP {
					epochs = fmt.Sprintf("%d", c.Epochs)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\n", p.Name, epochs, p.Description)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), `
Feedback pre-training runs before training whatever --epochs says;
--pretrain-epochs N changes it (0: none), e.g.
  strongdfc train --preset mnist-dfc --epochs 1 --pretrain-epochs 2`)
			return nil
		},
	}
	cmd.Flags().StringVar(&show, "show", "", "print the preset `name` as a YAML configuration file")
	return cmd
}

func newVersion() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the program's version, Go version and BLAS backend",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p := runfolder.ProgramInfo()
			if asJSON {
				b, _ := json.Marshal(p)
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return nil
			}
			rev := ""
			if p.Revision != "" {
				rev = " (" + p.Revision
				if p.Modified {
					rev += ", modified"
				}
				rev += ")"
			}
			backend := p.Backend
			if p.Core != "" {
				backend += " (core " + p.Core + ")"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "strongdfc %s%s\nmodule   %s\ngo       %s %s/%s\nblas     %s\ncpus     %d (GOMAXPROCS %d)\n",
				p.Version, rev, p.Module, p.GoVersion, p.OS, p.Arch, backend, p.CPUs, p.MaxProcs)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as one JSON object")
	return cmd
}

func newBench() *cobra.Command {
	var (
		opt  = bench.Options{Inputs: 784, Classes: 10}
		cf   configFlags
		pf   prof.Flags
		seed uint64
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure training speed on random data",
		Long: `Time training windows of a configuration (default: the published MNIST
one) on random data of MNIST's shape. Prints a summary on stderr and, as
the last line of stdout, a JSON object: samples per second, the counted
GFLOP/s, the GFLOP/s of a representative matrix product in the same
process, their ratio, the backend and the peak memory.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := cf.resolve()
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("seed") {
				cfg.Seed = seed
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			stop, addr, err := pf.Start()
			if err != nil {
				return err
			}
			if addr != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "pprof at http://%s/debug/pprof/\n", addr)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "bench: %d windows of %d steps, batch %d, backend %s\n", opt.Windows, cfg.Dynamics.Steps, cfg.Batch, compute.Backend())
			opt.Pool = compute.NewPool(0)
			defer opt.Pool.Close()
			r, err := bench.Run(cfg, opt)
			if serr := stop(); serr != nil && err == nil {
				err = serr
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%.1f samples/s, %.1f GFLOP/s of %.1f (%s): efficiency %.2f, %.2f ms/step, peak RSS %.0f MB\n",
				r.SamplesPerSecond, r.GFLOPS, r.BLASGFLOPS, r.BLASShape, r.Efficiency, r.MillisPerStep, r.PeakRSSMB)
			b, _ := json.Marshal(r)
			fmt.Fprintln(cmd.OutOrStdout(), string(b))
			return nil
		},
	}
	cf.register(cmd)
	fl := cmd.Flags()
	fl.IntVar(&opt.Windows, "windows", 10, "timed `windows` (minibatches of the configuration's steps)")
	fl.IntVar(&opt.Warmup, "warmup", 1, "untimed warm-up `windows`")
	fl.Uint64Var(&seed, "seed", 0, "random `seed` (default: the configuration's)")
	gf := flag.NewFlagSet("profiling", flag.ContinueOnError)
	pf.Register(gf)
	fl.AddGoFlagSet(gf)
	return cmd
}
