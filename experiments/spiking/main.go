// Command spiking trains deep spiking Strong-DFC networks and measures
// what spikes cost.
//
// By default it trains the preset mnist-spiking-strong-dfc (hidden layers
// of spiking neurons, the input as spike trains, event-driven
// transmission; -dataset fashion-mnist for Fashion-MNIST) through the
// runner, like experiments/mnist, and after every training epoch measures
// the test accuracy of the network's own spiking dynamics (a window of
// -eval-steps per sample, the controller off) and the hidden neurons' mean
// firing rate, beside the feedforward (mean-field) accuracy. It writes
// spiking.csv and the learning curves (spiking-curve.png, with -compare
// DIR a rate run's test accuracy beside them) into the run folder and
// prints a JSON summary last; -plot DIR draws the curves again.
//
// With -evaluate DIR it measures the spiking network of a run folder at
// its checkpoint after each presentation time of -eval-steps (one
// simulation of the longest), beside its mean field, and prints the
// result as JSON.
//
// With -probe DIR it measures how well the forward updates at a run
// folder's checkpoint point along backprop's gradient: the angle of each
// layer's update to it on -probe-batches minibatches of training samples,
// each from the checkpoint's weights, under the run's configuration as
// changed by -set (a higher rate bound, larger minibatches, rate neurons
// with spiking.rate_max=0 and spiking.learn_from=spikes),
// so that remedies for spike noise can be compared at one point of
// training without training.
//
// With -cost it instead times steps of the published MNIST network at
// several firing rates: spiking neurons with event-driven transmission,
// the same with dense products, and the rate network, each with
// plasticity (training) and without (inference), on MNIST images, and
// writes cost.csv and cost.png into -out.
//
//	go run -tags openblas ./experiments/spiking -epochs 3
//	go run -tags openblas ./experiments/spiking -cost -out docs/spiking
//	go run ./experiments/spiking -evaluate longruns/mnist-spiking-intensity-s1 -eval-steps 200,500,1000,2000
//	go run ./experiments/spiking -probe longruns/mnist-spiking-tau30-intensity-s1 -set spiking.rate_max=1000
//	go run ./experiments/spiking -plot longruns/mnist-spiking-intensity-s1 -compare longruns/mnist-strong-dfc-s1
package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/plot/vg"

	"github.com/strongdfc/strongdfc/checkpoint"
	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/internal/command"
	"github.com/strongdfc/strongdfc/internal/config"
	"github.com/strongdfc/strongdfc/internal/plots"
	"github.com/strongdfc/strongdfc/internal/prof"
	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/internal/runner"
	"github.com/strongdfc/strongdfc/internal/sweep"
	"github.com/strongdfc/strongdfc/neuron"
	"github.com/strongdfc/strongdfc/presets"
	"github.com/strongdfc/strongdfc/scheduler"
	"github.com/strongdfc/strongdfc/train"
)

// EpochRow is a line of spiking.csv.
type EpochRow struct {
	Epoch     int     `json:"epoch"`
	Samples   int     `json:"samples"`
	MeanField float64 `json:"mean_field_test_accuracy"`
	// Spiking is the spiking network's accuracy after the longest
	// presentation, EvalSteps time steps per sample.
	Spiking        float64 `json:"spiking_test_accuracy"`
	RateHz         float64 `json:"mean_rate"`
	SpikingSeconds float64 `json:"spiking_eval_seconds"`
	EvalSteps      int     `json:"eval_steps"`
	// ByTime is the spiking accuracy after each presentation time (steps
	// per sample), read from the same simulation.
	ByTime map[int]float64 `json:"spiking_test_accuracy_by_steps"`
}

// oldEvalSteps is the presentation time of the rows written before
// spiking.csv had an eval_steps column: the default of -eval-steps then
// (every run of that time used it). Those rows drew each evaluation
// window's noise on from the previous window's, not reseeded.
const oldEvalSteps = 200

