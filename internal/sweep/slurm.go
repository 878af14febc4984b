package sweep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/strongdfc/strongdfc/internal/runfolder"
)

// SlurmOptions are the resources and limits of a sweep's Slurm jobs.
type SlurmOptions struct {
	// JobName names the jobs (default: strongdfc-SWEEP).
	JobName string
	// CPUs, Mem, Time and Partition are each array task's resources
	// (--cpus-per-task, --mem, --time, --partition; "" or 0: the
	// cluster's default).
	CPUs      int
	Mem, Time string
	Partition string
	// Extra are further sbatch arguments, given on its command line
	// (where they override the script's #SBATCH lines).
	Extra []string
	// Throttle is the most tasks of the sweep running at once (the
	// array's %N; 0: no limit). With more than one array, each waits for
	// the one before (--dependency=afterany), so the limit holds for the
	// whole sweep.
	Throttle int
	// MaxArray is the most tasks per job array (the cluster's
	// MaxArraySize − 1; default 1000): larger sweeps are split into
	// several arrays.
	MaxArray int
	// PerTask is the number of runs each array task runs, one after the
	// other (default 1).
	PerTask int
	// Program is the strongdfc executable the tasks run; it must be
	// reachable from the compute nodes, as must the run folders.
	Program string
	// Data say where the tasks read the data sets (the task file holds
	// them).
	Data DataDirs
	// Signal is how long before the time limit Slurm sends the task
	// SIGTERM, so that it saves its state (default 120 s).
	Signal time.Duration
}

// Submission is a sweep's Slurm submission: the folder that holds its
// task file, script, and the tasks' output, and the sbatch command of
// each array.
type Submission struct {
	Dir, TaskFile, Script string
	Tasks                 int
	Arrays                []Array
}

// Array is one job array of a submission: tasks Offset … Offset+Count−1
// of the task file, as array indices 0 … Count−1.
type Array struct {
	Offset, Count int
	// Args are sbatch's arguments (the dependency on the array before is
	// added at submission).
	Args []string
	// JobID is set once submitted.
	JobID string
}

// Arrays splits tasks into job arrays of at most maxArray tasks, each
// with the throttle %throttle (none when 0).
func Arrays(tasks, maxArray, throttle int) []Array {
	if maxArray < 1 {
		maxArray = 1000
	}
	var out []Array
	for off := 0; off < tasks; off += maxArray {
		n := min(maxArray, tasks-off)
		spec := fmt.Sprintf("0-%d", n-1)
		if throttle > 0 {
			spec += "%" + strconv.Itoa(throttle)
		}
		out = append(out, Array{Offset: off, Count: n, Args: []string{"--array=" + spec}})
	}
	return out
}

var (
	memRE  = regexp.MustCompile(`^[0-9]+[KMGT]?$`)
	timeRE = regexp.MustCompile(`^(([0-9]+-)?[0-9]+(:[0-9]+){0,2}|(?i:unlimited|infinite))$`)
)

// check refuses values sbatch would refuse later, or that would make a
// broken script.
func (o *SlurmOptions) check() error {
	switch {
	case o.CPUs < 0:
		return fmt.Errorf("--cpus %d: want a positive number of CPUs per task", o.CPUs)
	case o.Mem != "" && !memRE.MatchString(o.Mem):
		return fmt.Errorf("--mem %q: want a size such as 2G or 500M (Slurm's --mem)", o.Mem)
	case o.Time != "" && !timeRE.MatchString(o.Time):
		return fmt.Errorf("--time %q: want a Slurm time limit: minutes, MM:SS, HH:MM:SS, D-HH or D-HH:MM:SS", o.Time)
	case o.Throttle < 0:
		return fmt.Errorf("--throttle %d: want the most tasks at once, or 0 for no limit", o.Throttle)
	case o.MaxArray < 1:
		return fmt.Errorf("--max-array %d: want at least 1 (the cluster's MaxArraySize − 1)", o.MaxArray)
	case o.PerTask < 1:
		return fmt.Errorf("--runs-per-task %d: want at least 1", o.PerTask)
	case strings.ContainsAny(o.JobName+o.Partition, " \t\n'\"$`\\"):
		return fmt.Errorf("job name %q and partition %q: no spaces, quotes or shell characters", o.JobName, o.Partition)
	case o.Program == "":
		return errors.New("the strongdfc program to run on the nodes is not known; give --program PATH")
	}
	return nil
}

