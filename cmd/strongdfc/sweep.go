package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/strongdfc/strongdfc/dataset"
	"github.com/strongdfc/strongdfc/internal/plots"
	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/internal/runner"
	"github.com/strongdfc/strongdfc/internal/sweep"
)

func newSweep() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sweep",
		Short: "Run a study: configurations × seeds, here or on a Slurm cluster",
		Long: `A sweep file (YAML) names a base configuration, the configurations made
from it (a list, a grid, or both) and the seeds; every run gets a run folder
named after the values that vary, under the sweep's out folder:

  name: lr-study                  # jobs' name; runs go to runs/lr-study
  preset: mnist-strong-dfc        # the base (and/or config: FILE)
  set: {epochs: 10}               # changes of every run
  grid:                           # every combination of these values
    forward.lr: [1e-4, 3e-4, 1e-3]
    hidden: [[256, 256, 256], [512, 512, 512]]
  seeds: 5                        # seeds 1..5, or a list [1, 2, 7]

  strongdfc sweep plan FILE              # the runs, one a line
  strongdfc sweep run FILE --local 2     # two runs at once on this machine
  strongdfc sweep run FILE --slurm --cpus 4 --mem 2G --time 8:00:00
  strongdfc sweep status FILE            # done / running / interrupted / pending / failed
  strongdfc collect runs/lr-study        # one table of all runs

The run folders are the only state: a finished run's summary.json says
"done", a run under way holds its folder's lock. Running a sweep again runs
what is left: finished runs are skipped, stopped ones continue from their
checkpoints. See docs/cluster.md.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("unknown command %q for %s: plan, run, status or exec (see --help)", args[0], cmd.CommandPath())}
			}
			return cmd.Help()
		},
	}
	cmd.AddCommand(newSweepPlan(), newSweepRun(), newSweepStatus(), newSweepExec())
	return cmd
}

// oneFile checks that a command got one sweep file.
func oneFile(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageError{fmt.Errorf("%s takes one sweep file, got %d arguments (see --help)", cmd.CommandPath(), len(args))}
	}
	return nil
}

// loadPlan reads a sweep file and plans it.
func loadPlan(file, out string) (*sweep.Plan, error) {
	f, err := sweep.Load(file)
	if err != nil {
		return nil, err
	}
	return f.Plan(out)
}

// relDir returns dir relative to the current folder when it is below it.
func relDir(dir string) string {
	if wd, err := os.Getwd(); err == nil {
		if r, err := filepath.Rel(wd, dir); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
	}
	return dir
}

func newSweepPlan() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "plan FILE",
		Short: "Print a sweep's runs, one a line, with their run folders",
		Long: `Resolve and check every run of the sweep file and print them, one a line:
