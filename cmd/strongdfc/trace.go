package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"gonum.org/v1/gonum/mat"

	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/internal/trace"
	"github.com/strongdfc/strongdfc/neuron"
	"github.com/strongdfc/strongdfc/train"
)

func newTrace() *cobra.Command {
	var (
		cf                    configFlags
		from, dataDir, out    string
		split, phase          string
		samples               []int
		every, neurons, steps int
		noiseSeed             uint64
	)
	cmd := &cobra.Command{
		Use:   "trace",
		Short: "Record the dynamics of one window for chosen samples",
		Long: `Present chosen samples to a network and record one window of its dynamics
with learning switched off: the control u, the output and its target, and
for a few neurons of every layer the basal, apical and somatic voltages
and the rate, every --every steps. The network comes from a run folder or
a weights or checkpoint file (--from), or is freshly initialised from a
configuration (--preset, --config, --set) as a run would start.

Writes to the --out folder: trace.npz (arrays t, k, samples, labels, u and
output [records × samples × classes], target, and layerI.neurons,
layerI.basal/apical/soma/rate [records × samples × neurons]), control.csv,
neurons.csv, and trace.png (per sample: u; the output, or its softmax when
the controller compares that, against the target; the somatic and basal
voltages and the apical voltage of the first recorded neuron of each
layer) with its data as trace.csv.`,
		Example: `  strongdfc trace --from runs/first --samples 0,1,2
  strongdfc trace --preset mnist-strong-dfc --samples 7 --every 5 --neurons 4`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			if out != "" {
				if err := newFolder(out); err != nil {
					return err
				}
			}
			var cfg train.Config
			var net *circuit.Network
			var data *train.Data
			var err error
			if from != "" {
				for _, n := range []string{"preset", "config", "set"} {
					if f.Changed(n) {
						return usageError{fmt.Errorf("--from takes the network and its configuration from %s; --%s cannot be given with it", from, n)}
					}
				}
				if _, cfg, net, data, err = loadNetwork(from, dataDir); err != nil {
					return err
				}
			} else {
				if cfg, _, err = cf.resolve(); err != nil {
					return err
				}
				if err := cfg.Validate(); err != nil {
					return err
				}
				if data, err = train.LoadData(cfg, dataDir); err != nil {
					return err
				}
				tr, err := train.New(cfg, data) // the run's initial weights
				if err != nil {
					return err
				}
				net = tr.Net
			}
			sp, err := splitOf(data, split)
			if err != nil {
				return err
			}
			for _, s := range samples {
				if s < 0 || s >= sp.Len() {
					return usageError{fmt.Errorf("--samples: sample %d is not in the %s split (0..%d)", s, split, sp.Len()-1)}
				}
			}
			m, err := cfg.MethodSpec()
			if err != nil {
				return err
			}
			var names []string
			var sim train.Simulated
			for _, p := range m.Phases {
				if s, ok := p.(train.Simulated); ok {
					names = append(names, p.Name())
					if p.Name() == phase {
						sim = s
					}
				}
			}
			if sim.PhaseName == "" {
				return usageError{fmt.Errorf("--phase %q: method %s simulates the phases %v", phase, cfg.Method, names)}
			}
			T := sim.Window.Steps
			if f.Changed("steps") {
				T = steps
			}
			S := len(samples)
			env, err := train.NewEnv(cfg, m, net, S, cfg.Seed, nil)
			if err != nil {
				return err
			}
			var noise neuron.NoiseSource // the phase's own, as in training
			if f.Changed("noise-seed") {
				noise = neuron.NewGaussian(noiseSeed)
			}
			x := mat.NewDense(S, data.Train.Set.Dim, nil)
			labels := make([]int, S)
			sp.Batch(x, labels, data.Norm.Table(), samples, 0)
			tg := mat.NewDense(S, net.NOut(), nil)
			if cfg.Autoencoder() {
				tg.Copy(x)
			} else {
				circuit.SetSoftTargets(tg, labels, cfg.TargetClassValue)
			}
			rec, err := trace.Record(sim, env, noise, x, tg, samples, labels,
				trace.Options{Steps: T, Every: every, Neurons: neurons})
			if err != nil {
				return err
			}
			if out == "" {
				parent := "runs"
				if from != "" {
					if st, err := os.Stat(from); err == nil && st.IsDir() {
						parent = filepath.Join(from, "traces")
					}
				}
				r, err := runfolder.Create(parent, "", time.Now())
				if err != nil {
					return err
				}
				out = r.Dir
			} else if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			} else if err := newFolder(out); err != nil { // made meanwhile
				return err
			}
			cj, _ := json.Marshal(cfg)
			if err := rec.Save(out, cj); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "traced %d samples over %d steps (%d records) into %s\n", S, T, len(rec.Steps), out)
			return nil
		},
	}
	cf.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&from, "from", "", "run folder, weights or checkpoint `file` whose network to trace (default: a fresh network from the configuration flags)")
	fl.StringVar(&dataDir, "data", "", "`folder` with the data set's files: IDX, or CIFAR-10's binary batches (default: where train finds them)")
	fl.StringVar(&split, "split", "test", "`split` the samples come from: test, validation or train")
	fl.IntSliceVar(&samples, "samples", []int{0}, "`indices` of the samples in the split, comma-separated (they run as one minibatch)")
	fl.IntVar(&every, "every", 1, "record every `k`-th time step (and the last)")
	fl.IntVar(&neurons, "neurons", 3, "`number` of neurons recorded per layer, evenly spaced")
	fl.IntVar(&steps, "steps", 0, "time `steps` T of the window (default: the configuration's, 500 in the published runs)")
	fl.StringVar(&phase, "phase", "train", "`phase` whose dynamics to simulate: train, pretrain or sleep (as the method has them)")
	fl.Uint64Var(&noiseSeed, "noise-seed", 0, "`seed` of the noise (default: the phase's noise seed in the run)")
	fl.StringVar(&out, "out", "", "new `folder` for the files, never one that holds files (default: a new folder under RUN/traces with --from RUN, else under runs/)")
	return cmd
}

// newFolder refuses a trace folder that exists and holds anything: a
// trace never overwrites another (an empty folder is fine).
func newFolder(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("--out %s: %w", dir, err)
	case len(entries) > 0:
		return fmt.Errorf("--out %s: the folder exists and holds files (%s, ...); a trace never overwrites another: give a new folder, or leave --out out for a new one under the run's traces/", dir, entries[0].Name())
	}
	return nil
}
