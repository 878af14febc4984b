// Command livecost measures what the live page (train --serve) costs a
// training run. It trains the same small run again and again as a child
// process, alternating three arms:
//
//   - plain: without --serve;
//   - serve: with --serve and no page open;
//   - page: with --serve and a client in this process that asks what the
//     page asks (the state every 2 s from its cursor, the info and the
//     recorded window when they change), so that windows are recorded
//     every 30 s as for an open page.
//
// It reports each child's CPU time (user + system, from the rusage of
// wait4: the client's own time is not in it) and wall time, the medians
// per arm and their ratios to plain, and the windows recorded with the
// CPU time their recording took (measured on its thread, Linux only) as a
// share of the run's CPU time and of its training time. On a shared
// machine CPU time is the steadier measure; wall time is noisy.
//
//	go build -o strongdfc ./cmd/strongdfc
//	go run ./experiments/livecost -bin ./strongdfc -reps 3
//
// The last line of stdout is the summary as JSON.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/strongdfc/strongdfc/internal/live"
	"github.com/strongdfc/strongdfc/internal/runfolder"
)

// Run is one child run.
type Run struct {
	Arm              string  `json:"arm"`
	Rep              int     `json:"rep"`
	CPUSeconds       float64 `json:"cpu_seconds"`
	WallSeconds      float64 `json:"wall_seconds"`
	TrainSeconds     float64 `json:"train_seconds"` // summary.json's wall_seconds
	SamplesPerSecond float64 `json:"samples_per_second"`
	Windows          int     `json:"windows"`
	WindowSeconds    float64 `json:"window_seconds"`     // recording the windows, summed (wall, off the training goroutine)
	WindowCPUSeconds float64 `json:"window_cpu_seconds"` // the same, CPU time of the recording thread
	Polls            int     `json:"polls"`
	PolledBytes      int64   `json:"polled_bytes"`
}

// Arm summarises an arm: medians of its runs, and the median CPU and
// train times relative to plain's.
type Arm struct {
	Arm          string  `json:"arm"`
	Runs         int     `json:"runs"`
	CPUSeconds   float64 `json:"cpu_seconds"`
	CPUMin       float64 `json:"cpu_min"`
	CPUMax       float64 `json:"cpu_max"`
	TrainSeconds float64 `json:"train_seconds"`
	CPURatio     float64 `json:"cpu_ratio"`
	TrainRatio   float64 `json:"train_ratio"`
	Windows      float64 `json:"windows"`
	// WindowCPUShare is the median over the arm's runs of the windows'
	// CPU time over the run's CPU time; WindowWallShare of the windows'
	// CPU time over the run's training time (wall): the most a run can
	// be delayed by recording them, were every core busy with training.
	WindowCPUShare  float64 `json:"window_cpu_share"`
	WindowWallShare float64 `json:"window_wall_share"`
}