the run folder and the run's preset, changes and seed. Every configuration is
checked as train checks it (unknown keys, impossible values): a sweep that
plans cleanly starts cleanly. The same file always gives the same folder
names. Nothing is written.`,
		Args: oneFile,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := loadPlan(args[0], out)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "# %s: %d runs (%d configurations × %d seeds) in %s\n", p.File.Name, len(p.Runs), p.Configurations, len(p.Runs)/max(1, p.Configurations), relDir(p.Out))
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			for _, r := range p.Runs {
				fmt.Fprintf(tw, "%s\t%s\n", filepath.Join(relDir(p.Out), r.Name), r.Describe())
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "`folder` of the run folders (default: the sweep file's out, else runs/NAME)")
	return cmd
}

func newSweepStatus() *cobra.Command {
	var (
		out           string
		asJSON, brief bool
	)
	cmd := &cobra.Command{
		Use:   "status FILE",
		Short: "Tell which runs of a sweep are done, running, interrupted, pending or failed",
		Long: `Tell where every run of the sweep stands, from its run folder alone (no
scheduler is asked): done (summary.json says so), running (a process holds
the folder's lock; its PID and host are named), interrupted (a checkpoint but
no end: continues when the sweep runs again), pending (not started, or stopped
before its first checkpoint), failed or diverged (summary.json says why). A
run folder whose configuration differs from the sweep file's is flagged.
The last line counts the runs in each state.`,
		Args: oneFile,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := loadPlan(args[0], out)
			if err != nil {
				return err
			}
			st, err := sweep.Survey(p.Runs, true)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				for _, s := range st {
					enc.Encode(statusJSON(s))
				}
				return nil
			}
			if !brief {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				for _, s := range st {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Run.Name, s.State, statusNote(s))
				}
				tw.Flush()
			}
			fmt.Fprintln(w, sweep.CountLine(st))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "`folder` of the run folders (default: the sweep file's out, else runs/NAME)")
	f.BoolVar(&asJSON, "json", false, "print one JSON object per run (name, dir, state, epochs, holder, error, test_accuracy)")
	f.BoolVar(&brief, "summary", false, "print only the line that counts the runs in each state")
	return cmd
}

// statusNote explains a run's state in a few words.
func statusNote(s sweep.Status) string {
	var parts []string
	switch s.State {
	case sweep.Running:
		parts = append(parts, s.Holder.String())
	case sweep.Done:
		if s.TestAccuracy != nil {
			parts = append(parts, fmt.Sprintf("test accuracy %.2f %%", 100**s.TestAccuracy))
		}
	}
	if s.State != sweep.Done && s.Epochs > 0 {
		parts = append(parts, fmt.Sprintf("%d of %d epochs", s.Epochs, s.Run.Config.Epochs))
	}
	if s.Error != "" && s.State != sweep.Running {
		parts = append(parts, firstLine(s.Error))
	}
	if s.Conflict != "" {
		parts = append(parts, "CONFIGURATION DIFFERS from the sweep file: "+s.Conflict)
	}
	return strings.Join(parts, "; ")
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	if len(l) > 200 {
		l = l[:200] + "…"
	}
	return l
}

func statusJSON(s sweep.Status) map[string]any {
	m := map[string]any{"name": s.Run.Name, "dir": s.Run.Dir, "state": s.State, "epochs": s.Epochs}
	if s.State == sweep.Running {
		m["holder"] = s.Holder
	}
	if s.Error != "" {
		m["error"] = s.Error
	}
	if s.TestAccuracy != nil {
		m["test_accuracy"] = *s.TestAccuracy
	}
	if s.Conflict != "" {
		m["conflict"] = s.Conflict
	}
	return m
}

func newSweepRun() *cobra.Command {
	var (
		out, program, logLevel string
		data                   []string
		local                  int
		slurm, dryRun, again   bool
		so                     = sweep.SlurmOptions{MaxArray: 1000, PerTask: 1}
	)
	cmd := &cobra.Command{
		Use:   "run FILE (--local N | --slurm)",
		Short: "Run what is left of a sweep, here (--local N) or on a Slurm cluster (--slurm)",
		Long: `Run every run of the sweep file that is not done yet: pending runs start,
interrupted ones continue from their checkpoints, failed ones are tried
again; done, diverged and running runs are left alone. Every configuration
is checked, and every existing run folder compared with the plan, before
anything starts.

--local N runs N runs at once on this machine, each in a process of its own
with GOMAXPROCS = CPUs / N, its output in OUT/.sweep/logs/NAME.log. Ctrl-C
or SIGTERM stops the runs under way (they save their state); if the
executor is killed, the kernel stops them too. Run it again to go on.

