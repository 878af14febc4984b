package runner

import (
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/strongdfc/strongdfc/train"
)

// Display shows a run's progress on a terminal or a log stream. On a
// terminal it draws a bar per epoch with the epoch's and the whole run's
// remaining time; otherwise it writes a plain line every few seconds (and
// at each epoch's end). It is also the writer for the console log: a log
// line clears the bar first, and the bar is drawn again below it.
type Display struct {
	mu    sync.Mutex
	w     io.Writer
	bar   *progressbar.ProgressBar
	term  bool
	every time.Duration
	last  time.Time
	// the epoch the bar is for, and the minibatch it started at
	phase      string
	epoch      int
	startBatch int
}

// NewDisplay returns a display writing to w: a bar when terminal is true,
// else a line every `every` (0: 5 s).
func NewDisplay(w io.Writer, terminal bool, every time.Duration) *Display {
	if every <= 0 {
		every = 5 * time.Second
	}
	return &Display{w: w, term: terminal, every: every}
}

// Write writes log output, clearing the bar first.
func (d *Display) Write(b []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.bar != nil {
		d.bar.Clear() //nolint:errcheck // cosmetic
	}
	return d.w.Write(b)
}

// Sync is a no-op, for zap.
func (d *Display) Sync() error { return nil }

// update shows progress p; remaining is the estimated time until the run
// ends.
func (d *Display) update(p train.Progress, startBatch int, remaining time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	done := p.Batch - startBatch
	epochETA := time.Duration(0)
	if done > 0 {
		epochETA = p.Elapsed / time.Duration(done) * time.Duration(p.Batches-p.Batch)
	}
	if !d.term {
		if time.Since(d.last) < d.every && p.Batch != p.Batches {
			return
		}
		d.last = time.Now()
		fmt.Fprintf(d.w, "%-8s epoch %d/%d  minibatch %d/%d  loss %s  acc %.2f%%  %.1f samples/s  epoch ETA %s  run ETA %s\n",
			p.Phase, p.Epoch, p.Epochs, p.Batch, p.Batches, number(p.Loss), 100*p.Accuracy, p.SamplesPerSecond,
			roundETA(epochETA), roundETA(remaining))
		return
	}
	if d.bar == nil || d.phase != p.Phase || d.epoch != p.Epoch {
		if d.bar != nil {
			d.bar.Finish() //nolint:errcheck
		}
		d.phase, d.epoch, d.startBatch = p.Phase, p.Epoch, startBatch
		d.bar = progressbar.NewOptions(p.Batches-startBatch,
			progressbar.OptionSetWriter(d.w),
			progressbar.OptionSetWidth(25),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(d.w) }),
		)
	}
	d.bar.Describe(fmt.Sprintf("%s %d/%d  mb %d/%d  loss %s  acc %.1f%%  %.0f/s  run ETA %s ",
		p.Phase, p.Epoch, p.Epochs, p.Batch, p.Batches, number(p.Loss), 100*p.Accuracy, p.SamplesPerSecond, roundETA(remaining)))
	d.bar.Set(p.Batch - d.startBatch) //nolint:errcheck
}

// finish ends the bar of the current epoch.
func (d *Display) finish() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.bar != nil {
		d.bar.Finish() //nolint:errcheck
		d.bar = nil
	}
}

// stop ends the bar where it is (an interrupted epoch).
func (d *Display) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.bar != nil {
		d.bar.Exit() //nolint:errcheck
		fmt.Fprintln(d.w)
		d.bar = nil
	}
}

// number writes a loss for the progress line: four decimals while it is
// moderate, else three significant digits with an exponent (a diverging
// loss is never hundreds of digits wide).
func number(x float64) string {
	if math.Abs(x) < 1e4 {
		return fmt.Sprintf("%.4f", x)
	}
	return fmt.Sprintf("%.3g", x)
}

func roundETA(t time.Duration) time.Duration {
	if t > time.Minute {
		return t.Round(time.Second)
	}
	return t.Round(100 * time.Millisecond)
}

// IsTerminal reports whether f is a terminal (then a Display draws bars).
func IsTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
