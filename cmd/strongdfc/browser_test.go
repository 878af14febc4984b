package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/internal/runner"
	"github.com/strongdfc/strongdfc/train"
)

// chromium returns the path of a Chromium (Debian's package: apt-get
// install chromium), or "" when there is none.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser starts a headless Chromium (no sandbox: the tests run as root;
// no network, no GPU, a fresh profile) and returns a tab's context.
func browser(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true), chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1000),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancelT)
	return ctx
}

// TestBrowser: Chromium loads the page of a live run (train --serve) and
// sees its curves grow as epochs end and the running means move within
// an epoch, a recorded window drawn, and the run's end; the page of the
// finished run (view) draws the same epochs from the folder alone; the
// view of a spiking run draws spike rasters, and two runs are overlaid. The
// screenshots go to STRONGDFC_SCREENSHOT_DIR (default: the test's
// temporary folder, deleted afterwards). Skipped without Chromium.
func TestBrowser(t *testing.T) {
	exe := chromium()
	if exe == "" {
		t.Skip("no chromium on PATH (Debian: apt-get install chromium); the browser test was not run")
	}
	if testing.Short() {
		t.Skip("the browser test trains for about 20 s")
	}
	shots := os.Getenv("STRONGDFC_SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.data = writeData(t, 512, 128)
	served := make(chan string, 1)
	testServed = func(url string) { served <- url }
	// Slow the run down to a pace a page can watch: a pause after every
	// minibatch and epoch (the run's results do not depend on it), and
	// training waits for the page to be open (however slowly Chromium
	// starts) before its first minibatch.
	pageOpen := make(chan struct{})
	testHooks = func(o *runner.Options) {
		o.OnProgress = func(p train.Progress) {
			if p.Phase == "train" && p.Epoch == 1 && p.Batch == 1 {
				select {
				case <-pageOpen:
				case <-time.After(2 * time.Minute):
				}
			}
			time.Sleep(40 * time.Millisecond)
		}
		o.OnEpoch = func(*train.Trainer, train.EpochResult) { time.Sleep(600 * time.Millisecond) }
	}
	defer func() { testServed, testHooks = nil, nil }()
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, stdout, stderr := e.train(context.Background(), "--config", e.cfg, "--name", "live", "--epochs", "8",
			"--set", "dynamics.steps=40", "--serve", "127.0.0.1:0")
		done <- result{code, stdout, stderr}
	}()
	var url string
	select {
	case url = <-served:
	case r := <-done:
		t.Fatalf("train --serve ended before serving: exit %d\n%s", r.code, r.stderr)
	}
	ctx := browser(t, exe)
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	// The curves update: the epochs drawn grow, and the running means
	// within an epoch are drawn too.
	count := `(() => { const c = document.querySelector('#chart-loss'); return c ? parseInt(c.dataset.points) : 0; })()`
	first, err := chromedp.Run(ctx, chromedp.Poll[int](count+` >= 3 && `+count, chromedp.WithPollingTimeout(time.Minute)))
	if err != nil {
		t.Fatalf("the loss chart never drew a point: %v", err)
	}
	epochs1, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`window.strongdfcLive.epochs`))
	close(pageOpen)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`window.strongdfcLive.epochs >= %d && %s > %d`, epochs1+2, count, first),
		chromedp.WithPollingTimeout(time.Minute))); err != nil {
		t.Fatalf("the curves did not update (%d points, %d epochs at first): %v", first, epochs1, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.strongdfcLive.running > 8 && document.querySelectorAll('#window-body .sample').length === 3`,
		chromedp.WithPollingTimeout(time.Minute))); err != nil {
		t.Fatalf("no running means or no recorded window on the page: %v", err)
	}
	status, _ := chromedp.Run(ctx, chromedp.Text(".run .status"))
	facts, _ := chromedp.Run(ctx, chromedp.Text(".run .facts"))
	if status != "running" || !strings.Contains(facts, "run ETA") || !strings.Contains(facts, "minibatch") {
		t.Errorf("while training the header says %q: %q", status, facts)
	}
	screenshot(t, ctx, filepath.Join(shots, "live-page-running.png"))
	// Every chart has its axes labelled.
	labels, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.chart .axis-label')].map(e => e.textContent)`))
	if err != nil || len(labels) < 12 {
		t.Fatalf("axis labels %q: %v", labels, err)
	}
	for _, want := range []string{"epoch (≤ 0: feedback pre-training)", "accuracy (%)", "time t (a.u.)", "angle (degrees)"} {
		if !strings.Contains(strings.Join(labels, "|"), want) {
			t.Errorf("no axis labelled %q among %q", want, labels)
		}
	}
	// The run's end reaches the page before the server stops.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('.run .status').textContent === 'done'`,
		chromedp.WithPollingTimeout(2*time.Minute))); err != nil {
		t.Fatalf("the page never showed the run's end: %v", err)
	}
	screenshot(t, ctx, filepath.Join(shots, "live-page.png"))
	r := <-done
	if r.code != 0 {
		t.Fatalf("train --serve: exit %d\n%s", r.code, r.stderr)
	}
	dir := filepath.Join(e.out, "live")
	if _, err := os.Stat(filepath.Join(dir, "window.json")); err != nil {
		t.Errorf("the run folder has no window.json: %v", err)
	}

	// The finished run, from its folder alone.
	ctxV, stopView := context.WithCancel(context.Background())
	viewDone := make(chan int, 1)
	go func() {
		code, _, _ := cli(ctxV, "view", dir, "--addr", "127.0.0.1:0")
		viewDone <- code
	}()
	url = <-served
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	rows := strings.Count(string(e.read("live", runfolder.MetricsJS)), "\n")
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`window.strongdfcLive.epochs === %d && document.querySelectorAll('#window-body .sample').length === 3 && document.querySelector('.run .status').textContent === 'done'`, rows),
		chromedp.WithPollingTimeout(time.Minute))); err != nil {
		t.Errorf("the view of the finished run does not show its %d epochs and its window: %v", rows, err)
	}
	screenshot(t, ctx, filepath.Join(shots, "view-page.png"))
	stopView()
	if code := <-viewDone; code != 0 {
		t.Errorf("view stopped with exit %d", code)
	}

	// A run of spiking hidden neurons, trained with --serve but no page
	// open (a window is recorded after its last epoch all the same), then
	// viewed: its window draws spike rasters.
	testHooks = nil
	testServed = func(string) {}
	if code, _, stderr := e.train(context.Background(), "--config", e.cfg, "--name", "spiking", "--epochs", "2", "--pretrain-epochs", "0",
		"--set", "dynamics.steps=60", "--set", "spiking.rate_max=400", "--set", "spiking.tau_syn=0.01",
		"--set", "spiking.input_rate_max=400", "--set", "spiking.event_driven=true", "--serve", "127.0.0.1:0"); code != 0 {
		t.Fatalf("train of a spiking run: exit %d\n%s", code, stderr)
	}
	testServed = func(url string) { served <- url }
	ctxV, stopView = context.WithCancel(context.Background())
	go func() {
		code, _, _ := cli(ctxV, "view", filepath.Join(e.out, "spiking"), "--addr", "127.0.0.1:0")
		viewDone <- code
	}()
	url = <-served
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	// Three samples, each with a raster of its two spiking hidden layers.
	rasters := `[...document.querySelectorAll('#window-body .sample .chart h3')].filter(h => h.textContent.startsWith('spikes')).length`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](rasters+` === 3`, chromedp.WithPollingTimeout(time.Minute))); err != nil {
		n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](rasters))
		t.Errorf("the view of a spiking run draws %d spike rasters; want one per sample: %v", n, err)
	}
	screenshot(t, ctx, filepath.Join(shots, "view-spiking.png"))
	stopView()
	if code := <-viewDone; code != 0 {
		t.Errorf("view stopped with exit %d", code)
	}

	// Both runs overlaid: a row each in the header, a colour each in the
	// legends.
	ctxV, stopView = context.WithCancel(context.Background())
	go func() {
		code, _, _ := cli(ctxV, "view", dir, filepath.Join(e.out, "spiking"), "--addr", "127.0.0.1:0")
		viewDone <- code
	}()
	url = <-served
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	both := `document.querySelectorAll('.run').length === 2 && (() => { const l = document.querySelector('#chart-loss .legend'); return !!l && l.textContent.includes('live') && l.textContent.includes('spiking'); })()`
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](both, chromedp.WithPollingTimeout(time.Minute))); err != nil {
		t.Errorf("the view of two runs does not show both: %v", err)
	}
	screenshot(t, ctx, filepath.Join(shots, "view-two-runs.png"))
	stopView()
	if code := <-viewDone; code != 0 {
		t.Errorf("view stopped with exit %d", code)
	}
}

// screenshot saves a screenshot of the whole page as a PNG file.
func screenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.WriteFile(path, png, 0o644)
	}
	if err != nil {
		t.Errorf("screenshot %s: %v", path, err)
		return
	}
	t.Logf("screenshot: %s", path)
}