--slurm writes a batch script and a task file under OUT/.sweep/slurm/<time>/
and submits job arrays with sbatch: one task per run (or --runs-per-task),
at most --max-array tasks per array, --throttle tasks at once (the arrays
then run one after the other, so the limit holds for the whole sweep). Each
task runs "strongdfc sweep exec" on its runs with the semantics of train
--resume: a killed, timed-out or requeued task redoes nothing that finished.
Slurm sends SIGTERM two minutes before the time limit, and the run saves its
state. The program and the run folders must be on a file system the compute
nodes share. Follow the sweep with "strongdfc sweep status FILE".`,
		Example: `  strongdfc sweep run sweeps/paper-table.yaml --local 2
  strongdfc sweep run sweeps/paper-table.yaml --slurm --cpus 4 --mem 2G --time 12:00:00 --throttle 20
  strongdfc sweep run study.yaml --slurm --partition cpu --sbatch-arg=--account=lab --dry-run`,
		Args: oneFile,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (local > 0) == slurm {
				return usageError{errors.New("choose where the runs run: --local N (N runs at once on this machine) or --slurm")}
			}
			if cmd.Flags().Changed("local") && local < 1 {
				return usageError{fmt.Errorf("--local %d: give the number of runs at once, at least 1", local)}
			}
			var level zapcore.Level
			if err := level.Set(logLevel); err != nil {
				return usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", logLevel)}
			}
			log := runner.ConsoleLogger(cmd.ErrOrStderr(), level)
			defer log.Sync() //nolint:errcheck
			dirs, err := sweep.ParseDataDirs(data)
			if err != nil {
				return usageError{err}
			}
			p, err := loadPlan(args[0], out)
			if err != nil {
				return err
			}
			if err := checkData(p, dirs); err != nil {
				if !dryRun {
					return err
				}
				log.Warn("the runs would not find their data here", zap.Error(err))
			}
			st, err := sweep.Survey(p.Runs, true)
			if err != nil {
				return err
			}
			var conflicts []string
			var todo []sweep.Run
			for _, s := range st {
				if s.Conflict != "" {
					conflicts = append(conflicts, fmt.Sprintf("  %s: %s", s.Run.Dir, s.Conflict))
				}
				if !s.State.Final() && s.State != sweep.Running {
					todo = append(todo, s.Run)
				}
			}
			if len(conflicts) > 0 {
				return fmt.Errorf("%d run folders hold other configurations than %s plans (the sweep file changed after they ran):\n%s\nmove those folders away (or give the sweep another --out), or restore the sweep file; nothing was started", len(conflicts), args[0], strings.Join(conflicts, "\n"))
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s; %d to run in %s\n", sweep.CountLine(st), len(todo), relDir(p.Out))
			if len(todo) == 0 {
				return nil
			}
			if program == "" {
				if program, err = executable(slurm); err != nil {
					return err
				}
			}
			if slurm {
				so.Program, so.Data = program, dirs
				return submit(cmd, p, todo, so, dryRun, again)
			}
			if dryRun {
				for _, r := range todo {
					fmt.Fprintln(cmd.OutOrStdout(), r.Name)
				}
				return nil
			}
			logDir := filepath.Join(p.Out, ".sweep", "logs")
			_, err = sweep.RunLocal(cmd.Context(), p, todo, sweep.LocalOptions{
				Jobs: local, Program: program, Data: dirs, LogDir: logDir, Log: log,
			})
			after, serr := sweep.Survey(p.Runs, false)
			if serr == nil {
				fmt.Fprintln(cmd.ErrOrStderr(), sweep.CountLine(after))
			}
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&local, "local", 0, "run on this machine, `N` runs at once (each with GOMAXPROCS = CPUs/N unless GOMAXPROCS is set)")
	f.BoolVar(&slurm, "slurm", false, "submit the runs to Slurm as job arrays (sbatch must be on PATH)")
	f.StringVar(&out, "out", "", "`folder` of the run folders (default: the sweep file's out, else runs/NAME)")
	f.StringArrayVar(&data, "data", nil, "`folder` with the IDX files of every run's data set, or NAME=DIR for one data set (mnist=DIR, fashion-mnist=DIR, cifar10=DIR; repeatable); default: MNIST from the Go module cache, Fashion-MNIST from /usr/share/datasets/fashion-mnist")
	f.StringVar(&program, "program", "", "strongdfc executable the runs run (default: this one; with --slurm it must be reachable from the compute nodes)")
	f.BoolVar(&dryRun, "dry-run", false, "with --slurm: write the script and task file and print the sbatch commands, but submit nothing; with --local: list the runs that would run")
	f.StringVar(&logLevel, "log-level", "info", "console log `level` of the executor: debug, info, warn or error")
	f.IntVar(&so.CPUs, "cpus", 2, "Slurm: CPUs per task (--cpus-per-task; the run's GOMAXPROCS)")
	f.StringVar(&so.Mem, "mem", "1G", "Slurm: memory per task (--mem; a run of the published MNIST network peaks at about 130 MB)")
	f.StringVar(&so.Time, "time", "", "Slurm: time limit per task (--time, e.g. 12:00:00 or 2-00:00:00; default: the partition's)")
	f.StringVar(&so.Partition, "partition", "", "Slurm: `partition` (default: the cluster's)")
	f.StringArrayVar(&so.Extra, "sbatch-arg", nil, "Slurm: one more sbatch `argument`, e.g. --sbatch-arg=--account=lab or --sbatch-arg=--qos=long; repeatable")
	f.IntVar(&so.Throttle, "throttle", 0, "Slurm: at most `N` tasks of the sweep at once (the array's %N; 0: no limit)")
	f.IntVar(&so.MaxArray, "max-array", 1000, "Slurm: at most `N` tasks per job array (the cluster's MaxArraySize − 1); larger sweeps become several arrays")
	f.IntVar(&so.PerTask, "runs-per-task", 1, "Slurm: `runs` each task runs one after the other (for short runs; --time must cover them all)")
	f.StringVar(&so.JobName, "job-name", "", "Slurm: job `name` (default: strongdfc-SWEEP)")
	f.BoolVar(&again, "again", false, "Slurm: submit although jobs of an earlier submission of this sweep are still queued")
	return cmd
}

// executable returns the path of this program, for the runs' processes.
func executable(slurm bool) (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find this program's path (%v); give --program PATH", err)
	}
	if slurm && strings.Contains(p, string(filepath.Separator)+"go-build") {
		return "", fmt.Errorf("this program runs from go run's temporary folder (%s), which is deleted when it exits; build it (go build -o strongdfc ./cmd/strongdfc) and run that, or give --program PATH", p)
	}
	return p, nil
}

// checkData checks that the data sets of the plan can be found here.
func checkData(p *sweep.Plan, dirs sweep.DataDirs) error {
	seen := map[string]bool{}
	for _, r := range p.Runs {
		ds := r.Config.Dataset
		if seen[ds] {
			continue
		}
		seen[ds] = true
		if _, err := dataset.Locate(ds, dirs.For(ds)); err != nil {
			return fmt.Errorf("%w (in a sweep: --data %s=DIR)", err, ds)
		}
	}
	if dirs[""] != "" && len(seen) > 1 {
		return fmt.Errorf("--data %s would serve every data set, but the sweep uses %d; give each its folder: --data mnist=DIR --data fashion-mnist=DIR", dirs[""], len(seen))
	}
	return nil
}

// submit prepares and submits a sweep's Slurm jobs.
func submit(cmd *cobra.Command, p *sweep.Plan, todo []sweep.Run, so sweep.SlurmOptions, dryRun, again bool) error {
	w := cmd.OutOrStdout()
	sbatch := ""
	if !dryRun {
		var err error
		if sbatch, err = exec.LookPath("sbatch"); err != nil {
			return errors.New("sbatch is not on PATH: run this on the cluster's login node (or give --dry-run to write the script without submitting)")
		}
		if queued := queuedJobs(p.Out); len(queued) > 0 && !again {
			return fmt.Errorf("jobs %s of an earlier submission of this sweep are still queued or running; their tasks will run the runs that are left. Wait for them (squeue -j %s), cancel them (scancel %s), or give --again to submit anyway",
				strings.Join(queued, ", "), strings.Join(queued, ","), strings.Join(queued, " "))
		}
	}
	sub, err := sweep.PrepareSlurm(p, todo, so, time.Now())
	if err != nil {
		return err
	}
	chain := so.Throttle > 0 && len(sub.Arrays) > 1
	arrays := "1 job array"
	if len(sub.Arrays) > 1 {
		arrays = fmt.Sprintf("%d job arrays", len(sub.Arrays))
		if chain {
			arrays += ", each after the one before"
		}
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%d runs in %d tasks, %s; script %s\n", len(todo), sub.Tasks, arrays, relDir(sub.Script))
	if dryRun {
		for _, c := range sub.Commands(chain) {
			fmt.Fprintln(w, c)
		}
		return nil
	}
	err = sub.Submit(cmd.Context(), sbatch, chain)
	var ids []string
	for _, a := range sub.Arrays {
		if a.JobID != "" {
			ids = append(ids, a.JobID)
			fmt.Fprintf(w, "submitted job %s: tasks %d–%d of %s\n", a.JobID, a.Offset, a.Offset+a.Count-1, relDir(sub.TaskFile))
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "follow it: strongdfc sweep status %s; squeue -j %s; task output in %s\n", p.File.Path, strings.Join(ids, ","), relDir(sub.Dir))
	return nil
}

// queuedJobs returns the job IDs of earlier submissions of the sweep that
// squeue still lists (none when squeue is missing or fails).
func queuedJobs(out string) []string {
	files, _ := filepath.Glob(filepath.Join(out, ".sweep", "slurm", "*", "jobs.txt"))
	var ids []string
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			if id, _, ok := strings.Cut(sc.Text(), " "); ok {
				ids = append(ids, id)
			}
		}
		fh.Close()
	}
	if len(ids) == 0 {
		return nil
	}
	squeue, err := exec.LookPath("squeue")
	if err != nil {
		return nil
	}
	b, err := exec.Command(squeue, "-h", "-o", "%F", "-j", strings.Join(ids, ",")).Output()
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var queued []string
	for _, l := range strings.Fields(string(b)) {
		if !seen[l] {
			seen[l] = true
			queued = append(queued, l)
		}
	}
	return queued
}

func newSweepExec() *cobra.Command {
	var (
		logLevel      string
		data          []string
		task, perTask int
		every         time.Duration
	)
	cmd := &cobra.Command{
		Use:   "exec TASKFILE",
		Short: "Run runs of a task file (what the sweep executors' processes and Slurm tasks run)",
		Long: `Run the runs of a task file that "sweep run" wrote (or read it from stdin:
-), all of them or those of array task --task, to their end, one after the
other, with the semantics of train --resume: done and diverged runs are left
as they are, runs another process holds are left to it, runs with a
checkpoint continue from it, the others start from the beginning in their
folders. A run folder whose configuration is not the task file's is an
error. Each run's JSON summary is printed on stdout. Exit status: 0 when
every run is done or left to another process, 1 when one failed or
diverged, 130 and 143 when interrupted (the state is saved).`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("%s takes one task file (or - for stdin), got %d arguments", cmd.CommandPath(), len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var r io.Reader = cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			tf, err := sweep.ReadTaskFile(args[0], r)
			if err != nil {
				return err
			}
			runs := tf.Runs
			if cmd.Flags().Changed("task") {
				if runs, err = tf.Task(task, perTask); err != nil {
					return err
				}
			}
			dirs := tf.Data
			if cmd.Flags().Changed("data") {
				if dirs, err = sweep.ParseDataDirs(data); err != nil {
					return usageError{err}
				}
			}
			var level zapcore.Level
			if err := level.Set(logLevel); err != nil {
				return usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", logLevel)}
			}
			display := runner.NewDisplay(cmd.ErrOrStderr(), isTerminal(cmd.ErrOrStderr()), every)
			log := runner.ConsoleLogger(display, level)
			defer log.Sync() //nolint:errcheck
			command := append([]string{"strongdfc"}, os.Args[1:]...)
			if testCommand != nil {
				command = testCommand
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			outcomes, err := sweep.Exec(cmd.Context(), runs, sweep.ExecOptions{
				Data: dirs, Log: log, Display: display, Command: command,
				Summary: func(s runner.Summary) { enc.Encode(s) },
			})
			var ran, skipped int
			for _, o := range outcomes {
				if o.Ran {
					ran++
				} else if o.Err == nil {
					skipped++
				}
			}
			log.Info("task ended", zap.Int("runs", len(runs)), zap.Int("ran", ran), zap.Int("left alone", skipped))
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&task, "task", 0, "run only the runs of array task `T` (runs T·K to T·K+K−1, K = --runs-per-task)")
	f.IntVar(&perTask, "runs-per-task", 1, "`K`, the runs per array task (with --task)")
	f.StringArrayVar(&data, "data", nil, "`folder` with the IDX files of every run's data set, or NAME=DIR for one data set; repeatable (default: the task file's, else each data set's default place)")
	f.DurationVar(&every, "progress", 30*time.Second, "`interval` between progress lines when stderr is not a terminal")
	f.StringVar(&logLevel, "log-level", "info", "console log `level`: debug, info, warn or error (each run's log.jsonl records debug and up)")
	return cmd
}

func newCollect() *cobra.Command {
	var csvPath, mdPath, runsPath, plotPath string
	cmd := &cobra.Command{
		Use:   "collect DIR...",
		Short: "One table (Markdown and CSV) of every run folder beneath some folders",
		Long: `Find every run folder beneath the given folders (at any depth; folders whose
names start with a dot are not searched), read its config.yaml and
summary.json (nothing else, many at once: thousands of runs take seconds),
and group the runs by configuration: all keys but the seed. Each row holds
the preset, the keys that some row changes from its preset (keys every row
shares are listed once, above the Markdown table), the number n of seeds in
the means, and mean ± standard deviation over those seeds of the test
accuracy, the best validation accuracy, the test loss, the epochs, the time
per run (all its epochs, over every session of a resumed run) and the
training samples per second. Runs that failed, diverged or are unfinished
are listed in their row, by seed, and are not in the means.

