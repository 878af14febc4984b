package sweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.uber.org/zap"

	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/dataset"
	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/internal/runner"
	"github.com/strongdfc/strongdfc/train"
)

// TaskFile is what an executor hands the processes that run the runs
// (`strongdfc sweep exec`): the runs, with their resolved
// configurations, frozen when the sweep was started, so that editing the
// sweep file meanwhile changes nothing of what queued tasks run.
type TaskFile struct {
	Format int      `json:"format"`         // the file format's version
	Sweep  string   `json:"sweep"`          // the sweep file the runs were planned from
	Out    string   `json:"out"`            // the folder of the run folders
	Data   DataDirs `json:"data,omitempty"` // where the data sets are read from
	Runs   []Run    `json:"runs"`           // the runs, in the plan's order
}

// DataDirs say where runs read their data sets: a folder by data set
// name ("mnist", "fashion-mnist", "cifar10"), or under "" a folder for every data
// set. A data set without a folder is read from its default place.
type DataDirs map[string]string

// For returns the folder of a data set ("": its default place).
func (d DataDirs) For(dataset string) string {
	if dir, ok := d[dataset]; ok {
		return dir
	}
	return d[""]
}

// ParseDataDirs reads --data flags: DIR (for every data set) or
// NAME=DIR (for data set NAME), each at most once.
func ParseDataDirs(flags []string) (DataDirs, error) {
	d := DataDirs{}
	for _, f := range flags {
		name, dir := "", f
		if n, rest, ok := strings.Cut(f, "="); ok && knownDataset(n) {
			name, dir = n, rest
		}
		if dir == "" {
			return nil, fmt.Errorf("--data %q: want DIR, or NAME=DIR for one data set (mnist=DIR, fashion-mnist=DIR, cifar10=DIR)", f)
		}
		if _, dup := d[name]; dup {
			return nil, fmt.Errorf("--data %q: the folder of %s is given twice", f, map[bool]string{true: "every data set", false: name}[name == ""])
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, err
		}
		d[name] = abs
	}
	return d, nil
}

func knownDataset(name string) bool { return dataset.Known(name) }

// taskFormat is the version of the task file's format.
const taskFormat = 1

// NewTaskFile returns the task file of the given runs of the plan.
func (p *Plan) NewTaskFile(runs []Run, data DataDirs) TaskFile {
	sweep, err := filepath.Abs(p.File.Path)
	if err != nil {
		sweep = p.File.Path
	}
	return TaskFile{Format: taskFormat, Sweep: sweep, Out: p.Out, Data: data, Runs: runs}
}

