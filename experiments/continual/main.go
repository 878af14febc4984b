// Command continual trains a network on one stream of tasks, with no task
// boundaries given to the learner, and records every task's test accuracy
// along the stream:
//
//   - split: split-MNIST, 5 tasks of two digits each (0/1, 2/3, …), class-
//     incremental (one 10-way output for all tasks);
//   - permuted: permuted MNIST, -tasks tasks of -per-task samples, each a
//     fixed random permutation of the pixels (the first is the identity).
//
// -method stream is single-phase Strong-DFC learning at every step on a
// never-reset stream (preset mnist-strong-dfc-stream); online learns at
// every step with a window per sample; bp is backpropagation in the same
// network, fed the same samples in the same order (the same seed). Within
// a task the samples are shuffled; the tasks come one after the other, once.
//
// It writes accuracy.csv (samples seen, task, accuracy on that task's
// test samples), curves.png (every task's accuracy over the stream) and
// summary.json into -out, and prints the summary as the last line of
// stdout: the final accuracy on each task's full test set, their average,
// and the forgetting of the first task (its best accuracy along the stream
// minus its final one).
//
//	go run -tags openblas ./experiments/continual -benchmark split -method stream
//	go run -tags openblas ./experiments/continual -benchmark permuted -method bp
package main

import (
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
	"gonum.org/v1/plot/vg"

	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/dataset"
	"github.com/strongdfc/strongdfc/internal/command"
	"github.com/strongdfc/strongdfc/internal/config"
	"github.com/strongdfc/strongdfc/internal/plots"
	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/internal/sysinfo"
	"github.com/strongdfc/strongdfc/train"
)

// Summary is the last line of stdout and summary.json.
type Summary struct {
	Benchmark  string    `json:"benchmark"`
	Method     string    `json:"method"`
	Preset     string    `json:"preset"`
	Steps      int       `json:"steps,omitempty"`
	Tasks      int       `json:"tasks"`
	Samples    int       `json:"samples"`
	PerTask    []int     `json:"samples_per_task"`
	Final      []float64 `json:"final_accuracy"`
	Average    float64   `json:"average_accuracy"`
	FirstBest  float64   `json:"first_task_best"`
	Forgetting float64   `json:"first_task_forgetting"`
	Seed       uint64    `json:"seed"`
	Seconds    float64   `json:"wall_seconds"`
	Backend    string    `json:"backend"`
	PeakRSSMB  float64   `json:"peak_rss_mb"`
}

type setFlags []string