func main() {
	cfg := presets.Spiking(presets.MNIST())
	opt := runner.Options{Command: os.Args, ResumeCommand: "go run ./experiments/spiking -resume %s"}
	dataset := flag.String("dataset", "mnist", "`data set`: mnist or fashion-mnist")
	cost := flag.Bool("cost", false, "measure the cost of a step against the firing rate instead of training")
	evalSteps := []int{200, 1000}
	flag.Func("eval-steps", "time `steps` per test sample of the spiking evaluation, a comma-separated list read from one simulation of the longest; its cost grows with the longest (default 200,1000: about 8 minutes of one core per epoch, against 2 for 200 alone)", func(v string) error {
		var err error
		evalSteps, err = parseSteps(v)
		return err
	})
	flag.IntVar(&cfg.Epochs, "epochs", 3, "training `epochs`")
	flag.IntVar(&cfg.Batch, "batch", cfg.Batch, "minibatch `size`")
	flag.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "`seed` of every random draw")
	flag.IntVar(&cfg.TrainLimit, "train-limit", 0, "train on the first `N` samples only (0: all)")
	flag.IntVar(&cfg.Pretrain.Epochs, "pretrain-epochs", cfg.Pretrain.Epochs, "`epochs` of feedback pre-training")
	flag.Float64Var(&cfg.Spiking.RateMax, "rate-max", cfg.Spiking.RateMax, "hidden neurons' maximal `rate` (spikes per unit of time)")
	flag.Float64Var(&cfg.Spiking.InputRateMax, "input-rate-max", cfg.Spiking.InputRateMax, "input spike trains' maximal `rate`")
	flag.Float64Var(&cfg.Spiking.TauSyn, "tau-syn", cfg.Spiking.TauSyn, "synaptic `time constant` of the traces")
	flag.StringVar(&opt.DataDir, "data", "", "`folder` with the IDX files")
	out := flag.String("out", "", "run `folder` (training; default: a new folder under runs/) or output folder (-cost)")
	evaluate := flag.String("evaluate", "", "evaluate the spiking network of the run `folder` at its checkpoint after each -eval-steps, beside its mean field, and print the result (nothing is written)")
	replot := flag.String("plot", "", "draw the learning curves of the run `folder` again from its spiking.csv (spiking-curve.png and .csv) and exit")
	compare := flag.String("compare", "", "draw the test accuracy of the rate run in `folder` (its metrics) beside the spiking run's learning curves")
	probe := flag.String("probe", "", "measure the angles of the forward updates to backprop at the checkpoint of the run `folder`, under its configuration changed by -set (the other configuration flags do not apply), and print them (nothing is written)")
	probeBatches := flag.Int("probe-batches", 10, "with -probe, the number of `minibatches` (the training samples in their stored order)")
	evalLimit := flag.Int("eval-limit", 0, "with -evaluate, the first `N` test samples only (0: all)")
	flag.StringVar(&opt.Resume, "resume", "", "continue the training run in `folder` from its checkpoint (its configuration; spiking.csv is extended)")
	var sets []string
	flag.Func("set", "change one configuration value, `key=value` with a dotted key and a YAML value (spiking.learn_from=intensity, forward.lr=1e-3); repeatable, applied after the flags above (not with -resume)", func(s string) error {
		sets = append(sets, s)
		return nil
	})
	every := flag.Duration("progress", 0, "`interval` between progress lines on stderr when it is not a terminal (default 5s)")
	var pf prof.Flags
	pf.Register(flag.CommandLine)
	command.ParseCommandLine()

	cmd := runner.StartCommand(&opt, *every, pf)
	defer cmd.Close()
	log, ctx := cmd.Log, cmd.Ctx
	if *dataset != "mnist" {
		base, err := presets.Lookup(*dataset + "-spiking-strong-dfc")
		if err != nil {
			log.Fatal("data set", zap.Error(err))
		}
		base.Epochs, base.Batch, base.Seed, base.TrainLimit = cfg.Epochs, cfg.Batch, cfg.Seed, cfg.TrainLimit
		base.Pretrain.Epochs, base.Spiking = cfg.Pretrain.Epochs, cfg.Spiking
		cfg = base
	}
	if *probe != "" {
		if opt.Resume != "" || *evaluate != "" || *cost || *replot != "" || *compare != "" {
			log.Fatal("-probe measures a run folder's checkpoint on its own: not with -resume, -evaluate, -cost, -plot or -compare")
		}
		if err := probeRun(log, *probe, opt.DataDir, sets, *probeBatches); err != nil {
			log.Fatal("probe", zap.Error(err))
		}
		return
	}
	if len(sets) > 0 && opt.Resume != "" {
		log.Fatal("-set with -resume: a run continues with its own configuration (only -epochs may extend it)")
	}
	for _, kv := range sets {
		var err error
		if cfg, err = config.Override(cfg, kv); err != nil {
			log.Fatal("-set", zap.Error(err))
		}
	}
	switch {
	case *compare != "" && (*evaluate != "" || *cost):
		log.Fatal("-compare draws a rate run beside a training run's learning curves (with training or -plot), not with -evaluate or -cost")
	case *evalLimit != 0 && *evaluate == "":
		log.Fatal("-eval-limit limits the test samples of -evaluate; a training run evaluates on all of them")
	}
	if *replot != "" {
		rows, err := readRows(filepath.Join(*replot, "spiking.csv"))
		if err == nil && len(rows) == 0 {
			err = fmt.Errorf("%s has no spiking.csv rows to draw", *replot)
		}
		if err == nil {
			err = drawCurves(*replot, rows, *compare)
		}
		if err != nil {
			log.Fatal("plot", zap.Error(err))
		}
		log.Info("learning curves", zap.String("figure", filepath.Join(*replot, curveName+".png")))
		return
	}
	if *evaluate != "" {
		if err := evaluateRun(log, *evaluate, opt.DataDir, evalSteps, *evalLimit); err != nil {
			log.Fatal("evaluate", zap.Error(err))
		}
		return
	}
	if *cost {
		if *out == "" {
			*out = "spiking-cost"
		}
		if err := measureCost(ctx, log, cfg, opt.DataDir, *out); err != nil {
			log.Fatal("cost", zap.Error(err))
		}
		return
	}

	opt.Preset = *dataset + "-spiking-strong-dfc"
	opt.Out = "runs"
	if *out != "" {
		opt.Out, opt.Name = filepath.Dir(*out), filepath.Base(*out)
	}
	var rows []EpochRow
	samples := 0
	if opt.Resume != "" {
		// The run continues with its own configuration (only -epochs may
		// extend it); its spiking.csv is extended.
		epochs := cfg.Epochs
		saved, preset, err := runner.RunConfig(opt.Resume, nil)
		if err != nil {
			log.Fatal("resume", zap.Error(err))
		}
		cfg, opt.Preset = saved, preset
		flag.Visit(func(f *flag.Flag) {
			if f.Name == "epochs" {
				cfg.Epochs = epochs
			}
		})
		if rows, err = readRows(filepath.Join(opt.Resume, "spiking.csv")); err != nil {
			log.Fatal("resume", zap.Error(err))
		}
		if len(rows) > 0 {
			samples = rows[len(rows)-1].Samples
		}
	}
	runDir := &dirObserver{}
	opt.Observer = runDir
	opt.OnEpoch = func(tr *train.Trainer, r train.EpochResult) {
		if r.Phase != "train" {
			return
		}
		samples += r.Samples
		start := time.Now()
		accs, rate, err := tr.SimulatedAccuracies(tr.Data().Test, evalSteps, 500)
		if err != nil {
			log.Error("spiking evaluation", zap.Error(err))
			return
		}
		row := EpochRow{Epoch: r.Epoch, Samples: samples, MeanField: r.TestAccuracy, RateHz: rate,
			SpikingSeconds: time.Since(start).Seconds(), ByTime: map[int]float64{}}
		for m, st := range evalSteps {
			row.ByTime[st] = accs[m]
			if st >= row.EvalSteps {
				row.Spiking, row.EvalSteps = accs[m], st
			}
		}
		rows = append(rows, row)
		// Written after every epoch, so that an interrupted run keeps its
		// rows and -resume extends them.
		if dir := runDir.dir; dir != "" {
			if err := writeRows(filepath.Join(dir, "spiking.csv"), rows); err != nil {
				log.Error("spiking.csv", zap.Error(err))
			}
			if err := drawCurves(dir, rows, *compare); err != nil {
				log.Error("learning curves", zap.Error(err))
			}
		}
		log.Info("spiking", zap.Int("epoch", r.Epoch), zap.Float64("spiking_test_accuracy", row.Spiking),
			zap.Int("eval_steps", row.EvalSteps), zap.Any("by_steps", row.ByTime),
			zap.Float64("mean_field_test_accuracy", r.TestAccuracy), zap.Float64("mean_rate", rate))
	}
	sum, err := runner.Run(ctx, cfg, opt)
	// The summary's fields and the spiking evaluations, in one object.
	var line map[string]any
	b, _ := json.Marshal(sum)
	_ = json.Unmarshal(b, &line)
	line["spiking"] = rows
	b, _ = json.Marshal(line)
	fmt.Println(string(b))
	var in *train.Interrupted
	switch {
	case errors.As(err, &in):
		os.Exit(130) // the runner saved the state and named the command that resumes it
	case err != nil:
		log.Error("run failed", zap.Error(err))
		os.Exit(1)
	}
}