func main() {
	bin := flag.String("bin", "./strongdfc", "the strongdfc `binary` to run")
	preset := flag.String("preset", "mnist-strong-dfc", "`preset` of the runs")
	limit := flag.Int("train-limit", 1920, "training `samples` per run")
	epochs := flag.Int("epochs", 1, "training `epochs` per run (no pre-training)")
	reps := flag.Int("reps", 3, "`repetitions` of each arm, alternated")
	out := flag.String("out", "", "`folder` of the run folders (default: a temporary one, removed)")
	flag.Parse()
	if _, err := os.Stat(*bin); err != nil {
		fmt.Fprintf(os.Stderr, "livecost: %v: build the binary first (go build -o strongdfc ./cmd/strongdfc) or give -bin\n", err)
		os.Exit(2)
	}
	dir := *out
	if dir == "" {
		d, err := os.MkdirTemp("", "livecost")
		if err != nil {
			fatal(err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	var runs []Run
	for rep := 1; rep <= *reps; rep++ {
		for _, arm := range []string{"plain", "serve", "page"} {
			r, err := one(*bin, dir, arm, rep, *preset, *limit, *epochs)
			if err != nil {
				fatal(fmt.Errorf("%s run %d: %w", arm, rep, err))
			}
			b, _ := json.Marshal(r)
			fmt.Println(string(b))
			runs = append(runs, r)
		}
	}
	var arms []Arm
	for _, name := range []string{"plain", "serve", "page"} {
		var cpu, tr, win, wcpu, wwall []float64
		for _, r := range runs {
			if r.Arm == name {
				cpu, tr, win = append(cpu, r.CPUSeconds), append(tr, r.TrainSeconds), append(win, float64(r.Windows))
				wcpu, wwall = append(wcpu, r.WindowCPUSeconds/r.CPUSeconds), append(wwall, r.WindowCPUSeconds/r.TrainSeconds)
			}
		}
		a := Arm{Arm: name, Runs: len(cpu), CPUSeconds: median(cpu), CPUMin: slices.Min(cpu), CPUMax: slices.Max(cpu),
			TrainSeconds: median(tr), Windows: median(win), WindowCPUShare: median(wcpu), WindowWallShare: median(wwall)}
		if len(arms) > 0 {
			a.CPURatio, a.TrainRatio = a.CPUSeconds/arms[0].CPUSeconds, a.TrainSeconds/arms[0].TrainSeconds
		} else {
			a.CPURatio, a.TrainRatio = 1, 1
		}
		arms = append(arms, a)
	}
	fmt.Println("| arm | runs | CPU s, median (min–max) | × plain | train s, median | × plain | windows | their CPU / run's CPU | their CPU / train time |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, a := range arms {
		fmt.Printf("| %s | %d | %.2f (%.2f–%.2f) | %.3f | %.1f | %.3f | %g | %.2f %% | %.2f %% |\n", a.Arm, a.Runs, a.CPUSeconds, a.CPUMin, a.CPUMax,
			a.CPURatio, a.TrainSeconds, a.TrainRatio, a.Windows, 100*a.WindowCPUShare, 100*a.WindowWallShare)
	}
	b, _ := json.Marshal(arms)
	fmt.Println(string(b))
}

// one trains a run of the given arm and measures it.
func one(bin, dir, arm string, rep int, preset string, limit, epochs int) (Run, error) {
	name := fmt.Sprintf("%s-%d", arm, rep)
	args := []string{"train", "--preset", preset, "--epochs", strconv.Itoa(epochs), "--pretrain-epochs", "0",
		"--train-limit", strconv.Itoa(limit), "--out", dir, "--name", name, "--progress", "1h", "--log-level", "warn"}
	var addr string
	if arm != "plain" {
		port, err := freePort()
		if err != nil {
			return Run{}, err
		}
		addr = "127.0.0.1:" + strconv.Itoa(port)
		args = append(args, "--serve", addr)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Run{}, err
	}
	r := Run{Arm: arm, Rep: rep}
	ctx, stop := context.WithCancel(context.Background())
	polled := make(chan struct{})
	if arm == "page" {
		go func() { defer close(polled); poll(ctx, "http://"+addr, &r) }()
	} else {
		close(polled)
	}
	err := cmd.Wait()
	r.WallSeconds = time.Since(start).Seconds()
	stop()
	<-polled
	if err != nil {
		return r, fmt.Errorf("%s %v: %w", bin, args, err)
	}
	r.CPUSeconds = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	var sum struct {
		Wall    float64 `json:"wall_seconds"`
		Samples float64 `json:"samples_per_second"`
	}
	run := filepath.Join(dir, name)
	b, err := os.ReadFile(filepath.Join(run, runfolder.Summary))
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		return r, err
	}
	r.TrainSeconds, r.SamplesPerSecond = sum.Wall, sum.Samples
	if b, err := os.ReadFile(filepath.Join(run, live.WindowFile)); err == nil {
		var w live.Window
		if err := json.Unmarshal(b, &w); err != nil {
			return r, err
		}
		r.Windows = len(w.History)
		for _, p := range w.History {
			r.WindowSeconds += p.Seconds
			r.WindowCPUSeconds += float64(p.CPUSeconds)
		}
	}
	return r, nil
}

// poll asks what the page asks until ctx ends: the state every 2 s from
// its cursor, the info and the window when their sequence numbers change.
func poll(ctx context.Context, base string, r *Run) {
	var c live.Cursor
	info, win := -1, 0
	get := func(path string) []byte {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		r.PolledBytes += int64(len(b))
		return b
	}
	get("/")
	get("/api/runs")
	for {
		if b := get(fmt.Sprintf("/api/runs/0?gen=%d&epochs=%d&running=%d&unorm=%d", c.Gen, c.Epochs, c.Running, c.UNorm)); b != nil {
			r.Polls++
			var s live.State
			if json.Unmarshal(b, &s) == nil {
				if s.Reset {
					c = live.Cursor{}
				}
				c.Gen = s.Gen
				c.Epochs += len(s.Epochs)
				c.Running += len(s.Running)
				c.UNorm += len(s.UNorm)
				if s.InfoSeq != info {
					get("/api/runs/0/info")
					info = s.InfoSeq
				}
				if s.WindowSeq != win {
					get("/api/runs/0/window")
					win = s.WindowSeq
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func median(x []float64) float64 {
	s := slices.Clone(x)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "livecost:", err)
	os.Exit(1)
}
