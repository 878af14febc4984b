package sweep

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestArrays: tasks are split into arrays of at most maxArray, each with
// indices from 0 (a cluster's MaxArraySize bounds the index, not only the
// count) and the throttle.
func TestArrays(t *testing.T) {
	cases := []struct {
		tasks, max, throttle int
		want                 []string // "offset:count:spec"
	}{
		{1, 1000, 0, []string{"0:1:0-0"}},
		{1000, 1000, 0, []string{"0:1000:0-999"}},
		{1001, 1000, 0, []string{"0:1000:0-999", "1000:1:0-0"}},
		{2500, 1000, 50, []string{"0:1000:0-999%50", "1000:1000:0-999%50", "2000:500:0-499%50"}},
		{7, 3, 2, []string{"0:3:0-2%2", "3:3:0-2%2", "6:1:0-0%2"}},
	}
	for _, tc := range cases {
		var got []string
		for _, a := range Arrays(tc.tasks, tc.max, tc.throttle) {
			got = append(got, fmt.Sprintf("%d:%d:%s", a.Offset, a.Count, strings.TrimPrefix(a.Args[0], "--array=")))
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%d tasks, max %d, throttle %d: %v, want %v", tc.tasks, tc.max, tc.throttle, got, tc.want)
		}
	}
}

// TestScript: the batch script asks for the resources given, runs the
// program on the task file with the task's number, and quotes paths.
func TestScript(t *testing.T) {
	o := SlurmOptions{JobName: "strongdfc-x", CPUs: 4, Mem: "2G", Time: "12:00:00", Partition: "cpu", PerTask: 3,
		Program: "/opt/my tools/strongdfc"}
	s := Script("x", o, "/scratch/runs/x/.sweep/slurm/1/tasks.json", "/scratch/runs/x/.sweep/slurm/1", "/home/me/it's")
	for _, want := range []string{
		"#!/bin/bash\n",
		"#SBATCH --job-name=strongdfc-x\n",
		"#SBATCH --cpus-per-task=4\n",
		"#SBATCH --mem=2G\n",
		"#SBATCH --time=12:00:00\n",
		"#SBATCH --partition=cpu\n",
		"#SBATCH --requeue\n",
		"#SBATCH --signal=B:TERM@120\n",
		"#SBATCH --output=/scratch/runs/x/.sweep/slurm/1/%A_%a.out\n",
		"#SBATCH --open-mode=append\n",
		`task=$((offset + SLURM_ARRAY_TASK_ID))`,
		`export GOMAXPROCS="${SLURM_CPUS_PER_TASK:-${GOMAXPROCS:-1}}"`,
		`cd '/home/me/it'\''s'`,
		`exec '/opt/my tools/strongdfc' sweep exec /scratch/runs/x/.sweep/slurm/1/tasks.json --task "$task" --runs-per-task 3` + "\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the script lacks %q:\n%s", want, s)
		}
	}
	// Defaults leave the cluster's defaults alone.
	s = Script("x", SlurmOptions{JobName: "j", Program: "/p"}, "/t.json", "/o", "/w")
	for _, no := range []string{"--cpus-per-task", "--mem", "--time", "--partition", "--data"} {
		if strings.Contains(s, no) {
			t.Errorf("the default script sets %s:\n%s", no, s)
		}
	}
	// The script runs in bash: check its syntax.
	if bash, err := exec.LookPath("bash"); err == nil {
		path := filepath.Join(t.TempDir(), "job.sh")
		os.WriteFile(path, []byte(s), 0o755)
		if out, err := exec.Command(bash, "-n", path).CombinedOutput(); err != nil {
			t.Errorf("bash -n: %v\n%s", err, out)
		}
	}
}

// TestSlurmOptionsCheck: values sbatch would refuse are refused first.
func TestSlurmOptionsCheck(t *testing.T) {
	ok := SlurmOptions{Program: "/p", MaxArray: 1000, PerTask: 1}
	if err := ok.check(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		set  func(*SlurmOptions)
		want string
	}{
		{func(o *SlurmOptions) { o.Mem = "2 GB" }, "--mem"},
		{func(o *SlurmOptions) { o.Time = "12h" }, "--time"},
		{func(o *SlurmOptions) { o.Throttle = -1 }, "--throttle"},
		{func(o *SlurmOptions) { o.MaxArray = 0 }, "--max-array"},
		{func(o *SlurmOptions) { o.PerTask = 0 }, "--runs-per-task"},
		{func(o *SlurmOptions) { o.Partition = "a b" }, "partition"},
		{func(o *SlurmOptions) { o.Program = "" }, "--program"},
	} {
		o := ok
		tc.set(&o)
		if err := o.check(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error about %s", o, err, tc.want)
		}
	}
	for _, good := range []string{"30", "1:30", "12:00:00", "2-00", "2-12:00:00", "UNLIMITED"} {
		o := ok
		o.Time = good
		if err := o.check(); err != nil {
			t.Errorf("--time %s: %v", good, err)
		}
	}
}