// evaluateRun measures the spiking network of the run folder dir at its
// checkpoint after each presentation time and prints one JSON line.
func evaluateRun(log *zap.Logger, dir, dataDir string, steps []int, limit int) error {
	tr, err := runner.OpenTrainer(dir, dataDir)
	if err != nil {
		return err
	}
	test := tr.Data().Test.Limit(limit)
	start := time.Now()
	_, meanField := tr.Evaluate(test)
	accs, rate, err := tr.SimulatedAccuracies(test, steps, 500)
	if err != nil {
		return err
	}
	by := map[string]float64{}
	for m, st := range steps {
		by[strconv.Itoa(st)] = accs[m]
	}
	log.Info("spiking evaluation", zap.String("run", dir), zap.String("at", tr.Position().String()),
		zap.Int("test_samples", test.Len()), zap.Float64("mean_field_test_accuracy", meanField),
		zap.Any("spiking_test_accuracy_by_steps", by), zap.Float64("mean_rate", rate),
		zap.Duration("took", time.Since(start)))
	b, err := json.Marshal(map[string]any{"run": dir, "at": tr.Position().String(), "test_samples": test.Len(),
		"mean_field_test_accuracy": meanField, "spiking_test_accuracy_by_steps": by, "mean_rate": rate,
		"seconds": time.Since(start).Seconds()})
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

// probeRun measures, at the checkpoint of the run folder dir, the angles
// between the forward updates of the run's configuration changed by sets
// and backprop's gradient, on batches minibatches of training samples,
// each window from the checkpoint's weights, and prints one JSON line with
// their means and standard deviations per layer.
func probeRun(log *zap.Logger, dir, dataDir string, sets []string, batches int) error {
	if batches <= 0 {
		return fmt.Errorf("-probe-batches %d: give at least 1", batches)
	}
	cfg, _, err := runner.RunConfig(dir, sets)
	if err != nil {
		return fmt.Errorf("run folder %s: %w", dir, err)
	}
	cp := filepath.Join(dir, runfolder.Checkpoint)
	if _, err := os.Stat(cp); err != nil {
		return fmt.Errorf("run folder %s has no checkpoint to probe (a run saves one every 10 minutes and at every epoch's end): %w", dir, err)
	}
	snap, err := checkpoint.Read(cp)
	if err != nil {
		return err
	}
	data, err := train.LoadData(cfg, dataDir)
	if err != nil {
		return err
	}
	tr, err := train.New(cfg, data)
	if err != nil {
		return err
	}
	if n := data.Train.Len(); batches*cfg.Batch > n {
		return fmt.Errorf("-probe-batches %d of %d samples: the training split has %d", batches, cfg.Batch, n)
	}
	start := time.Now()
	var per [][]float64 // per[i]: layer i's angles; the last, the whole update's
	for k := range batches {
		if err := train.SetWeights(tr.Net, snap.W, snap.B, snap.Q); err != nil {
			return err
		}
		layers, total, err := tr.ProbeAngles(data.Train, k*cfg.Batch)
		if err != nil {
			return err
		}
		all := append(layers, total)
		if per == nil {
			per = make([][]float64, len(all))
		}
		for i, a := range all {
			per[i] = append(per[i], a)
		}
	}
	mean := make([]float64, len(per))
	sd := make([]float64, len(per))
	for i, as := range per {
		mean[i], sd[i] = stat.MeanStdDev(as, nil)
		if len(as) == 1 {
			sd[i] = 0 // one minibatch: no spread to measure
		}
	}
	L := len(per) - 1
	log.Info("probe", zap.String("run", dir), zap.Strings("set", sets), zap.Int("minibatches", batches),
		zap.Int("batch", cfg.Batch), zap.Float64s("angle_layers_mean", mean[:L]), zap.Float64s("angle_layers_sd", sd[:L]),
		zap.Float64("angle_total_mean", mean[L]), zap.Float64("angle_total_sd", sd[L]), zap.Duration("took", time.Since(start)))
	b, err := json.Marshal(map[string]any{"run": dir, "set": sets, "minibatches": batches, "batch": cfg.Batch,
		"angle_layers_mean": mean[:L], "angle_layers_sd": sd[:L], "angle_total_mean": mean[L], "angle_total_sd": sd[L],
		"seconds": time.Since(start).Seconds()})
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	return nil
}

// curveName is the learning curves' figure in a run folder (.png and .csv).
const curveName = "spiking-curve"

// drawCurves draws the spiking run's learning curves into dir: the test
// accuracy of its mean field and of its spiking network after each
// presentation time, per training epoch, and the mean firing rate; with
// compare, the test accuracy of that rate run's training epochs beside
// them.
func drawCurves(dir string, rows []EpochRow, compare string) error {
	fig := spikingFigure(rows)
	if compare != "" {
		h, err := sweep.History(compare)
		if err != nil {
			return fmt.Errorf("compare: %w", err)
		}
		var xs, ys []float64
		for _, r := range h {
			if r.Phase == "train" {
				xs, ys = append(xs, float64(r.Epoch)), append(ys, 100*r.TestAccuracy)
			}
		}
		if len(xs) == 0 {
			return fmt.Errorf("compare: %s has no training epochs yet", compare)
		}
		// Up to the spiking run's last epoch, so that the axis is its.
		n := 0
		for n < len(xs) && xs[n] <= float64(rows[len(rows)-1].Epoch) {
			n++
		}
		p := &fig.Panels[0]
		p.Series = append(p.Series, plots.Series{Name: "rate network (" + filepath.Base(compare) + ")",
			X: xs[:n], Y: ys[:n], Color: 7, Dashed: true, Marker: "square"})
	}
	return fig.Save(dir, curveName)
}

// presentationTimes returns the presentation times any of rows was read
// out after, in increasing order.
func presentationTimes(rows []EpochRow) []int {
	var times []int
	for _, r := range rows {
		for n := range r.ByTime {
			if !slices.Contains(times, n) {
				times = append(times, n)
			}
		}
	}
	slices.Sort(times)
	return times
}

// spikingFigure is the learning curves of spiking.csv's rows.
func spikingFigure(rows []EpochRow) plots.Figure {
	times := presentationTimes(rows)
	epochs := make([]float64, len(rows))
	meanField, rate := make([]float64, len(rows)), make([]float64, len(rows))
	for i, r := range rows {
		epochs[i], meanField[i], rate[i] = float64(r.Epoch), 100*r.MeanField, r.RateHz
	}
	acc := plots.Panel{Title: "test accuracy", XLabel: "training epoch", YLabel: "test accuracy (%)", IntegerX: true,
		Series: []plots.Series{{Name: "mean field (the weights as a rate network)", X: epochs, Y: meanField, Color: 0, Marker: "circle"}}}
	for k, n := range times {
		ys := make([]float64, len(rows))
		for i, r := range rows {
			ys[i] = math.NaN() // not measured at this presentation time
			if a, ok := r.ByTime[n]; ok {
				ys[i] = 100 * a
			}
		}
		acc.Series = append(acc.Series, plots.Series{Name: fmt.Sprintf("spiking network, %d steps per sample", n),
			X: epochs, Y: ys, Color: 1 + k, Marker: "triangle"})
	}
	// From zero, so that a rate that holds still looks still.
	top := 0.0
	for _, r := range rate {
		top = max(top, r)
	}
	rates := plots.Panel{Title: "hidden neurons' mean firing rate", XLabel: "training epoch", YLabel: "spikes per unit of time", IntegerX: true,
		YMin: 0, YMax: max(1, 50*math.Ceil(1.2*top/50)),
		Series: []plots.Series{{Name: "mean rate", X: epochs, Y: rate, Color: 0, Marker: "circle"}}}
	return plots.Figure{Panels: []plots.Panel{acc, rates}, Cols: 1}
}

// dirObserver keeps the run folder's path (runner.Observer).
type dirObserver struct{ dir string }

func (o *dirObserver) Started(_ *train.Trainer, dir string)                   { o.dir = dir }
func (o *dirObserver) Progress(*train.Trainer, train.Progress, time.Duration) {}
func (o *dirObserver) Epoch(*train.Trainer, train.EpochResult)                {}

// parseSteps reads a comma-separated list of presentation times.
func parseSteps(v string) ([]int, error) {
	var steps []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 2 {
			return nil, fmt.Errorf("eval-steps %q: want a comma-separated list of whole numbers of at least 2 steps, such as 200,1000", v)
		}
		steps = append(steps, n)
	}
	return steps, nil
}

