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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/strongdfc/strongdfc/internal/command"
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
	out := &lastLine{w: stdout}
	root := newRoot(out, stderr)
	root.SetArgs(longFlags(root, args))
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "strongdfc:", err)
	if cmd != nil && cmd.Name() == "train" && !json.Valid(out.last) {
		// train's last line of stdout is a JSON summary, whatever
		// stopped it (a bad flag or configuration included).
		b, _ := json.Marshal(struct {
			Status string `json:"status"`
			Error  string `json:"error"`
		}{"failed", err.Error()})
		fmt.Fprintln(stdout, string(b))
	}
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
		if name, ok := strings.CutPrefix(err.Error(), "unknown flag: --"); ok {
			var names []string
			c.Flags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
			if s := command.Closest(name, names); s != "" {
				return usageError{fmt.Errorf("%w; did you mean --%s? (see %s --help)", err, s, c.CommandPath())}
			}
		}
		return usageError{fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
	})
	root.AddCommand(newTrain(), newEval(), newTrace(), newView(), newBench(), newSweep(), newCollect(), newPresets(), newVersion())
	return root
}

// lastLine passes what is written on to w and keeps the last line.
type lastLine struct {
	w    io.Writer
	last []byte // the last complete line, without its newline
	cur  []byte // the line being written
}

func (l *lastLine) Write(b []byte) (int, error) {
	for _, c := range b {
		if c == '\n' {
			l.last, l.cur = append(l.last[:0], l.cur...), l.cur[:0]
			continue
		}
		l.cur = append(l.cur, c)
	}
	return l.w.Write(b)
}

// longFlags rewrites flags given in the Go style of the experiments,
// with one dash (-train-limit 5000, -data=DIR), to the two dashes of
// this command (--train-limit): both styles work. Every -word is
// rewritten (an unknown one then fails as an unknown flag, with a
// suggestion, not as a cluster of shorthands), never a single letter
// (a shorthand), a negative number, a value of a flag that takes one,
// or anything after "--".
func longFlags(root *cobra.Command, args []string) []string {
	names, boolFlags := map[string]bool{}, map[string]bool{"help": true}
	add := func(f *pflag.Flag) {
		names[f.Name] = true
		if f.NoOptDefVal != "" { // a switch: --dry-run, no value
			boolFlags[f.Name] = true
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.Flags().VisitAll(add)
		c.PersistentFlags().VisitAll(add)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	names["help"] = true
	out := make([]string, len(args))
	value := false // args[i] is the value of the flag before it
	for i, a := range args {
		out[i] = a
		if value {
			value = false
			continue
		}
		if a == "--" {
			copy(out[i:], args[i:])
			break
		}
		name, hasValue := "", false
		switch {
		case strings.HasPrefix(a, "--"):
			name, _, hasValue = strings.Cut(a[2:], "=")
		case len(a) > 2 && a[0] == '-' && isLetter(a[1]):
			name, _, hasValue = strings.Cut(a[1:], "=")
			out[i] = "-" + a
		}
		// The next argument is this flag's value unless the flag is
		// a switch (--dry-run) or carries its value (--epochs=3).
		value = name != "" && !hasValue && names[name] && !boolFlags[name]
	}
	return out
}

// isLetter reports whether c is an ASCII letter.
func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// noArgs is cobra.NoArgs as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q (see --help)", cmd.CommandPath(), args)}
	}
	return nil
}