func (s *setFlags) String() string     { return strings.Join(*s, ",") }
func (s *setFlags) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	bench := flag.String("benchmark", "split", "`benchmark`: split (split-MNIST, 5 class-incremental tasks) or permuted (permuted MNIST)")
	method := flag.String("method", "stream", "`method`: stream (Strong-DFC on a never-reset stream), online (every step, a window per sample) or bp (backprop, same order)")
	tasks := flag.Int("tasks", 10, "number of permuted-MNIST `tasks`")
	perTask := flag.Int("per-task", 10000, "training `samples` per permuted-MNIST task")
	steps := flag.Int("steps", 0, "time indices each sample is shown (default: the preset's)")
	seed := flag.Uint64("seed", 1, "`seed` of the weights, the order and the permutations")
	every := flag.Int("eval-every", 2560, "evaluate every task after every `N` training samples")
	evalN := flag.Int("eval-samples", 2000, "test `samples` per task for the curve (the final accuracies use every test sample)")
	dataDir := flag.String("data", "", "`folder` with the MNIST IDX files")
	out := flag.String("out", "", "output `folder` (default: runs/continual-BENCHMARK-METHOD-TIME)")
	replot := flag.String("replot", "", "draw curves.png of the run in `folder` again from its accuracy.csv and summary.json, and stop")
	var sets setFlags
	flag.Var(&sets, "set", "override a configuration `key=value` (repeatable), as strongdfc train --set")
	cs := command.Parse()
	defer cs.Close()
	log := cs.Log
	start := time.Now()
	if *replot != "" {
		if err := redraw(*replot); err != nil {
			log.Fatal("replot", zap.Error(err))
		}
		log.Info("curves drawn", zap.String("out", filepath.Join(*replot, "curves.png")))
		return
	}

	preset := map[string]string{"stream": "mnist-strong-dfc-stream", "online": "mnist-strong-dfc-online", "bp": "mnist-bp"}[*method]
	if preset == "" {
		log.Fatal("unknown -method; use stream, online or bp", zap.String("method", *method))
	}
	if *bench != "split" && *bench != "permuted" {
		log.Fatal("unknown -benchmark; use split or permuted", zap.String("benchmark", *bench))
	}
	if *every <= 0 || *evalN <= 0 || *tasks <= 0 || *perTask <= 0 {
		log.Fatal("-eval-every, -eval-samples, -tasks and -per-task must be positive")
	}
	cfg, _, err := config.Resolve(config.Sources{Preset: preset, Set: sets})
	if err != nil {
		log.Fatal("configuration", zap.Error(err))
	}
	cfg.Seed, cfg.Epochs, cfg.Validation, cfg.TrainLimit = *seed, 1, 0, 0
	cfg.Pretrain.Epochs = 0 // one stream, no other phase
	if *steps > 0 {
		cfg.Dynamics.Steps = *steps
	}
	if err := cfg.Validate(); err != nil {
		log.Fatal("configuration", zap.Error(err))
	}
	trainSet, testSet, err := dataset.LoadMNIST(*dataDir)
	if err != nil {
		log.Fatal("data", zap.Error(err))
	}
	var st *stream
	if *bench == "split" {
		st = splitMNIST(trainSet, testSet)
	} else {
		st = permutedMNIST(trainSet, testSet, *tasks, *perTask, *seed)
	}
	data := &train.Data{Train: st.train, Test: st.tests[0], Norm: dataset.MNISTNorm, Classes: 10, Blocks: st.blocks}
	tr, err := train.New(cfg, data, train.Options{Pool: cs.Pool})
	if err != nil {
		log.Fatal("trainer", zap.Error(err))
	}
	if *out == "" {
		*out = filepath.Join("runs", fmt.Sprintf("continual-%s-%s-%s", *bench, *method, start.Format("20060102-150405")))
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal("output folder", zap.Error(err))
	}
	ev := train.NewEvaluator(tr.Net, cfg, data.Norm, 10)
	curve := make([]dataset.Split, len(st.tests))
	for i, t := range st.tests {
		curve[i] = sample(t, *evalN, *seed)
	}
	var rows [][]float64 // samples, task, accuracy
	evaluate := func(seen int) {
		for i, sp := range curve {
			_, acc := ev.Evaluate(sp)
			rows = append(rows, []float64{float64(seen), float64(i + 1), acc})
		}
	}
	evaluate(0)
	log.Info("stream", zap.String("benchmark", *bench), zap.String("method", *method), zap.Int("tasks", len(st.tests)),
		zap.Ints("samples per task", st.blocks), zap.Int("steps", cfg.Dynamics.Steps))
	next, last := *every, time.Now()
	_, err = tr.Next(cs.Ctx, func(p train.Progress) {
		if p.Samples >= next || p.Batch == p.Batches {
			evaluate(p.Samples)
			next = p.Samples + *every
		}
		if time.Since(last) > 30*time.Second {
			last = time.Now()
			fmt.Fprintf(os.Stderr, "%d/%d samples, %.1f samples/s\n", p.Samples, st.train.Len(), p.SamplesPerSecond)
		}
	})
	if err != nil {
		log.Fatal("training stopped", zap.Error(err))
	}
	sum := Summary{Benchmark: *bench, Method: *method, Preset: preset, Tasks: len(st.tests), Samples: st.train.Len(), PerTask: st.blocks,
		Seed: *seed, Backend: compute.Backend()}
	if *method != "bp" {
		sum.Steps = cfg.Dynamics.Steps
	}
	for _, t := range st.tests {
		_, acc := ev.Evaluate(t)
		sum.Final = append(sum.Final, acc)
		sum.Average += acc / float64(len(st.tests))
	}
	for _, r := range rows {
		if r[1] == 1 {
			sum.FirstBest = math.Max(sum.FirstBest, r[2])
		}
	}
	sum.Forgetting = sum.FirstBest - sum.Final[0]
	if err := writeCSV(filepath.Join(*out, "accuracy.csv"), rows); err != nil {
		log.Error("accuracy.csv", zap.Error(err))
	}
	if err := curves(rows, len(st.tests), st.blocks, *bench, *method).Save(*out, "curves"); err != nil {
		log.Error("curves.png", zap.Error(err))
	}
	sum.Seconds = time.Since(start).Seconds()
	sum.PeakRSSMB = sysinfo.PeakRSSMB()
	b, _ := json.Marshal(sum)
	if err := runfolder.WriteAtomic(filepath.Join(*out, "summary.json"), func(w io.Writer) error { _, err := w.Write(append(b, '\n')); return err }); err != nil {
		log.Error("summary.json", zap.Error(err))
	}
	log.Info("done", zap.Float64("average_accuracy", sum.Average), zap.Float64("first_task_forgetting", sum.Forgetting),
		zap.String("out", *out))
	fmt.Println(string(b))
}

// stream is a sequence of tasks: the training samples in task order, the
// tasks' sizes, and each task's test split.
type stream struct {
	train  dataset.Split
	blocks []int
	tests  []dataset.Split
}

// splitMNIST makes the 5 tasks of split-MNIST: digits 0/1, 2/3, …, 8/9.
func splitMNIST(train, test *dataset.Set) *stream {
	st := &stream{train: dataset.Split{Set: train}}
	for k := range 5 {
		n := 0
		for i, l := range train.Labels {
			if int(l)/2 == k {
				st.train.Index = append(st.train.Index, i)
				n++
			}
		}
		st.blocks = append(st.blocks, n)
		t := dataset.Split{Set: test}
		for i, l := range test.Labels {
			if int(l)/2 == k {
				t.Index = append(t.Index, i)
			}
		}
		st.tests = append(st.tests, t)
	}
	return st
}