// rowColumns are spiking.csv's first columns; a column
// spiking_test_accuracy_<N>_steps follows for every presentation time.
var rowColumns = []string{"epoch", "samples", "mean_field_test_accuracy", "spiking_test_accuracy", "mean_rate", "spiking_eval_seconds", "eval_steps"}

// byTimeColumn names the column of the accuracy after n steps.
func byTimeColumn(n int) string { return fmt.Sprintf("spiking_test_accuracy_%d_steps", n) }

// readRows reads the rows of a spiking.csv that writeRows wrote (none if
// the file does not exist), also one written before it had the
// eval_steps column (its accuracies are after 200 steps).
func readRows(path string) ([]EpochRow, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(recs) == 0 {
		return nil, nil
	}
	col := map[string]int{}
	byTime := map[int]int{} // steps → column
	for c, name := range recs[0] {
		col[name] = c
		var n int
		if _, err := fmt.Sscanf(name, "spiking_test_accuracy_%d_steps", &n); err == nil {
			byTime[n] = c
		}
	}
	for _, name := range rowColumns[:6] {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("%s: no column %s: not a spiking.csv of this program", path, name)
		}
	}
	var rows []EpochRow
	for i, rec := range recs[1:] {
		line := i + 2
		if len(rec) != len(recs[0]) {
			return nil, fmt.Errorf("%s line %d: %d fields, want %d", path, line, len(rec), len(recs[0]))
		}
		var errs []error
		num := func(name string) float64 {
			x, err := strconv.ParseFloat(rec[col[name]], 64)
			errs = append(errs, err)
			return x
		}
		whole := func(name string) int {
			x, err := strconv.Atoi(rec[col[name]])
			errs = append(errs, err)
			return x
		}
		r := EpochRow{Epoch: whole("epoch"), Samples: whole("samples"), MeanField: num("mean_field_test_accuracy"),
			Spiking: num("spiking_test_accuracy"), RateHz: num("mean_rate"), SpikingSeconds: num("spiking_eval_seconds"),
			EvalSteps: oldEvalSteps, ByTime: map[int]float64{}}
		if _, ok := col["eval_steps"]; ok {
			r.EvalSteps = whole("eval_steps")
		}
		for n, c := range byTime {
			if rec[c] == "" {
				continue // a presentation time this row was not measured at
			}
			x, err := strconv.ParseFloat(rec[c], 64)
			errs = append(errs, err)
			r.ByTime[n] = x
		}
		if len(byTime) == 0 {
			r.ByTime[r.EvalSteps] = r.Spiking
		}
		if err := errors.Join(errs...); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, line, err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// writeRows writes spiking.csv: one column per presentation time any row
// was measured at, empty where a row was not.
func writeRows(path string, rows []EpochRow) error {
	times := presentationTimes(rows)
	return runfolder.WriteAtomic(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		head := slices.Clone(rowColumns)
		for _, n := range times {
			head = append(head, byTimeColumn(n))
		}
		cw.Write(head) //nolint:errcheck
		g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
		for _, r := range rows {
			rec := []string{strconv.Itoa(r.Epoch), strconv.Itoa(r.Samples), g(r.MeanField), g(r.Spiking), g(r.RateHz), g(r.SpikingSeconds), strconv.Itoa(r.EvalSteps)}
			for _, n := range times {
				x, ok := r.ByTime[n]
				if !ok {
					rec = append(rec, "")
					continue
				}
				rec = append(rec, g(x))
			}
			cw.Write(rec) //nolint:errcheck
		}
		cw.Flush()
		return cw.Error()
	})
}

