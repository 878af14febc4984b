package sweep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/strongdfc/strongdfc/train"
)

// LocalOptions are how RunLocal runs a sweep on this machine.
type LocalOptions struct {
	// Jobs is the number of runs at once.
	Jobs int
	// Program is the strongdfc executable each run's process runs
	// (`Program sweep exec -`).
	Program string
	// Env is the runs' environment (nil: this process's). GOMAXPROCS is
	// set to the CPUs divided by Jobs unless Env sets it.
	Env []string
	// Data say where the data sets are read from.
	Data DataDirs
	// LogDir receives each run's console output, NAME.log (appended).
	LogDir string
	// Log receives the executor's log (nil: none).
	Log *zap.Logger
	// Grace is how long a run may take to save its state after SIGTERM
	// before it is killed (0: 2 minutes).
	Grace time.Duration
}

// RunLocal runs the given runs of the plan, Jobs at once, each in a
// process of its own (`strongdfc sweep exec`, which has Exec's resume
// semantics) whose output goes to LogDir/NAME.log. When ctx ends, every
// run under way gets SIGTERM, saves its state and stops, and RunLocal
// returns a *train.Interrupted error once they have; started again, the
// sweep continues them. If the executor is killed, its runs get SIGTERM
// from the kernel (Linux).
func RunLocal(ctx context.Context, p *Plan, runs []Run, opt LocalOptions) ([]Outcome, error) {
	if opt.Jobs < 1 {
		return nil, fmt.Errorf("--local %d: give the number of runs at once, at least 1", opt.Jobs)
	}
	log := opt.Log
	if log == nil {
		log = zap.NewNop()
	}
	if opt.Grace <= 0 {
		opt.Grace = 2 * time.Minute
	}
	env := opt.Env
	if env == nil {
		env = os.Environ()
	}
	if !hasEnv(env, "GOMAXPROCS") {
		env = append(env[:len(env):len(env)], "GOMAXPROCS="+strconv.Itoa(max(1, runtime.NumCPU()/opt.Jobs)))
	}
	if err := os.MkdirAll(opt.LogDir, 0o755); err != nil {
		return nil, err
	}
	outcomes := make([]Outcome, len(runs))
	slots := make(chan struct{}, opt.Jobs)
	var wg sync.WaitGroup
	for i, r := range runs {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			outcomes = outcomes[:i]
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			outcomes[i] = runChild(ctx, p, r, opt, env, log, fmt.Sprintf("%d/%d", i+1, len(runs)))
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return outcomes, &train.Interrupted{Err: context.Cause(ctx)}
	}
	var errs []error
	for _, o := range outcomes {
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("run %s: %w", o.Run.Name, o.Err))
		}
	}
	return outcomes, errors.Join(errs...)
}

func hasEnv(env []string, key string) bool {
	for _, e := range env {
		if strings.HasPrefix(e, key+"=") {
			return true
		}
	}
	return false
}

// runChild runs one run in a process of its own and reports what became
// of it.
func runChild(ctx context.Context, p *Plan, r Run, opt LocalOptions, env []string, log *zap.Logger, count string) Outcome {
	o := Outcome{Run: r, Found: Pending}
	log = log.With(zap.String("run", r.Name))
	logPath := filepath.Join(opt.LogDir, r.Name+".log")
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		o.Err = err
		return o
	}
	defer lf.Close()
	var task bytes.Buffer
	if err := p.NewTaskFile([]Run{r}, opt.Data).Write(&task); err != nil {
		o.Err = err
		return o
	}
	cmd := exec.CommandContext(ctx, opt.Program, "sweep", "exec", "-")
	cmd.Stdin, cmd.Stdout, cmd.Stderr, cmd.Env = &task, lf, lf, env
	cmd.SysProcAttr = childAttr()
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = opt.Grace
	fmt.Fprintf(lf, "==== %s: %s sweep exec (run %s)\n", time.Now().Format(time.RFC3339), opt.Program, r.Name)

	// The kernel sends Pdeathsig when the thread that started the child
	// ends; this goroutine keeps its thread until the child has ended.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		o.Err = fmt.Errorf("starting %s: %w", opt.Program, err)
		return o
	}
	log.Info("started "+count, zap.Int("pid", cmd.Process.Pid), zap.String("log", logPath))
	werr := cmd.Wait()
	st, ierr := Inspect(r, false)
	o.State = st.State
	if ierr != nil {
		o.Err = ierr
		return o
	}
	o.Ran = true
	took := zap.Duration("took", time.Since(start).Round(time.Second))
	switch {
	case werr == nil && st.State == Done:
		fields := []zap.Field{took}
		if st.TestAccuracy != nil {
			fields = append(fields, zap.Float64("test_accuracy", *st.TestAccuracy))
		}
		log.Info("done "+count, fields...)
	case ctx.Err() != nil:
		log.Warn("stopped; its state is saved", took)
	case werr == nil:
		log.Info("ended "+count, zap.String("state", string(st.State)), took)
	default:
		msg := st.Error
		if msg == "" {
			msg = lastLine(logPath)
		}
		o.Err = fmt.Errorf("%s: %v (log: %s)", st.State, msg, logPath)
		log.Error(string(st.State)+" "+count, zap.String("error", msg), zap.String("log", logPath), took)
	}
	return o
}

// lastLine returns the last non-empty line of a file.
func lastLine(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