// fakeSbatch writes an sbatch that records its arguments, one call a
// line, in log, and prints job IDs 101, 102, ... (it fails from call
// failAt on, when failAt > 0).
func fakeSbatch(t *testing.T, failAt int) (path, log string) {
	dir := t.TempDir()
	path, log = filepath.Join(dir, "sbatch"), filepath.Join(dir, "calls")
	script := fmt.Sprintf(`#!/bin/sh
n=$(( $(cat %[1]q 2>/dev/null | wc -l) + 1 ))
if [ %[2]d -gt 0 ] && [ "$n" -ge %[2]d ]; then echo "sbatch: error: QOSMaxSubmitJobPerUserLimit" >&2; exit 1; fi
echo "$*" >> %[1]q
echo "$((100 + n));cluster"
`, log, failAt)
	os.WriteFile(path, []byte(script), 0o755)
	return path, log
}

// TestSubmit: the arrays are submitted in order, chained when throttled,
// the job IDs recorded; a refusal stops the submission with sbatch's
// message.
func TestSubmit(t *testing.T) {
	p := plan(t, gridSweep) // 16 runs
	o := SlurmOptions{Program: "/bin/strongdfc", CPUs: 1, Throttle: 2, MaxArray: 3, PerTask: 2, Extra: []string{"--account=lab"}}
	sub, err := PrepareSlurm(p, p.Runs, o, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if sub.Tasks != 8 || len(sub.Arrays) != 3 || sub.Dir != filepath.Join(p.Out, ".sweep", "slurm", "20260102-030405") {
		t.Fatalf("%d tasks, %d arrays in %s", sub.Tasks, len(sub.Arrays), sub.Dir)
	}
	f, _ := os.Open(sub.TaskFile)
	tf, err := ReadTaskFile(sub.TaskFile, f)
	f.Close()
	if err != nil || len(tf.Runs) != 16 {
		t.Fatalf("task file: %d runs, %v", len(tf.Runs), err)
	}
	if st, err := os.Stat(sub.Script); err != nil || st.Mode().Perm()&0o100 == 0 {
		t.Errorf("script %v %v", st, err)
	}
	sbatch, calls := fakeSbatch(t, 0)
	if err := sub.Submit(context.Background(), sbatch, true); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(calls)
	want := []string{
		"--parsable --array=0-2%2 --account=lab " + sub.Script + " 0",
		"--parsable --array=0-2%2 --account=lab --dependency=afterany:101 " + sub.Script + " 3",
		"--parsable --array=0-1%2 --account=lab --dependency=afterany:102 " + sub.Script + " 6",
	}
	if got := strings.Split(strings.TrimSpace(string(b)), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("sbatch calls:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	jobs, _ := os.ReadFile(filepath.Join(sub.Dir, "jobs.txt"))
	if string(jobs) != "101 0 3\n102 3 3\n103 6 2\n" || sub.Arrays[2].JobID != "103" {
		t.Errorf("jobs.txt %q", jobs)
	}
	if cmds := sub.Commands(true); len(cmds) != 3 || !strings.Contains(cmds[1], "--dependency=afterany:$PREV") {
		t.Errorf("commands %q", cmds)
	}

	// sbatch refuses the second array.
	sub2, err := PrepareSlurm(p, p.Runs, o, time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	sbatch, _ = fakeSbatch(t, 2)
	err = sub2.Submit(context.Background(), sbatch, false)
	if err == nil || !strings.Contains(err.Error(), "QOSMaxSubmitJobPerUserLimit") || !strings.Contains(err.Error(), "array 2 of 3") ||
		sub2.Arrays[0].JobID != "101" || sub2.Arrays[1].JobID != "" {
		t.Errorf("refusal: %v, %+v", err, sub2.Arrays)
	}
}
