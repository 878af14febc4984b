// Command noise is the noise study: it trains single-phase Strong-DFC and
// DFC with weak feedback while noise of increasing size is added to every
// somatic voltage at every step of the training windows
// (v += σ·ξ, train.Config.SomaSigma), several seeds each, and reports the
// final test accuracy and the angle between the forward updates and the
// backprop gradient (on the last minibatch) for every level, as a table
// and a plot.
//
//	go run -tags openblas ./experiments/noise
//	go run -tags openblas ./experiments/noise -spiking 0.4 -levels 0,0.01 -out noise-spiking
//
// With -spiking the hidden neurons spike and the input comes as spike
// trains (presets.Spiking, with the given maximal probability of a spike
// per step): the spikes are a noise of their own, on top of σ.
//
// Pre-training does not see the somatic noise, so each seed pre-trains
// once and every level continues from it (bit for bit the run it would make
// from the start; train.Trainer.RestorePretrained).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/internal/command"
	"github.com/strongdfc/strongdfc/internal/plots"
	"github.com/strongdfc/strongdfc/presets"
	"github.com/strongdfc/strongdfc/train"
)

// Run is one training run of the study.
type Run struct {
	Method         string  `json:"method"`
	Sigma          float64 `json:"sigma"`
	Seed           uint64  `json:"seed"`
	TrainSamples   int     `json:"train_samples"`
	Epochs         int     `json:"epochs"`
	PretrainEpochs int     `json:"pretrain_epochs"`
	TestAccuracy   float64 `json:"test_accuracy"`
	Angle          float64 `json:"angle_total"`
	GNAlignment    float64 `json:"gn_alignment"`
	Control        float64 `json:"control"`
	Seconds        float64 `json:"seconds"`
	Backend        string  `json:"backend"`
	// Batch is the minibatch size; SpikingRate the maximal rate of the
	// spiking hidden neurons and input trains (0: rate neurons).
	Batch       int     `json:"batch"`
	SpikingRate float64 `json:"spiking_rate,omitempty"`
}

func main() {
	levelsFlag := flag.String("levels", "0,0.001,0.01,0.03,0.1", "comma-separated somatic noise `levels` σ")
	methods := flag.String("methods", "strong-dfc,dfc", "comma-separated `methods`")
	dataset := flag.String("dataset", "mnist", "data `set`")
	seeds := flag.Int("seeds", 2, "number of `seeds` per level (1, 2, ...)")
	limit := flag.Int("train-limit", 5000, "training `samples` per run (0: all)")
	epochs := flag.Int("epochs", 1, "training `epochs` per run")
	pretrain := flag.Int("pretrain-epochs", -1, "feedback pre-training `epochs` (−1: the preset's)")
	spiking := flag.Float64("spiking", 0, "spiking hidden neurons and spike-train inputs with at most this `probability` of a spike per step (presets.Spiking's is 0.4; 0: rate neurons): the question for spikes, whose own noise adds to σ")
	batch := flag.Int("batch", 0, "minibatch `size` (0: the preset's)")
	out := flag.String("out", "noise-study", "output `folder` (runs.jsonl, table.md, noise.png, noise.csv)")
	dataDir := flag.String("data", "", "`folder` with the IDX files")
	replot := flag.Bool("replot", false, "run nothing: draw table.md and noise.png (and noise.csv) again from the runs.jsonl in -out")
	cs := command.Parse()
	defer cs.Close()
	log, ctx := cs.Log, cs.Ctx
	if *replot {
		runs, err := readRuns(filepath.Join(*out, "runs.jsonl"))
		if err != nil {
			log.Fatal("replot", zap.Error(err))
		}
		lv := levelsOf(runs)
		if err := os.WriteFile(filepath.Join(*out, "table.md"), []byte(summarize(runs, lv)), 0o644); err != nil {
			log.Fatal("table", zap.Error(err))
		}
		if err := figure(runs, lv).Save(*out, "noise"); err != nil {
			log.Fatal("plot", zap.Error(err))
		}
		log.Info("redrawn", zap.String("out", *out), zap.Int("runs", len(runs)), zap.Float64s("levels", lv))
		return
	}

	var levels []float64
	for _, s := range strings.Split(*levelsFlag, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || v < 0 || math.IsNaN(v) {
			log.Fatal("bad -levels: each level must be a non-negative number", zap.String("level", s))
		}
		levels = append(levels, v)
	}
	jf := cs.Append(*out, "runs.jsonl")
	defer jf.Close()

	var runs []Run
	for _, m := range strings.Split(*methods, ",") {
		base, err := presets.Lookup(*dataset + "-" + m)
		if err != nil {
			log.Fatal("preset", zap.Error(err))
		}
		base.Epochs, base.TrainLimit = *epochs, *limit
		if *batch > 0 {
			base.Batch = *batch
		}
		if !(*spiking >= 0 && *spiking <= 1) {
			log.Fatal("bad -spiking: the probability of a spike per step must be in (0, 1], or 0 for rate neurons", zap.Float64("spiking", *spiking))
		}
		if *spiking > 0 {
			// The methods' steps differ (Strong-DFC's dt is 0.001, weak
			// DFC's 0.02; both have dt/τ_v ≈ 0.1): the same probability per
			// step and synaptic traces of 10 steps (presets.Spiking's
			// τ_s = 0.01 at dt = 0.001) give both the same spike noise per
			// membrane time constant.
			dt := base.Dynamics.DT
			base = presets.Spiking(base)
			base.Spiking.RateMax, base.Spiking.InputRateMax = *spiking/dt, *spiking/dt
			base.Spiking.TauSyn = 10 * dt
		}
		if *pretrain >= 0 {
			base.Pretrain.Epochs = *pretrain
		}
		data, err := train.LoadData(base, *dataDir)
		if err != nil {
			log.Fatal("data", zap.Error(err))
		}
		for s := 1; s <= *seeds; s++ {
			cfg := base
			cfg.Seed = uint64(s)
			pre, err := train.New(cfg, data, train.Options{Pool: cs.Pool})
			if err != nil {
				log.Fatal("config", zap.Error(err))
			}
			for !pre.PretrainDone() {
				if _, err := pre.Next(ctx, nil); err != nil {
					log.Fatal("pre-training", zap.Error(err))
				}
			}
			snap, err := pre.Snapshot()
			if err != nil {
				log.Fatal("snapshot", zap.Error(err))
			}
			for _, sigma := range levels {
				r, err := runLevel(ctx, cfg, data, snap, sigma, cs.Pool)
				if err != nil {
					log.Error("run failed", zap.String("method", m), zap.Float64("sigma", sigma), zap.Uint64("seed", cfg.Seed), zap.Error(err))
					if ctx.Err() != nil {
						return
					}
					continue
				}
				b, _ := json.Marshal(r)
				fmt.Fprintln(jf, string(b))
				jf.Sync()
				runs = append(runs, r)
				log.Info("run", zap.String("method", m), zap.Float64("sigma", sigma), zap.Uint64("seed", cfg.Seed),
					zap.Float64("test_accuracy", r.TestAccuracy), zap.Float64("angle", r.Angle), zap.Float64("seconds", r.Seconds))
			}
		}
	}
	table := summarize(runs, levels)
	if err := os.WriteFile(filepath.Join(*out, "table.md"), []byte(table), 0o644); err != nil {
		log.Error("table", zap.Error(err))
	}
	if err := figure(runs, levels).Save(*out, "noise"); err != nil {
		log.Error("plot", zap.Error(err))
	}
	fmt.Print(table)
}