// Write writes the task file as JSON.
func (t TaskFile) Write(w io.Writer) error {
	b, err := json.MarshalIndent(t, "", " ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// ReadTaskFile reads a task file (name names it in errors).
func ReadTaskFile(name string, r io.Reader) (TaskFile, error) {
	var t TaskFile
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return t, fmt.Errorf("task file %s: %w (a task file is the tasks.json that `sweep run --slurm` writes, not the sweep file)", name, err)
	}
	if t.Format != taskFormat {
		return t, fmt.Errorf("task file %s: format %d, this program reads format %d; submit the sweep again with this program", name, t.Format, taskFormat)
	}
	for i := range t.Runs {
		t.Runs[i].Config = t.Runs[i].Config.Normalize()
		if err := t.Runs[i].Config.Validate(); err != nil {
			return t, fmt.Errorf("task file %s: run %s: %w", name, t.Runs[i].Name, err)
		}
	}
	return t, nil
}

// Task returns the runs of array task number task when each task runs
// perTask runs: runs task·perTask up to (task+1)·perTask.
func (t TaskFile) Task(task, perTask int) ([]Run, error) {
	if perTask < 1 {
		return nil, fmt.Errorf("runs per task %d: must be at least 1", perTask)
	}
	first := task * perTask
	if task < 0 || first >= len(t.Runs) {
		return nil, fmt.Errorf("task %d: the task file has %d runs, %d per task, so tasks 0 to %d", task, len(t.Runs), perTask, (len(t.Runs)-1)/perTask)
	}
	return t.Runs[first:min(first+perTask, len(t.Runs))], nil
}

// ExecOptions are how Exec runs runs.
type ExecOptions struct {
	// Data say where the data sets are read from.
	Data DataDirs
	// Log receives the log (nil: none); each run's folder gets its
	// log.jsonl too.
	Log *zap.Logger
	// Display shows the progress of the run under way (nil: none).
	Display *runner.Display
	// Command is the command line recorded in each run folder.
	Command []string
	// Pool runs the simulations (nil: one per run).
	Pool *compute.Pool
	// Summary, when not nil, receives each summary of a run that ran.
	Summary func(runner.Summary)
}

// Outcome is what Exec did with a run.
type Outcome struct {
	// Run is the run; Err what went wrong with it (nil if nothing).
	Run Run
	// Found is the state the run was in; State the state it is in now.
	Found, State State
	// Ran reports whether this process trained it (from the beginning,
	// or on from its checkpoint: Resumed).
	Ran, Resumed bool
	Err          error
}

// Exec brings runs to their end, one after the other, with the
// semantics of `train --resume`: a run that is done (or diverged) is left
// as it is, one that another process runs is left to it, one with a
// checkpoint continues from it, and any other starts from the beginning
// in its folder. A killed or requeued task that runs its runs again
// redoes nothing that finished. A run folder whose configuration is not
// the planned one is an error, and is not touched.
//
// When ctx ends, the run under way saves its state and Exec returns its
// *train.Interrupted error without starting another. The error of a run
// that fails or diverges is in its Outcome and in the returned error, and
// the next run starts.
func Exec(ctx context.Context, runs []Run, opt ExecOptions) ([]Outcome, error) {
	log := opt.Log
	if log == nil {
		log = zap.NewNop()
	}
	var outcomes []Outcome
	var errs []error
	for _, r := range runs {
		o := execOne(ctx, r, opt, log)
		outcomes = append(outcomes, o)
		var in *train.Interrupted
		if errors.As(o.Err, &in) {
			return outcomes, o.Err
		}
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("run %s: %w", r.Name, o.Err))
		}
		if ctx.Err() != nil {
			return outcomes, &train.Interrupted{Err: ctx.Err()}
		}
	}
	return outcomes, errors.Join(errs...)
}

func execOne(ctx context.Context, r Run, opt ExecOptions, log *zap.Logger) Outcome {
	o := Outcome{Run: r}
	log = log.With(zap.String("run", r.Name))
	st, err := Inspect(r, true)
	if err != nil {
		o.Err = err
		return o
	}
	o.Found, o.State = st.State, st.State
	if st.Conflict != "" {
		o.Err = fmt.Errorf("the run folder %s holds another configuration than the sweep plans (%s): the sweep file changed after the run started. To run the new configuration, move the folder away (or give the sweep another out folder); to keep the old runs, restore the sweep file", r.Dir, st.Conflict)
		return o
	}
	switch st.State {
	case Done, Diverged:
		log.Info("already "+string(st.State)+"; left as it is", zap.String("dir", r.Dir))
		return o
	case Running:
		log.Info("running in another process; left to it", zap.String("dir", r.Dir), zap.Stringer("holder", st.Holder))
		return o
	}
	ropt := runner.Options{
		DataDir: opt.Data.For(r.Config.Dataset), Preset: r.Preset, Command: opt.Command,
		Display: opt.Display, Log: opt.Log, Pool: opt.Pool,
	}
	if _, err := os.Stat(filepath.Join(r.Dir, runfolder.Checkpoint)); err == nil {
		ropt.Resume = r.Dir
		o.Resumed = true
		log.Info("continuing from the checkpoint", zap.String("dir", r.Dir), zap.String("found", string(st.State)), zap.Int("epochs done", st.Epochs))
	} else {
		ropt.Out, ropt.Name, ropt.Restart = filepath.Dir(r.Dir), filepath.Base(r.Dir), true
		log.Info("starting", zap.String("dir", r.Dir), zap.String("run", r.Describe()))
	}
	sum, err := runner.Run(ctx, r.Config, ropt)
	if errors.Is(err, runfolder.ErrLocked) {
		// Another process took it between the look and the lock.
		log.Info("running in another process; left to it", zap.Error(err))
		o.State = Running
		return o
	}
	o.Ran = true
	if opt.Summary != nil {
		opt.Summary(sum)
	}
	o.State, o.Err = State(sum.Status), err
	if o.State == "" || (err != nil && o.State == Done) {
		o.State = Failed
	}
	return o
}