The Markdown table goes to stdout (or --md FILE); --csv FILE writes the same
rows as CSV (accuracies as fractions, time in seconds, every key column),
--runs-csv FILE one row per run.

--plot FILE.png draws every run's learning curve (test accuracy and training
loss after each epoch, from its metrics.jsonl; unfinished runs up to their
last finished epoch) on one pair of axes, the runs of one configuration in
one colour, and writes the points beside it as FILE.csv.`,
		Example: `  strongdfc collect runs/paper-table
  strongdfc collect runs/ --csv results.csv --md results.md --runs-csv runs.csv
  strongdfc collect longruns/mnist-strong-dfc-s1 longruns/mnist-strong-dfc-stream-T100-leak-s1 --plot curves.png`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("collect takes one or more folders that hold run folders (see --help)")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			recs, errs := sweep.Scan(args)
			for _, e := range errs {
				fmt.Fprintln(cmd.ErrOrStderr(), "collect: skipped:", e)
			}
			if len(recs) == 0 {
				return fmt.Errorf("no run folders (folders with a %s) under %s", runfolder.Config, strings.Join(args, ", "))
			}
			t := sweep.NewTable(recs)
			write := func(path string, f func(io.Writer) error) error {
				if path == "" {
					return nil
				}
				if path == "-" {
					return f(cmd.OutOrStdout())
				}
				return runfolder.WriteAtomic(path, f)
			}
			if mdPath == "" {
				mdPath = "-"
			}
			for _, o := range []struct {
				path string
				f    func(io.Writer) error
			}{{csvPath, t.WriteCSV}, {runsPath, t.WriteRunsCSV}, {mdPath, t.WriteMarkdown}} {
				if err := write(o.path, o.f); err != nil {
					return err
				}
			}
			if plotPath != "" {
				if err := plotCurves(plotPath, t); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "collect: %d run folders, %d configurations, in %s\n", len(recs), len(t.Rows), time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&csvPath, "csv", "", "write the table as CSV to `file` (- for stdout)")
	f.StringVar(&mdPath, "md", "", "write the Markdown table to `file` instead of stdout")
	f.StringVar(&runsPath, "runs-csv", "", "write one CSV row per run to `file` (- for stdout): folder, keys, seed, state, metrics, error")
	f.StringVar(&plotPath, "plot", "", "draw every run's learning curve on one figure in `file` (.png; its points go to the .csv beside it)")
	return cmd
}

// plotCurves draws the learning curves of the table's runs, one colour
// per configuration row, into path (a .png) and its points into the .csv
// of the same name.
func plotCurves(path string, t *sweep.Table) error {
	ext := filepath.Ext(path)
	if !strings.EqualFold(ext, ".png") {
		return usageError{fmt.Errorf("--plot %s: the figure is a PNG; give a file name ending in .png", path)}
	}
	var runs []plots.Run
	loss := ""
	prefix := commonDir(t)
	for i, row := range t.Rows {
		for _, rec := range row.Runs {
			h, err := sweep.History(rec.Dir)
			if err != nil {
				return err
			}
			name := strings.TrimPrefix(rec.Dir, prefix)
			if len(row.Runs) > 1 {
				name += fmt.Sprintf(" (seed %d)", rec.Config.Seed)
			}
			runs = append(runs, plots.Run{Name: name, Group: i, History: h})
			switch l := runner.LossName(rec.Config); {
			case loss == "":
				loss = l
			case loss != l:
				loss = "each run's own"
			}
		}
	}
	fig := plots.Compare(runs, loss)
	if len(fig.Panels) == 0 {
		return fmt.Errorf("--plot %s: no run has finished a training epoch yet, so there is no curve to draw (the table is written)", path)
	}
	return fig.Save(filepath.Dir(path), strings.TrimSuffix(filepath.Base(path), ext))
}

// commonDir returns the folder (with its trailing separator) that holds
// every run of the table ("" when they share none), so that a legend
// names the runs by what tells them apart.
func commonDir(t *sweep.Table) string {
	var dirs []string
	for _, row := range t.Rows {
		for _, rec := range row.Runs {
			dirs = append(dirs, filepath.Clean(rec.Dir))
		}
	}
	if len(dirs) == 0 {
		return ""
	}
	prefix := filepath.Dir(dirs[0])
	for _, d := range dirs[1:] {
		for prefix != "." && prefix != string(filepath.Separator) && !strings.HasPrefix(d, prefix+string(filepath.Separator)) {
			prefix = filepath.Dir(prefix)
		}
	}
	if prefix == "." || prefix == string(filepath.Separator) {
		return ""
	}
	return prefix + string(filepath.Separator)
}
