package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/strongdfc/strongdfc/checkpoint"
	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/dataset"
	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/train"
)

// networkFile returns the weights file a path names: the path itself when
// it is a file, else a run folder's weights.npz, or its checkpoint.npz
// when the run has not finished.
func networkFile(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return path, nil
	}
	for _, f := range []string{runfolder.Weights, runfolder.Checkpoint} {
		p := filepath.Join(path, f)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s holds neither %s nor %s; is it a run folder?", path, runfolder.Weights, runfolder.Checkpoint)
}

// loadNetwork reads the configuration and network that path names, and
// the data set of the configuration (from dataDir if not "").
func loadNetwork(path, dataDir string) (string, train.Config, *circuit.Network, *train.Data, error) {
	file, err := networkFile(path)
	if err != nil {
		return "", train.Config{}, nil, nil, err
	}
	cfg, net, err := checkpoint.ReadNetwork(file)
	if err != nil {
		return "", train.Config{}, nil, nil, err
	}
	data, err := train.LoadData(cfg, dataDir)
	if err != nil {
		return "", train.Config{}, nil, nil, err
	}
	if want := cfg.Sizes(data.Train.Set.Dim, data.Classes); net.NIn() != want[0] || net.NOut() != want[len(want)-1] {
		return "", train.Config{}, nil, nil, fmt.Errorf("%s: the network has %d inputs and %d outputs, the data %d pixels and %d classes",
			file, net.NIn(), net.NOut(), data.Train.Set.Dim, data.Classes)
	}
	return file, cfg, net, data, nil
}

// splitOf returns the named split.
func splitOf(d *train.Data, name string) (dataset.Split, error) {
	switch name {
	case "test":
		return d.Test, nil
	case "validation":
		return d.Validation, nil
	case "train":
		return d.Train, nil
	}
	return dataset.Split{}, usageError{fmt.Errorf("--split %q: want test, validation or train", name)}
}

// EvalResult is what eval prints, one JSON line per split.
type EvalResult struct {
	File     string   `json:"file"`
	Split    string   `json:"split"`
	Samples  int      `json:"samples"`
	Loss     *float64 `json:"loss"`
	Accuracy *float64 `json:"accuracy"`
}

func newEval() *cobra.Command {
	var dataDir string
	var splits []string
	cmd := &cobra.Command{
		Use:   "eval RUN|FILE",
		Short: "Evaluate a run's weights or checkpoint on a data set",
		Long: `Evaluate the feedforward network (no controller) of a run folder (its
weights.npz, or its checkpoint.npz if the run has not finished) or of a
weights or checkpoint file on splits of the run's data set: the
cross-entropy loss against the soft labels and the accuracy. The
validation split is the one the run held out (same split seed). Prints one
JSON object per split on stdout.`,
		Example: `  strongdfc eval runs/first
  strongdfc eval runs/first/checkpoint.npz --split validation --split test`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("eval takes one run folder or weights file, got %d arguments (see --help)", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			file, cfg, net, data, err := loadNetwork(args[0], dataDir)
			if err != nil {
				return err
			}
			ev := train.NewEvaluator(net, cfg, data.Norm, data.Classes)
			for _, name := range splits {
				sp, err := splitOf(data, name)
				if err != nil {
					return err
				}
				loss, acc := ev.Evaluate(sp)
				r := EvalResult{File: file, Split: name, Samples: sp.Len(), Loss: finite(loss), Accuracy: finite(acc)}
				b, _ := json.Marshal(r)
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "", "`folder` with the data set's files: IDX, or CIFAR-10's binary batches (default: where train finds them)")
	cmd.Flags().StringSliceVar(&splits, "split", []string{"test"}, "`splits` to evaluate: test, validation or train (repeat or separate by commas)")
	return cmd
}

func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}