// runLevel trains cfg with somatic noise sigma, continuing from the
// pre-trained state snap.
func runLevel(ctx context.Context, cfg train.Config, data *train.Data, snap *train.Snapshot, sigma float64, pool *compute.Pool) (Run, error) {
	start := time.Now()
	cfg.SomaSigma = sigma
	tr, err := train.New(cfg, data, train.Options{Pool: pool})
	if err != nil {
		return Run{}, err
	}
	if err := tr.RestorePretrained(snap); err != nil {
		return Run{}, err
	}
	r := Run{Method: cfg.Method, Sigma: sigma, Seed: cfg.Seed, Epochs: cfg.Epochs, PretrainEpochs: cfg.Pretrain.Epochs,
		TrainSamples: data.Train.Len(), Backend: compute.Backend(), Angle: math.NaN(), GNAlignment: math.NaN(), Control: math.NaN(),
		Batch: cfg.Batch, SpikingRate: cfg.Spiking.RateMax}
	for !tr.Done() {
		e, err := tr.Next(ctx, nil)
		if err != nil {
			return Run{}, err
		}
		if e.Phase == "train" {
			r.TestAccuracy = e.TestAccuracy
			for k, dst := range map[string]*float64{"angle_total": &r.Angle, "gn_alignment": &r.GNAlignment, "control": &r.Control} {
				if v, ok := e.Diagnostics[k]; ok {
					*dst = v
				}
			}
		}
	}
	r.Seconds = time.Since(start).Seconds()
	return r, nil
}

type stat struct{ mean, sd float64 }

func meanSD(x []float64) stat {
	var s, s2 float64
	n := 0
	for _, v := range x {
		if !math.IsNaN(v) {
			s += v
			s2 += v * v
			n++
		}
	}
	if n == 0 {
		return stat{math.NaN(), math.NaN()}
	}
	m := s / float64(n)
	if n == 1 {
		return stat{m, 0}
	}
	return stat{m, math.Sqrt(math.Max(s2/float64(n)-m*m, 0) * float64(n) / float64(n-1))}
}