// costRow is one measurement of -cost.
type costRow struct {
	Mode       string  // event-driven, dense, rate
	Plasticity bool    // training windows (true) or inference
	RateMax    float64 // the hidden and input neurons' maximal rate
	Rate       float64 // the hidden neurons' measured mean rate (spikes per unit of time)
	PerStep    float64 // spikes per hidden neuron per step
	MsPerStep  float64
}

// measureCost times windows of cfg's network on MNIST images at several
// maximal rates, spiking (event-driven and dense) and rate neurons, with
// and without plasticity.
func measureCost(ctx context.Context, log *zap.Logger, cfg train.Config, dataDir, out string) error {
	data, err := train.LoadData(cfg, dataDir)
	if err != nil {
		return err
	}
	pool := compute.NewPool(0)
	defer pool.Close()
	acts, _ := cfg.Acts()
	net, err := circuit.NewNetwork(cfg.Sizes(data.Train.Set.Dim, data.Classes), acts)
	if err != nil {
		return err
	}
	net.Init(rand.New(rand.NewPCG(cfg.Seed, 1)))
	net.Pool = pool
	x := mat.NewDense(cfg.Batch, data.Train.Set.Dim, nil)
	labels := make([]int, cfg.Batch)
	data.Train.Batch(x, labels, data.Norm.Table(), nil, 0)
	tg := mat.NewDense(cfg.Batch, data.Classes, nil)
	circuit.SetSoftTargets(tg, labels, cfg.TargetClassValue)
	const steps = 101
	var rows []costRow
	measure := func(c train.Config, mode string, plastic bool, rmax float64) error {
		m, err := c.MethodSpec()
		if err != nil {
			return err
		}
		ph := m.Phase("train").(train.Simulated)
		if !plastic {
			ph.Rules = nil
		}
		ph.Window = scheduler.Config{Steps: steps}
		env, err := train.NewEnv(c, m, net, c.Batch, c.Seed, pool)
		if err != nil {
			return err
		}
		circ, s, _, err := ph.Build(env, nil)
		if err != nil {
			return err
		}
		var spikes, neuronSteps float64
		s.Observe(1, func(k int, _ *scheduler.Clock) {
			for i := 1; i < net.L(); i++ {
				if v := neuron.Spikes(circ.Layer(i).Soma()); v >= 0 && k > 0 {
					m := circ.State(i).Extra[v]
					spikes += mat.Sum(m)
					r, n := m.Dims()
					neuronSteps += float64(r * n)
				}
			}
		})
		if err := s.Window(circ, x, tg); err != nil { // warm-up
			return err
		}
		spikes, neuronSteps = 0, 0
		start := time.Now()
		const windows = 3
		for range windows {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := s.Window(circ, x, tg); err != nil {
				return err
			}
		}
		row := costRow{Mode: mode, Plasticity: plastic, RateMax: rmax,
			MsPerStep: time.Since(start).Seconds() * 1e3 / (windows * (steps - 1))}
		if neuronSteps > 0 {
			row.PerStep = spikes / neuronSteps
			row.Rate = row.PerStep / ph.DT
		}
		rows = append(rows, row)
		log.Info("cost", zap.String("mode", mode), zap.Bool("plasticity", plastic), zap.Float64("rate_max", rmax),
			zap.Float64("mean_rate", row.Rate), zap.Float64("ms_per_step", row.MsPerStep))
		return nil
	}
	for _, plastic := range []bool{false, true} {
		rate := cfg
		rate.Spiking = train.Spiking{}
		if err := measure(rate, "rate", plastic, 0); err != nil {
			return err
		}
		for _, rmax := range []float64{10, 25, 50, 100, 200, 400, 800} {
			for _, ev := range []bool{true, false} {
				c := cfg
				c.Spiking.RateMax, c.Spiking.InputRateMax, c.Spiking.EventDriven = rmax, rmax, ev
				mode := "spiking, dense"
				if ev {
					mode = "spiking, event-driven"
				}
				if err := measure(c, mode, plastic, rmax); err != nil {
					return err
				}
			}
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := runfolder.WriteAtomic(filepath.Join(out, "cost.csv"), func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write([]string{"mode", "plasticity", "rate_max", "mean_rate", "spikes_per_neuron_step", "ms_per_step"}) //nolint:errcheck
		g := func(x float64) string { return strconv.FormatFloat(x, 'g', 6, 64) }
		for _, r := range rows {
			cw.Write([]string{r.Mode, strconv.FormatBool(r.Plasticity), g(r.RateMax), g(r.Rate), g(r.PerStep), g(r.MsPerStep)}) //nolint:errcheck
		}
		cw.Flush()
		return cw.Error()
	}); err != nil {
		return err
	}
	fig := plots.Figure{Cols: 2, Height: 4.5 * vg.Inch} // width: the panels and their legends
	for _, plastic := range []bool{false, true} {
		title := "inference (no plasticity)"
		if plastic {
			title = "training (plasticity at every step's taps)"
		}
		p := plots.Panel{Title: title, XLabel: "hidden neurons' mean rate (spikes per unit of time; 1000 = one per step)", YLabel: "ms per step"}
		for k, mode := range []string{"spiking, event-driven", "spiking, dense"} {
			var xs, ys []float64
			for _, r := range rows {
				if r.Mode == mode && r.Plasticity == plastic {
					xs, ys = append(xs, r.Rate), append(ys, r.MsPerStep)
				}
			}
			p.Series = append(p.Series, plots.Series{Name: mode, X: xs, Y: ys, Color: k})
		}
		for _, r := range rows {
			if r.Mode == "rate" && r.Plasticity == plastic {
				var lo, hi float64 = 0, 0
				for _, q := range rows {
					hi = max(hi, q.Rate)
				}
				p.Series = append(p.Series, plots.Series{Name: "rate neurons", X: []float64{lo, hi}, Y: []float64{r.MsPerStep, r.MsPerStep}, Color: 2, Dashed: true})
			}
		}
		fig.Panels = append(fig.Panels, p)
	}
	return fig.Save(out, "cost")
}