// permutedMNIST makes tasks of perTask training samples each (drawn
// afresh for every task), every task's images permuted by its own fixed
// permutation of the pixels (the first task's is the identity), and each
// task's full test set permuted alike.
func permutedMNIST(train, test *dataset.Set, tasks, perTask int, seed uint64) *stream {
	rng := rand.New(rand.NewPCG(seed, 0xc0))
	perTask = min(perTask, train.Len())
	tr := &dataset.Set{Name: "permuted-mnist", Rows: train.Rows, Cols: train.Cols, Dim: train.Dim, Classes: train.Classes}
	te := &dataset.Set{Name: "permuted-mnist-test", Rows: test.Rows, Cols: test.Cols, Dim: test.Dim, Classes: test.Classes}
	st := &stream{}
	for k := range tasks {
		perm := rng.Perm(train.Dim)
		if k == 0 {
			for i := range perm {
				perm[i] = i
			}
		}
		add := func(dst, src *dataset.Set, i int) {
			img := src.Image(i)
			for _, p := range perm {
				dst.Pixels = append(dst.Pixels, img[p])
			}
			dst.Labels = append(dst.Labels, src.Labels[i])
		}
		for _, i := range rng.Perm(train.Len())[:perTask] {
			add(tr, train, i)
		}
		st.blocks = append(st.blocks, perTask)
		from := te.Len()
		for i := range test.Len() {
			add(te, test, i)
		}
		t := dataset.Split{Set: te}
		for i := from; i < te.Len(); i++ {
			t.Index = append(t.Index, i)
		}
		st.tests = append(st.tests, t)
	}
	st.train = dataset.All(tr)
	return st
}

// sample returns n samples of sp drawn with seed (all when it has fewer).
func sample(sp dataset.Split, n int, seed uint64) dataset.Split {
	if n >= sp.Len() {
		return sp
	}
	out := dataset.Split{Set: sp.Set}
	for _, i := range rand.New(rand.NewPCG(seed, 0xe7)).Perm(sp.Len())[:n] {
		out.Index = append(out.Index, sp.Index[i])
	}
	return out
}

func writeCSV(path string, rows [][]float64) error {
	return runfolder.WriteAtomic(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write([]string{"samples", "task", "accuracy"}) //nolint:errcheck
		for _, r := range rows {
			cw.Write([]string{strconv.Itoa(int(r[0])), strconv.Itoa(int(r[1])), strconv.FormatFloat(r[2], 'g', -1, 64)}) //nolint:errcheck
		}
		cw.Flush()
		return cw.Error()
	})
}

// redraw draws curves.png of the run in dir again from its files.
func redraw(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return err
	}
	var sum Summary
	if err := json.Unmarshal(b, &sum); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, "summary.json"), err)
	}
	if len(sum.PerTask) != sum.Tasks || sum.Tasks == 0 {
		return fmt.Errorf("%s gives %d tasks and %d task sizes (samples_per_task): cannot place the task boundaries", filepath.Join(dir, "summary.json"), sum.Tasks, len(sum.PerTask))
	}
	f, err := os.Open(filepath.Join(dir, "accuracy.csv"))
	if err != nil {
		return err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return fmt.Errorf("%s: %w", f.Name(), err)
	}
	var rows [][]float64
	for i, r := range recs[min(1, len(recs)):] {
		if len(r) != 3 {
			return fmt.Errorf("%s: line %d has %d fields, want samples,task,accuracy", f.Name(), i+2, len(r))
		}
		row := make([]float64, 3)
		for j, v := range r {
			if row[j], err = strconv.ParseFloat(v, 64); err != nil {
				return fmt.Errorf("%s: line %d: %w", f.Name(), i+2, err)
			}
		}
		rows = append(rows, row)
	}
	return curves(rows, sum.Tasks, sum.PerTask, sum.Benchmark, sum.Method).Save(dir, "curves")
}

// curves draws every task's accuracy over the stream, with the task
// boundaries as dashed grey lines.
func curves(rows [][]float64, tasks int, blocks []int, bench, method string) plots.Figure {
	p := plots.Panel{Title: fmt.Sprintf("%s MNIST, %s: test accuracy of every task along the stream", bench, method),
		XLabel: "training samples seen (thousands)", YLabel: "accuracy (%)", YMin: 0, YMax: 100}
	for k := 1; k <= tasks; k++ {
		var x, y []float64
		for _, r := range rows {
			if int(r[1]) == k {
				x, y = append(x, r[0]/1000), append(y, 100*r[2])
			}
		}
		p.Series = append(p.Series, plots.Series{Name: fmt.Sprintf("task %d", k), X: x, Y: y, Color: (k - 1) % len(plots.Palette)})
	}
	off := 0
	for _, b := range blocks[:len(blocks)-1] {
		off += b
		p.Series = append(p.Series, plots.Series{X: []float64{float64(off) / 1000, float64(off) / 1000}, Y: []float64{0, 100},
			Color: 7, Dashed: true})
	}
	return plots.Figure{Panels: []plots.Panel{p}, Cols: 1, Width: 10 * vg.Inch, Height: 5 * vg.Inch}
}
