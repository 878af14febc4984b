package live

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/strongdfc/strongdfc/internal/trace"
	"github.com/strongdfc/strongdfc/train"
)

// TestSpikeTimes: a layer's spikes (steps × samples × neurons) become the
// spike times of the raster's neurons, per sample.
func TestSpikeTimes(t *testing.T) {
	const S, n, steps, dt = 2, 3, 4, 0.5
	l := trace.Layer{Index: 1, Neurons: []int{0}, Size: n, SpikeAll: make([]float64, steps*S*n)}
	// Sample 0: neuron 2 at steps 1 and 3; sample 1: neuron 0 at step 2.
	l.SpikeAll[(1*S+0)*n+2] = 1
	l.SpikeAll[(3*S+0)*n+2] = 1
	l.SpikeAll[(2*S+1)*n+0] = 1
	tr := &trace.Trace{DT: dt, SpikeSteps: []int{0, 1, 2, 3}, Samples: []int{7, 8}}
	got0 := spikeTimes(tr, l, 0, []int{0, 1, 2})
	got1 := spikeTimes(tr, l, 1, []int{0, 2})
	want0 := [][]Short{{}, {}, {0.5, 1.5}}
	want1 := [][]Short{{1}, {}}
	eq := func(a, b [][]Short) bool {
		return slices.EqualFunc(a, b, func(x, y []Short) bool { return slices.Equal(x, y) })
	}
	if !eq(got0, want0) || !eq(got1, want1) {
		t.Errorf("spike times %v and %v; want %v and %v", got0, got1, want0, want1)
	}
	// A silent neuron is an empty list in JSON, not null.
	if b, _ := json.Marshal(got1); string(b) != "[[1],[]]" {
		t.Errorf("JSON %s", b)
	}
}

// TestSpikingWindow: the window of a run with spiking hidden neurons has
// a raster of each hidden layer (none of the rate output layer), with
// spikes at times of the window.
func TestSpikingWindow(t *testing.T) {
	cfg, data := tiny(t)
	cfg.Epochs = 1
	cfg.Pretrain.Epochs = 0
	cfg.Spiking = train.Spiking{RateMax: 400, TauSyn: 0.01, InputRateMax: 400, EventDriven: true}
	out := t.TempDir()
	feed := NewFeed("spiking")
	obs := NewObserver(feed, Options{Every: time.Hour})
	runTiny(t, cfg, data, out, "run", obs)
	obs.Wait()
	b, err := os.ReadFile(filepath.Join(out, "run", WindowFile))
	if err != nil {
		t.Fatal(err)
	}
	var w Window
	if err := json.Unmarshal(b, &w); err != nil {
		t.Fatal(err)
	}
	last := float64(cfg.Dynamics.Steps-1) * cfg.Dynamics.DT
	for _, s := range w.Samples {
		spikes := 0
		for _, l := range s.Layers {
			hidden := l.Layer < len(cfg.Hidden)+1
			if !hidden {
				if l.Spikes != nil || l.SpikeNeurons != nil {
					t.Errorf("sample %d: the output layer (rate neurons) has a raster", s.Index)
				}
				continue
			}
			if len(l.SpikeNeurons) != min(rasterNeurons, cfg.Hidden[l.Layer-1]) || len(l.Spikes) != len(l.SpikeNeurons) {
				t.Fatalf("sample %d, layer %d: %d raster neurons, %d spike lists", s.Index, l.Layer, len(l.SpikeNeurons), len(l.Spikes))
			}
			for _, times := range l.Spikes {
				for i, x := range times {
					if x < 0 || float64(x) > last+1e-12 || (i > 0 && x <= times[i-1]) {
						t.Fatalf("sample %d, layer %d: spike times %v (window 0..%g)", s.Index, l.Layer, times, last)
					}
				}
				spikes += len(times)
			}
		}
		// 32 neurons at up to 0.4 spikes a step for 16 steps, around half
		// that on average: some hundred spikes, surely more than 10.
		if spikes < 10 {
			t.Errorf("sample %d: only %d spikes in the rasters", s.Index, spikes)
		}
	}
}
