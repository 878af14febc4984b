// Command strongdfc trains, evaluates and inspects networks of
// multi-compartment neurons learning by Strong Deep Feedback Control.
//
//	strongdfc presets                          # the published configurations
//	strongdfc train --preset mnist-strong-dfc  # a run folder under ./runs
//	strongdfc train --resume runs/NAME         # continue it, bit for bit
//	strongdfc eval runs/NAME                   # test accuracy of its weights
//	strongdfc trace --from runs/NAME --samples 0,1
//	strongdfc train --preset mnist-strong-dfc --serve 127.0.0.1:8040  # a live page
//	strongdfc view runs/NAME [runs/OTHER...]   # the page of finished runs
//	strongdfc version
//
// Every subcommand explains its flags with --help. Exit status: 0 success,
// 1 error (bad input, failed or diverged run), 2 wrong usage, 130 and 143
// interrupted by SIGINT and SIGTERM (the state is saved; --resume
// continues).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/strongdfc/strongdfc/train"
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sig
		// A second signal kills the process at once; the checkpoint is
		// written atomically, so the last good one survives that too.
		signal.Stop(sig)
		cancel(signalError{s})
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// signalError is the cause of a context cancelled by a signal.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string { return "received " + e.sig.String() }

// usageError marks errors of the command line itself (exit status 2).
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// run executes the command line args and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "strongdfc:", err)
	var in *train.Interrupted
	var ue usageError
	switch {
	case errors.As(err, &in):
		var se signalError
		if errors.As(context.Cause(ctx), &se) && se.sig == syscall.SIGTERM {
			return 143
		}
		return 130
	case errors.As(err, &ue):
		return 2
	}
	return 1
}

// newRoot builds the command tree.
func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "strongdfc",
		Short: "Simulate and train networks by Strong Deep Feedback Control",
		Long: `strongdfc simulates deep networks of multi-compartment neurons (basal,
apical and somatic compartments) whose output a feedback controller drives
to the label, and trains them by Strong Deep Feedback Control (Meulemans et
al., ICML 2022): the forward weights learn to produce what the controller
had to add, the feedback weights learn from noise, in one continuous phase.

A training run lives in a run folder (runs/NAME): the resolved
configuration, the command line, program and machine, per-epoch metrics
(CSV and JSON lines), a checkpoint after every epoch and on Ctrl-C, the
final weights, the log and the plots. A run is never overwritten, and
"strongdfc train --resume runs/NAME" continues it with the same bits as
an uninterrupted run.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
	})
	root.AddCommand(newTrain(), newEval(), newTrace(), newView(), newBench(), newSweep(), newCollect(), newPresets(), newVersion())
	return root
}

// noArgs is cobra.NoArgs as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q (see --help)", cmd.CommandPath(), args)}
	}
	return nil
}