// group returns, per method and level, the runs' test accuracies and
// angles.
func group(runs []Run) map[string]map[float64][]Run {
	g := map[string]map[float64][]Run{}
	for _, r := range runs {
		if g[r.Method] == nil {
			g[r.Method] = map[float64][]Run{}
		}
		g[r.Method][r.Sigma] = append(g[r.Method][r.Sigma], r)
	}
	return g
}

func summarize(runs []Run, levels []float64) string {
	var b strings.Builder
	b.WriteString("| method | σ (somatic) | test accuracy (mean ± sd) | angle to backprop (°) | GN alignment | seeds | training samples × epochs |\n|---|---|---|---|---|---|---|\n")
	g := group(runs)
	for _, m := range order(g) {
		for _, s := range levels {
			rs := g[m][s]
			if len(rs) == 0 {
				continue
			}
			var acc, ang, gn []float64
			for _, r := range rs {
				acc, ang, gn = append(acc, r.TestAccuracy), append(ang, r.Angle), append(gn, r.GNAlignment)
			}
			a, t, n := meanSD(acc), meanSD(ang), meanSD(gn)
			fmt.Fprintf(&b, "| %s | %g | %.2f ± %.2f %% | %.1f ± %.1f | %.3f | %d | %d × %d |\n", m, s, 100*a.mean, 100*a.sd, t.mean, t.sd, n.mean, len(rs), rs[0].TrainSamples, rs[0].Epochs)
		}
	}
	return b.String()
}

func order(g map[string]map[float64][]Run) []string {
	var ms []string
	for _, m := range []string{train.MethodStrongDFC, train.MethodDFC} {
		if g[m] != nil {
			ms = append(ms, m)
		}
	}
	for m := range g {
		if m != train.MethodStrongDFC && m != train.MethodDFC {
			ms = append(ms, m)
		}
	}
	return ms
}

// figure plots accuracy and angle against log10 σ (σ > 0), one line per
// method with a marker at every level, and the noiseless runs as dashed
// horizontal lines across the panel, half a decade beyond the levels on
// either side, so that they read as references even when a study has a
// single σ > 0.
func figure(runs []Run, levels []float64) plots.Figure {
	acc := plots.Panel{Title: "test accuracy under somatic noise", XLabel: "log10 σ", YLabel: "test accuracy (%)"}
	ang := plots.Panel{Title: "angle between the update and backprop", XLabel: "log10 σ", YLabel: "degrees"}
	if slices.ContainsFunc(runs, func(r Run) bool { return r.SpikingRate > 0 }) {
		acc.Title += ", spiking neurons"
		ang.Title += ", spiking neurons"
	}
	g := group(runs)
	var xs []float64
	for _, s := range levels {
		if s > 0 {
			xs = append(xs, math.Log10(s))
		}
	}
	var span []float64 // the x range of the references
	if len(xs) > 0 {
		span = []float64{slices.Min(xs) - 0.5, slices.Max(xs) + 0.5}
		for _, p := range []*plots.Panel{&acc, &ang} {
			p.XMin, p.XMax = span[0], span[1]
		}
	}
	for i, m := range order(g) {
		var ya, yt []float64
		for _, s := range levels {
			var a, t []float64
			for _, r := range g[m][s] {
				a, t = append(a, 100*r.TestAccuracy), append(t, r.Angle)
			}
			if s == 0 {
				if len(a) > 0 && span != nil {
					ba, bt := meanSD(a).mean, meanSD(t).mean
					acc.Series = append(acc.Series, plots.Series{Name: m + ", σ = 0", X: span, Y: []float64{ba, ba}, Color: i, Dashed: true})
					ang.Series = append(ang.Series, plots.Series{Name: m + ", σ = 0", X: span, Y: []float64{bt, bt}, Color: i, Dashed: true})
				}
				continue
			}
			ya, yt = append(ya, meanSD(a).mean), append(yt, meanSD(t).mean)
		}
		acc.Series = append(acc.Series, plots.Series{Name: m, X: xs, Y: ya, Color: i, Marker: "circle"})
		ang.Series = append(ang.Series, plots.Series{Name: m, X: xs, Y: yt, Color: i, Marker: "circle"})
	}
	return plots.Figure{Panels: []plots.Panel{acc, ang}, Cols: 2}
}

// readRuns reads the runs of a study from its runs.jsonl.
func readRuns(path string) ([]Run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var runs []Run
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r Run
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		runs = append(runs, r)
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("%s holds no runs", path)
	}
	return runs, nil
}

// levelsOf returns the noise levels of runs, in increasing order.
func levelsOf(runs []Run) []float64 {
	var lv []float64
	for _, r := range runs {
		if !slices.Contains(lv, r.Sigma) {
			lv = append(lv, r.Sigma)
		}
	}
	slices.Sort(lv)
	return lv
}