// Script returns the batch script of a submission: the resources as
// #SBATCH lines, and a body that runs the task's runs. Its one argument is
// the array's offset in the task file.
func Script(sweepName string, o SlurmOptions, taskFile, outDir, workDir string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/bash\n")
	fmt.Fprintf(&b, "# The strongdfc sweep %s, written by `strongdfc sweep run --slurm` on %s.\n", sweepName, time.Now().Format("2006-01-02 15:04"))
	fmt.Fprintf(&b, "# Submitted as job arrays: sbatch --array=0-(N-1)[%%THROTTLE] %s OFFSET\n", filepath.Base(outDir)+"/job.sh")
	fmt.Fprintf(&b, "# Array task I runs the runs of task OFFSET+I of %s with the semantics\n", taskFile)
	fmt.Fprintf(&b, "# of `train --resume`: a finished run is skipped, a stopped one continues\n")
	fmt.Fprintf(&b, "# from its checkpoint, so a killed or requeued task redoes nothing that finished.\n")
	line := func(format string, args ...any) { fmt.Fprintf(&b, "#SBATCH "+format+"\n", args...) }
	line("--job-name=%s", o.JobName)
	line("--output=%s", filepath.Join(outDir, "%A_%a.out"))
	line("--open-mode=append")
	if o.CPUs > 0 {
		line("--cpus-per-task=%d", o.CPUs)
	}
	if o.Mem != "" {
		line("--mem=%s", o.Mem)
	}
	if o.Time != "" {
		line("--time=%s", o.Time)
	}
	if o.Partition != "" {
		line("--partition=%s", o.Partition)
	}
	line("--requeue")
	sig := o.Signal
	if sig <= 0 {
		sig = 120 * time.Second
	}
	// B: signals the batch shell, which exec made strongdfc itself.
	line("--signal=B:TERM@%d", int(sig.Seconds()))
	fmt.Fprintf(&b, "\nset -eu\n")
	fmt.Fprintf(&b, "offset=\"${1:?the array's offset in the task file is the script's argument}\"\n")
	fmt.Fprintf(&b, "task=$((offset + SLURM_ARRAY_TASK_ID))\n")
	fmt.Fprintf(&b, "# The simulation uses the task's CPUs.\n")
	fmt.Fprintf(&b, "export GOMAXPROCS=\"${SLURM_CPUS_PER_TASK:-${GOMAXPROCS:-1}}\"\n")
	fmt.Fprintf(&b, "cd %s\n", shellQuote(workDir))
	fmt.Fprintf(&b, "echo \"== $(date -Iseconds) job ${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID} on $(hostname): task $task\"\n")
	args := []string{shellQuote(o.Program), "sweep", "exec", shellQuote(taskFile), "--task", `"$task"`, "--runs-per-task", strconv.Itoa(max(1, o.PerTask))}
	fmt.Fprintf(&b, "exec %s\n", strings.Join(args, " "))
	return b.String()
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=+,:@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// PrepareSlurm writes a submission of the given runs of the plan under
// OUT/.sweep/slurm/<time>: the task file, the batch script, and the
// sbatch arguments of each array (not yet submitted).
func PrepareSlurm(p *Plan, runs []Run, o SlurmOptions, now time.Time) (*Submission, error) {
	if o.MaxArray == 0 {
		o.MaxArray = 1000
	}
	if o.PerTask == 0 {
		o.PerTask = 1
	}
	if o.JobName == "" {
		o.JobName = "strongdfc-" + p.File.Name
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, errors.New("no runs to submit")
	}
	base := filepath.Join(p.Out, ".sweep", "slurm")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return nil, err
	}
	r, err := runfolder.Create(base, "", now)
	if err != nil {
		return nil, err
	}
	s := &Submission{Dir: r.Dir, TaskFile: r.Path("tasks.json"), Script: r.Path("job.sh")}
	s.Tasks = (len(runs) + o.PerTask - 1) / o.PerTask
	tf := p.NewTaskFile(runs, o.Data)
	if err := runfolder.WriteAtomic(s.TaskFile, tf.Write); err != nil {
		return nil, err
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	script := Script(p.File.Name, o, s.TaskFile, s.Dir, wd)
	if err := runfolder.WriteAtomic(s.Script, func(w io.Writer) error { _, err := io.WriteString(w, script); return err }); err != nil {
		return nil, err
	}
	if err := os.Chmod(s.Script, 0o755); err != nil {
		return nil, err
	}
	s.Arrays = Arrays(s.Tasks, o.MaxArray, o.Throttle)
	for i := range s.Arrays {
		s.Arrays[i].Args = append(s.Arrays[i].Args, o.Extra...)
	}
	return s, nil
}

// Commands returns the sbatch command lines of the submission, for
// people (the dependency on the array before shown as $PREV).
func (s *Submission) Commands(chain bool) []string {
	var out []string
	for i, a := range s.Arrays {
		args := append([]string{"sbatch", "--parsable"}, a.Args...)
		if chain && i > 0 {
			args = append(args, "--dependency=afterany:$PREV")
		}
		args = append(args, s.Script, strconv.Itoa(a.Offset))
		for j := range args {
			if args[j] != "--dependency=afterany:$PREV" {
				args[j] = shellQuote(args[j])
			}
		}
		out = append(out, strings.Join(args, " "))
	}
	return out
}

// Submit submits the arrays with sbatch (the program at path sbatch), in
// order; with chain, each after the one before has ended (afterany), so
// that a throttle holds across arrays. The job IDs go into the arrays and
// into the submission folder's jobs.txt. An array that sbatch refuses
// stops the submission with sbatch's message; the arrays submitted
// before it stay queued.
func (s *Submission) Submit(ctx context.Context, sbatch string, chain bool) error {
	var prev string
	for i := range s.Arrays {
		a := &s.Arrays[i]
		args := append([]string{"--parsable"}, a.Args...)
		if chain && prev != "" {
			args = append(args, "--dependency=afterany:"+prev)
		}
		args = append(args, s.Script, strconv.Itoa(a.Offset))
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, sbatch, args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			msg := strings.TrimSpace(stderr.String())
			if msg == "" {
				msg = err.Error()
			}
			return fmt.Errorf("sbatch refused array %d of %d (tasks %d–%d): %s", i+1, len(s.Arrays), a.Offset, a.Offset+a.Count-1, msg)
		}
		// --parsable prints "jobid" or "jobid;cluster".
		id, _, _ := strings.Cut(strings.TrimSpace(stdout.String()), ";")
		if _, err := strconv.ParseUint(id, 10, 64); err != nil {
			return fmt.Errorf("sbatch printed %q, not a job ID", stdout.String())
		}
		a.JobID, prev = id, id
		line := fmt.Sprintf("%s %d %d\n", id, a.Offset, a.Count)
		f, err := os.OpenFile(filepath.Join(s.Dir, "jobs.txt"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		_, err = f.WriteString(line)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}
