//go:build unix

package live

import (
	"encoding/json"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/strongdfc/strongdfc/presets"
	"github.com/strongdfc/strongdfc/train"
)

// cpuSeconds returns the process's user and system CPU time.
func cpuSeconds(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// BenchmarkPublish is what the training goroutine pays per minibatch for
// a live page: publishing its progress.
func BenchmarkPublish(b *testing.B) {
	f := NewFeed("x")
	o := NewObserver(f, Options{})
	p := train.Progress{Phase: "train", Epoch: 1, Epochs: 40, Batches: 430, Loss: 1, Accuracy: 0.5, Control: 0.1}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p.Batch = i%430 + 1
		o.Progress(nil, p, time.Minute) // no page open: never records (nor reads the trainer)
	}
}

// BenchmarkPoll is one poll of an open page late in a published run (41
// epochs, 8 200 running points, 80 windows), answered from its cursor
// (the usual case: a few new items) and from scratch (a page opened
// late).
func BenchmarkPoll(b *testing.B) {
	f := NewFeed("x")
	f.Start(nil)
	row := train.EpochResult{Phase: "train", Diagnostics: map[string]float64{"control": 0.1, "angle_total": 40, "gn_alignment": 0.9}}
	for e := 1; e <= 41; e++ {
		row.Epoch = e
		f.Epoch(row)
		for k := 1; k <= 200; k++ {
			f.Progress(train.Progress{Phase: "train", Epoch: e, Epochs: 41, Batch: k, Batches: 200, Loss: 1, Accuracy: 0.5, Control: 0.1}, time.Hour)
		}
		f.setWindow([]byte(`{}`), UPoint{X: Num(e), UNorm: 1})
		f.setWindow([]byte(`{}`), UPoint{X: Num(e), UNorm: 1})
	}
	srv := NewServer(f)
	s := f.State(Cursor{})
	for _, c := range []struct {
		name string
		url  string
	}{
		{"cursor", "/api/runs/0?gen=1&epochs=41&running=8199&unorm=82"},
		{"scratch", "/api/runs/0"},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", "http://127.0.0.1"+c.url, nil)
			for b.Loop() {
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatal(rec.Code)
				}
			}
		})
	}
	_ = json.Valid(s.Epochs[0])
}

// BenchmarkWindow records one window of the published MNIST network (3
// samples, 500 steps) as the live page does, and reports its CPU time
// (cpu-s/op; the recording runs on one goroutine). Skipped without MNIST.
func BenchmarkWindow(b *testing.B) {
	cfg := presets.MNIST()
	data, err := train.LoadData(cfg, "")
	if err != nil {
		b.Skip(err)
	}
	tr, err := train.New(cfg, data)
	if err != nil {
		b.Fatal(err)
	}
	f := NewFeed("x")
	o := NewObserver(f, Options{})
	o.Started(tr, "")
	p := train.Progress{Phase: "train", Epoch: 1, Batch: 1, Batches: 1}
	o.net.CopyFrom(tr.Net)
	if err := o.recordWindow(p, 1); err != nil { // warm up
		b.Fatal(err)
	}
	cpu := cpuSeconds(b)
	for b.Loop() {
		o.net.CopyFrom(tr.Net)
		if err := o.recordWindow(p, 1); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((cpuSeconds(b)-cpu)/float64(b.N), "cpu-s/op")
	w, _ := f.Window()
	b.ReportMetric(float64(len(w)), "json-bytes")
}
