package live

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strongdfc/strongdfc/checkpoint/npz"
	"github.com/strongdfc/strongdfc/internal/config"
	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/internal/runner"
	"github.com/strongdfc/strongdfc/internal/synth"
	"github.com/strongdfc/strongdfc/train"
)

// writeData writes a small MNIST-like data set (8×8 images, 10 classes,
// each a bright row and column at its own place) and returns its folder.
func writeData(t testing.TB, ntrain, ntest int) string {
	t.Helper()
	dir := t.TempDir()
	if err := synth.WriteIDX(dir, ntrain, ntest); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tinyYAML is a configuration that trains in a fraction of a second.
const tinyYAML = `hidden: [16, 16]
epochs: 3
batch: 16
validation: 32
dynamics: {steps: 16}
pretrain:
  dynamics: {steps: 12}
forward: {lr: 0.01}
`

// tiny returns the tiny configuration and a data folder for it.
func tiny(t testing.TB) (train.Config, string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "tiny.yaml")
	if err := os.WriteFile(f, []byte(tinyYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := config.Resolve(config.Sources{File: f})
	if err != nil {
		t.Fatal(err)
	}
	return cfg, writeData(t, 128, 64)
}

// runTiny trains cfg in the run folder out/name, watched by obs (nil:
// none), and returns the summary.
func runTiny(t *testing.T, cfg train.Config, data, out, name string, obs runner.Observer) runner.Summary {
	t.Helper()
	opt := runner.Options{DataDir: data, Out: out, Name: name, Command: []string{"test"}}
	if obs != nil {
		opt.Observer = obs
	}
	sum, err := runner.Run(context.Background(), cfg, opt)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	r, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if r.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", url, r.Status, b)
	}
	return b
}

func getState(t *testing.T, url string) State {
	t.Helper()
	var s State
	if err := json.Unmarshal(get(t, url), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// lines returns a file's lines.
func lines(t *testing.T, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimSpace(b), []byte("\n"))
}

// TestEndpoints: during and after a live run, the endpoints hold what the
// run folder holds (metrics.jsonl row for row, window.json byte for byte,
// config.yaml, the summary's status), the running means end at each
// epoch's row, and a feed loaded from the folder alone serves the same.
func TestEndpoints(t *testing.T) {
	cfg, data := tiny(t)
	if testing.Short() {
		cfg.Epochs = 1 // the race detector makes every run slow
	}
	out := t.TempDir()
	feed := NewFeed("tiny")
	feed.Touch() // a page is open: windows every minibatch
	obs := NewObserver(feed, Options{Every: time.Nanosecond})
	srv := httptest.NewServer(NewServer(feed))
	defer srv.Close()
	var during []State
	var mu sync.Mutex
	done := make(chan struct{})
	go func() { // a page polling while the run trains
		defer close(done)
		for range 50 {
			mu.Lock()
			s := getState(t, srv.URL+"/api/runs/0")
			during = append(during, s)
			mu.Unlock()
			if s.Status != StatusStarting && s.Status != StatusRunning {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	sum := runTiny(t, cfg, data, out, "run", obs)
	obs.Wait()
	feed.Finish(sum.Status, sum, nil)
	<-done
	dir := filepath.Join(out, "run")

	st := getState(t, srv.URL+"/api/runs/0")
	if st.Status != "done" || st.Reset != true {
		t.Errorf("status %q, reset %v; want done, true", st.Status, st.Reset)
	}
	rows := lines(t, filepath.Join(dir, runfolder.MetricsJS))
	if want := cfg.Pretrain.Epochs + cfg.Epochs; len(rows) != want || len(st.Epochs) != want {
		t.Fatalf("%d rows in metrics.jsonl, %d from the server; want %d", len(rows), len(st.Epochs), want)
	}
	for i := range rows {
		if !bytes.Equal(rows[i], st.Epochs[i]) {
			t.Errorf("epoch %d: metrics.jsonl has\n%s\nthe server\n%s", i, rows[i], st.Epochs[i])
		}
	}
	// The running means at each epoch's last minibatch are the epoch's
	// row (train loss, accuracy and the amount of control H).
	var results []train.EpochResult
	for _, r := range rows {
		var e train.EpochResult
		if err := json.Unmarshal(r, &e); err != nil {
			t.Fatal(err)
		}
		results = append(results, e)
	}
	ends := map[float64]Point{}
	for _, p := range st.Running {
		if x := float64(p.X); x == math.Round(x) {
			ends[x] = p
		}
	}
	for _, e := range results {
		x := float64(e.Epoch)
		if e.Phase == "pretrain" {
			x -= float64(cfg.Pretrain.Epochs)
		}
		p, ok := ends[x]
		if !ok {
			t.Errorf("%s epoch %d: no running point at x = %g", e.Phase, e.Epoch, x)
			continue
		}
		if float64(p.Loss) != e.TrainLoss || float64(p.Accuracy) != e.TrainAccuracy || float64(p.Control) != e.Diagnostics["control"] {
			t.Errorf("%s epoch %d: running point %+v, epoch's row loss %g accuracy %g control %g", e.Phase, e.Epoch, p, e.TrainLoss, e.TrainAccuracy, e.Diagnostics["control"])
		}
	}
	// The first point is the first pre-training minibatch's.
	batches := (128 - 32 + cfg.Batch - 1) / cfg.Batch
	if x := float64(st.Running[0].X); st.Running[0].Phase != "pretrain" || math.Abs(x-(1/float64(batches)-float64(cfg.Pretrain.Epochs))) > 1e-12 {
		t.Errorf("the first running point is %+v", st.Running[0])
	}
	if len(during) < 2 {
		t.Errorf("the page polled %d times during the run", len(during))
	}
	var info Info
	if err := json.Unmarshal(get(t, srv.URL+"/api/runs/0/info"), &info); err != nil {
		t.Fatal(err)
	}
	y, _ := os.ReadFile(filepath.Join(dir, runfolder.Config))
	if info.ConfigYAML != string(y) || info.Name != "run" || info.PretrainEpochs != cfg.Pretrain.Epochs || !info.Windows || !json.Valid(info.Meta) {
		t.Errorf("info %+v", info)
	}
	win := get(t, srv.URL+"/api/runs/0/window")
	saved, err := os.ReadFile(filepath.Join(dir, WindowFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(win, saved) {
		t.Errorf("the window served (%d bytes) is not window.json (%d bytes)", len(win), len(saved))
	}
	var w Window
	if err := json.Unmarshal(win, &w); err != nil {
		t.Fatal(err)
	}
	T := cfg.Dynamics.Steps
	if len(w.Samples) != 3 || len(w.Outputs) != 10 || len(w.Samples[0].Layers) != 3 || len(w.T) != T ||
		math.Abs(float64(w.T[len(w.T)-1])-float64(T-1)*cfg.Dynamics.DT) > 1e-12 || len(w.Samples[0].U[0]) != len(w.T) {
		t.Errorf("window: %d samples, %d outputs, %d times (last %g)", len(w.Samples), len(w.Outputs), len(w.T), w.T[len(w.T)-1])
	}
	// The recording's CPU time is measured on Linux: positive, and no more
	// than its wall time (one goroutine on one thread).
	if c := float64(w.CPUSeconds); runtime.GOOS == "linux" && !(c > 0 && c <= w.Seconds+1e-3) {
		t.Errorf("the window took %g s of CPU time in %g s", c, w.Seconds)
	}
	if w.Phase != "train" || w.Epoch != cfg.Epochs || w.X != float64(cfg.Epochs) {
		t.Errorf("the last window is of %s epoch %d at x = %g; want the run's end", w.Phase, w.Epoch, w.X)
	}
	if len(st.UNorm) < 2 || len(w.History) != len(st.UNorm) || !(w.UNorm > 0) {
		t.Errorf("%d ‖ū‖ points served, %d in the window's history; ‖ū‖ = %g", len(st.UNorm), len(w.History), w.UNorm)
	}
	// The output's softmax sums to 1 over the ten classes.
	for r := range w.T {
		var s float64
		for i := range w.Outputs {
			s += float64(w.Samples[0].Output[i][r])
		}
		if math.Abs(s-1) > 1e-3 {
			t.Fatalf("record %d: softmax sums to %g", r, s)
		}
	}

	// A cursor gets only what is new; a stale generation starts again.
	tail := getState(t, fmt.Sprintf("%s/api/runs/0?gen=%d&epochs=%d&running=%d&unorm=%d", srv.URL, st.Gen, len(rows)-1, len(st.Running), len(st.UNorm)))
	if tail.Reset || len(tail.Epochs) != 1 || !bytes.Equal(tail.Epochs[0], rows[len(rows)-1]) || len(tail.Running) != 0 || len(tail.UNorm) != 0 {
		t.Errorf("after the cursor: reset %v, %d epochs, %d running, %d ‖ū‖", tail.Reset, len(tail.Epochs), len(tail.Running), len(tail.UNorm))
	}
	if s := getState(t, fmt.Sprintf("%s/api/runs/0?gen=%d&epochs=%d", srv.URL, st.Gen+7, len(rows))); !s.Reset || len(s.Epochs) != len(rows) {
		t.Errorf("stale generation: reset %v, %d epochs", s.Reset, len(s.Epochs))
	}

	// The same run from its folder alone.
	ff, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	fsrv := httptest.NewServer(NewServer(ff))
	defer fsrv.Close()
	fs := getState(t, fsrv.URL+"/api/runs/0")
	if fs.Status != "done" || len(fs.Epochs) != len(rows) || len(fs.UNorm) != len(st.UNorm) || fs.Progress != nil {
		t.Errorf("from the folder: status %q, %d epochs, %d ‖ū‖ points", fs.Status, len(fs.Epochs), len(fs.UNorm))
	}
	for i := range rows {
		if !bytes.Equal(rows[i], fs.Epochs[i]) {
			t.Errorf("from the folder, epoch %d differs", i)
		}
	}
	if b := get(t, fsrv.URL+"/api/runs/0/window"); !bytes.Equal(b, saved) {
		t.Error("from the folder, the window is not window.json")
	}
	var finfo Info
	json.Unmarshal(get(t, fsrv.URL+"/api/runs/0/info"), &finfo) //nolint:errcheck
	if finfo.ConfigYAML != string(y) || finfo.Live || finfo.PretrainEpochs != cfg.Pretrain.Epochs || finfo.Method != cfg.Method {
		t.Errorf("from the folder, info %+v", finfo)
	}
	var sumFile runner.Summary
	b, _ := os.ReadFile(filepath.Join(dir, runfolder.Summary))
	json.Unmarshal(b, &sumFile) //nolint:errcheck
	var served runner.Summary
	json.Unmarshal(fs.Summary, &served) //nolint:errcheck
	if served.TestAccuracy != sumFile.TestAccuracy || served.Epochs != cfg.Epochs {
		t.Errorf("from the folder, summary %+v", served)
	}
}

// TestSameBits: training with a live page open, windows recorded as often
// as they can be, ends with the same checkpoint, weights and metrics bits
// as training without (run it with -race too: the recording goroutine
// shares nothing with training).
func TestSameBits(t *testing.T) {
	cfg, data := tiny(t)
	if testing.Short() {
		cfg.Epochs = 1
	}
	out := t.TempDir()
	runTiny(t, cfg, data, out, "plain", nil)
	feed := NewFeed("x")
	feed.Touch()
	obs := NewObserver(feed, Options{Every: time.Nanosecond, Samples: 5})
	runTiny(t, cfg, data, out, "watched", obs)
	obs.Wait()
	if _, seq := feed.Window(); seq < 2 {
		t.Fatalf("only %d windows were recorded; the test needs them to overlap training", seq)
	}
	a, _ := os.ReadFile(filepath.Join(out, "plain", runfolder.Weights))
	b, _ := os.ReadFile(filepath.Join(out, "watched", runfolder.Weights))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("%s differs with a live page (%d and %d bytes)", runfolder.Weights, len(a), len(b))
	}
	// The checkpoints differ only in the times of the history.
	arrays := func(name string) map[string]string {
		b, _ := os.ReadFile(filepath.Join(out, name, runfolder.Checkpoint))
		as, err := npz.Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, a := range as {
			if a.Name != "history.json" {
				m[a.Name] = fmt.Sprint(a.Shape, a.Data)
			}
		}
		return m
	}
	ca, cb := arrays("plain"), arrays("watched")
	if len(ca) < 10 || len(ca) != len(cb) {
		t.Errorf("the checkpoints have %d and %d arrays", len(ca), len(cb))
	}
	for k, v := range ca {
		if cb[k] != v {
			t.Errorf("checkpoint array %s differs with a live page", k)
		}
	}
	strip := func(name string) []string {
		var rows []string
		for _, l := range lines(t, filepath.Join(out, name, runfolder.MetricsJS)) {
			var m map[string]any
			json.Unmarshal(l, &m) //nolint:errcheck
			delete(m, "seconds")
			delete(m, "eval_seconds")
			b, _ := json.Marshal(m)
			rows = append(rows, string(b))
		}
		return rows
	}
	if a, b := strip("plain"), strip("watched"); strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("metrics differ:\n%s\n%s", a, b)
	}
	if _, err := os.Stat(filepath.Join(out, "plain", WindowFile)); err == nil {
		t.Error("a run without a live page wrote window.json")
	}
}

// stuckWriter is a ResponseWriter whose Write blocks until release is
// closed: a client that reads nothing.
type stuckWriter struct {
	h       http.Header
	writing chan struct{}
	release chan struct{}
}

func (w *stuckWriter) Header() http.Header { return w.h }
func (w *stuckWriter) WriteHeader(int)     {}
func (w *stuckWriter) Write(b []byte) (int, error) {
	w.writing <- struct{}{}
	<-w.release
	return len(b), nil
}

// TestStuckClient: requests stuck in writing their answers hold nothing
// the training goroutine's publications wait for.
func TestStuckClient(t *testing.T) {
	feed := NewFeed("x")
	feed.Start(nil)
	feed.setWindow([]byte(`{}`), UPoint{})
	srv := NewServer(feed)
	release := make(chan struct{})
	writing := make(chan struct{}, 16)
	var wg sync.WaitGroup
	paths := []string{"/api/runs/0", "/api/runs/0/window", "/api/runs/0/info", "/api/runs", "/"}
	for _, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest("GET", "http://127.0.0.1"+p, nil)
			srv.ServeHTTP(&stuckWriter{h: http.Header{}, writing: writing, release: release}, req)
		}()
	}
	for range paths {
		<-writing // every request is now stuck in Write
	}
	start := time.Now()
	p := train.Progress{Phase: "train", Epoch: 1, Epochs: 1, Batches: 1000}
	for i := range 1000 {
		p.Batch = i + 1
		feed.Progress(p, time.Second)
	}
	feed.Epoch(train.EpochResult{Phase: "train", Epoch: 1})
	feed.setWindow([]byte(`{"a":1}`), UPoint{})
	feed.Finish("done", map[string]string{"status": "done"}, nil)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("publishing took %v with stuck clients", d)
	}
	if s := feed.State(Cursor{}); s.Status != "done" || len(s.Running) == 0 {
		t.Errorf("state %q with %d running points", s.Status, len(s.Running))
	}
	close(release)
	wg.Wait()
}

// TestSlowClientRun: a client that sends requests and never reads the
// answers, over real connections, does not slow the training loop: a run
// with such clients ends as soon as one without.
func TestSlowClientRun(t *testing.T) {
	if testing.Short() {
		t.Skip("TestStuckClient checks the same in short mode")
	}
	cfg, data := tiny(t)
	cfg.Epochs = 2
	out := t.TempDir()
	feed := NewFeed("x")
	feed.setWindow(bytes.Repeat([]byte("x"), 4<<20), UPoint{}) // a large answer that fills the socket buffers
	obs := NewObserver(feed, Options{Every: time.Nanosecond})
	srv := httptest.NewServer(NewServer(feed))
	defer srv.Close()
	var conns []net.Conn
	for range 4 {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		w := bufio.NewWriter(c)
		for range 20 {
			fmt.Fprintf(w, "GET /api/runs/0/window HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /api/runs/0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
		}
		w.Flush()
		conns = append(conns, c)
	}
	time.Sleep(50 * time.Millisecond)
	t0 := time.Now()
	runTiny(t, cfg, data, out, "slow", obs)
	slow := time.Since(t0)
	obs.Wait()
	t0 = time.Now()
	runTiny(t, cfg, data, out, "alone", nil)
	alone := time.Since(t0)
	if slow > 10*alone+2*time.Second {
		t.Errorf("the run took %v with clients that do not read, %v without", slow, alone)
	}
	if s := feed.State(Cursor{}); len(s.Epochs) != cfg.Pretrain.Epochs+cfg.Epochs {
		t.Errorf("the feed has %d epochs", len(s.Epochs))
	}
	_ = conns
}

// TestListen: loopback addresses are served; others only when allowed.
func TestListen(t *testing.T) {
	for _, a := range []string{"127.0.0.1:0", ":0", "localhost:0"} {
		ln, loop, err := Listen(a, false)
		if err != nil || !loop {
			t.Errorf("Listen(%q): loopback %v, %v", a, loop, err)
			continue
		}
		if !strings.HasPrefix(URL(ln), "http://127.0.0.1:") {
			t.Errorf("Listen(%q) serves at %s", a, URL(ln))
		}
		ln.Close()
	}
	if _, _, err := Listen("0.0.0.0:0", false); err == nil || !strings.Contains(err.Error(), "--allow-remote") || !strings.Contains(err.Error(), "not a loopback") {
		t.Errorf("Listen(0.0.0.0:0) without permission: %v", err)
	}
	ln, loop, err := Listen("0.0.0.0:0", true)
	if err != nil || loop {
		t.Errorf("Listen(0.0.0.0:0) allowed: loopback %v, %v", loop, err)
	} else {
		ln.Close()
	}
	if _, _, err := Listen("8040", false); err == nil || !strings.Contains(err.Error(), "HOST:PORT") {
		t.Errorf("Listen(8040): %v", err)
	}
}

// TestServer: the page and its assets are served from the binary; a
// loopback-only server refuses other Host names; bad ids and cursors are
// clear errors; only GET is answered.
func TestServer(t *testing.T) {
	feed := NewFeed("x")
	s := NewServer(feed)
	s.LoopbackOnly = true
	do := func(method, host, path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "http://"+host+path, nil)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec
	}
	for _, c := range []struct {
		method, host, path string
		code               int
		has                string
	}{
		{"GET", "127.0.0.1:8040", "/", 200, `<script src="assets/app.js">`},
		{"GET", "localhost:8040", "/assets/app.js", 200, "function chart("},
		{"GET", "[::1]:8040", "/assets/style.css", 200, ".chart"},
		{"GET", "evil.example:8040", "/", 403, "loopback"},
		{"GET", "127.0.0.1", "/api/runs/1", 404, "the ids are 0 to 0"},
		{"GET", "127.0.0.1", "/api/runs/x", 404, "no run"},
		{"GET", "127.0.0.1", "/api/runs/0?epochs=z", 400, "whole number"},
		{"GET", "127.0.0.1", "/api/runs/0/window", 204, ""},
		{"POST", "127.0.0.1", "/api/runs/0", 405, ""},
		{"GET", "127.0.0.1", "/api/runs", 200, `"name":"x"`},
	} {
		rec := do(c.method, c.host, c.path)
		if rec.Code != c.code || !strings.Contains(rec.Body.String(), c.has) {
			t.Errorf("%s %s%s: %d %.80q; want %d with %q", c.method, c.host, c.path, rec.Code, rec.Body.String(), c.code, c.has)
		}
	}
	// Nothing on the page comes from elsewhere.
	for _, f := range []string{"assets/index.html", "assets/app.js", "assets/style.css"} {
		b, _ := assets.ReadFile(f)
		b = bytes.ReplaceAll(b, []byte(`"http://www.w3.org/2000/svg"`), nil) // a name, not an address
		if bytes.Contains(b, []byte("http://")) || bytes.Contains(b, []byte("https://")) || bytes.Contains(b, []byte("//cdn")) {
			t.Errorf("%s refers to another site", f)
		}
	}
	if csp := do("GET", "127.0.0.1", "/").Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
}

// TestLoad: a folder that is not a run's is a clear error; a run that
// another process trains gains its epochs (a line being written is left
// for later).
func TestLoad(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("Load of a missing folder succeeded")
	}
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644) //nolint:errcheck
	if _, err := Load(file); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Errorf("Load of a file: %v", err)
	}
	dir := t.TempDir()
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "not a run folder") {
		t.Errorf("Load of an empty folder: %v", err)
	}
	os.WriteFile(filepath.Join(dir, runfolder.Config), []byte("preset: mnist-dfc\nepochs: 3\n"), 0o644) //nolint:errcheck
	row := func(e int) string { return fmt.Sprintf(`{"phase":"train","epoch":%d,"train_loss":1}`, e) }
	os.WriteFile(filepath.Join(dir, runfolder.MetricsJS), []byte(row(1)+"\n"), 0o644) //nolint:errcheck
	f, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	f.Touch()
	s := f.State(Cursor{})
	if in := f.Info(); s.Status != StatusUnknown || len(s.Epochs) != 1 || in.Method != "dfc" || in.PretrainEpochs == 0 {
		t.Errorf("status %q, %d epochs, info %+v", s.Status, len(s.Epochs), in)
	}
	// Another process appends an epoch and starts the next line.
	fh, _ := os.OpenFile(filepath.Join(dir, runfolder.MetricsJS), os.O_APPEND|os.O_WRONLY, 0)
	fh.WriteString(row(2) + "\n" + `{"phase":"tr`) //nolint:errcheck
	fh.Close()
	reloadEvery = 0
	defer func() { reloadEvery = time.Second }()
	s2 := f.State(Cursor{Gen: s.Gen, Epochs: 1})
	if !s2.Reset || len(s2.Epochs) != 2 || string(s2.Epochs[1]) != row(2) {
		t.Errorf("after the append: reset %v, %d epochs", s2.Reset, len(s2.Epochs))
	}
	os.WriteFile(filepath.Join(dir, runfolder.Summary), []byte(`{"status":"diverged"}`), 0o644) //nolint:errcheck
	if s3 := f.State(Cursor{}); s3.Status != "diverged" {
		t.Errorf("after summary.json: status %q", s3.Status)
	}
}
