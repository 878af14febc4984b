package live

import (
	"encoding/json"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strongdfc/strongdfc/train"
)

// Statuses of a run as the page shows them: "starting" (data loading),
// "running", then the runner's summary status ("done", "interrupted",
// "diverged", "failed"); a run read from a folder without a summary is
// "unknown" (still training in another process, or killed).
const (
	StatusStarting = "starting"
	StatusRunning  = "running"
	StatusUnknown  = "unknown"
)

// Num is a float64 that JSON writes as null when it is not finite.
type Num float64

// MarshalJSON writes the number, or null for NaN and infinities.
func (x Num) MarshalJSON() ([]byte, error) {
	f := float64(x)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON reads a number, null as NaN.
func (x *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*x = Num(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*x = Num(f)
	return nil
}

// Progress is where a running run stands.
type Progress struct {
	Phase            string `json:"phase"`
	Epoch            int    `json:"epoch"`
	Epochs           int    `json:"epochs"`
	Batch            int    `json:"batch"`
	Batches          int    `json:"batches"`
	Samples          int    `json:"samples"`
	Loss             Num    `json:"loss"`
	Accuracy         Num    `json:"accuracy"`
	Control          Num    `json:"control"`
	SamplesPerSecond Num    `json:"samples_per_second"`
	// EpochSeconds is the time since the epoch started (or resumed);
	// RemainingSeconds the estimated time until the run ends.
	EpochSeconds     Num       `json:"epoch_seconds"`
	RemainingSeconds Num       `json:"remaining_seconds"`
	Time             time.Time `json:"time"`
}

// Point is the running mean of an epoch's minibatches so far, at X on
// the epoch axis (training epoch e runs from e−1 to e; feedback
// pre-training epochs lie at X ≤ 0, as in the run's plots).
type Point struct {
	X        Num    `json:"x"`
	Phase    string `json:"phase"`
	Loss     Num    `json:"loss"`
	Accuracy Num    `json:"accuracy"`
	Control  Num    `json:"control"`
}

// Points are running points; they marshal to JSON in one pass (a page
// opened late asks for thousands).
type Points []Point

// MarshalJSON writes the points as a JSON array of objects.
func (ps Points) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 16+100*len(ps))
	num := func(x Num) {
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			b = append(b, "null"...)
		} else {
			b = strconv.AppendFloat(b, f, 'g', -1, 64)
		}
	}
	b = append(b, '[')
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"x":`...)
		num(p.X)
		b = append(b, `,"phase":`...)
		b = strconv.AppendQuote(b, p.Phase)
		b = append(b, `,"loss":`...)
		num(p.Loss)
		b = append(b, `,"accuracy":`...)
		num(p.Accuracy)
		b = append(b, `,"control":`...)
		num(p.Control)
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// UPoint is the size of the control in a recorded window: ‖ū‖, ū the
// control averaged over the last quarter of the window, mean over the
// recorded samples; X is where the run was on the epoch axis.
type UPoint struct {
	X     Num       `json:"x"`
	UNorm Num       `json:"u_norm"`
	Time  time.Time `json:"time"`
	// Seconds is how long recording the window took, CPUSeconds the CPU
	// time it took (null where not measured).
	Seconds    float64 `json:"seconds"`
	CPUSeconds Num     `json:"cpu_seconds"`
}

// Info describes a run: its name and folder, its configuration (the text
// of config.yaml) and meta.json, and the number of feedback pre-training
// epochs (which set the epoch axis).
type Info struct {
	Name           string          `json:"name"`
	Dir            string          `json:"dir,omitempty"`
	Live           bool            `json:"live"`
	Method         string          `json:"method,omitempty"`
	Dataset        string          `json:"dataset,omitempty"`
	PretrainEpochs int             `json:"pretrain_epochs"`
	ConfigYAML     string          `json:"config_yaml,omitempty"`
	Meta           json.RawMessage `json:"meta,omitempty"`
	// Windows says whether the method simulates windows that can be
	// recorded (not backprop).
	Windows bool `json:"windows"`
}

// Cursor is how much of a run's growing lists a page already holds: the
// generation of the lists and the numbers of epoch rows, running points
// and ‖ū‖ points.
type Cursor struct {
	Gen, Epochs, Running, UNorm int
}

// State is what the page polls: the run's status and progress, the list
// items after the client's Cursor, and the sequence numbers of the info
// and the window (the page fetches those again when they change). When
// Reset is true the lists start again from the beginning (they were
// replaced, e.g. the run's folder was rewritten by a resume: a new
// generation Gen) and the page drops what it has.
type State struct {
	Version   uint64            `json:"version"`
	Gen       int               `json:"gen"`
	Status    string            `json:"status"`
	Error     string            `json:"error,omitempty"`
	Started   time.Time         `json:"started"`
	Now       time.Time         `json:"now"`
	Progress  *Progress         `json:"progress"`
	Reset     bool              `json:"reset"`
	Epochs    []json.RawMessage `json:"epochs"`
	Running   Points            `json:"running"`
	UNorm     []UPoint          `json:"u_norm"`
	Summary   json.RawMessage   `json:"summary,omitempty"`
	InfoSeq   int               `json:"info_seq"`
	WindowSeq int               `json:"window_seq"`
	// WindowError says why the last window could not be recorded.
	WindowError string `json:"window_error,omitempty"`
}

// Feed holds what the page shows of one run. The training goroutine
// publishes into it (Start, Progress, Epoch, Finish) and the server reads
// it (State, Window, Info) from other goroutines; no publication ever
// waits for a reader longer than the reader takes to copy a few slice
// headers.
type Feed struct {
	lastSeen atomic.Int64 // unix nanoseconds of the last request for the feed
	reload   func(*Feed)  // re-reads the run folder (feeds from Load), or nil

	mu          sync.Mutex
	version     uint64
	gen         int // bumped when the lists are replaced instead of appended to
	info        Info
	infoSeq     int
	status      string
	errMsg      string
	started     time.Time
	progress    *Progress
	epochs      []json.RawMessage
	running     []Point
	unorm       []UPoint
	window      []byte
	windowSeq   int
	windowError string
	summary     json.RawMessage
	// lastBucket thins the running points of an epoch to pointsPerEpoch.
	lastBucket int
}

// pointsPerEpoch bounds the running points kept of an epoch.
const pointsPerEpoch = 200

// NewFeed returns the feed of a live run named name (its folder's name,
// or a name for the page).
func NewFeed(name string) *Feed {
	return &Feed{info: Info{Name: name, Live: true}, status: StatusStarting, started: time.Now(), infoSeq: 1}
}

// Touch records a request for the feed (see Watched).
func (f *Feed) Touch() { f.lastSeen.Store(time.Now().UnixNano()) }

// Watched reports whether a page asked for the feed within d.
func (f *Feed) Watched(d time.Duration) bool {
	t := f.lastSeen.Load()
	return t != 0 && time.Since(time.Unix(0, t)) < d
}

// SeenSince reports whether a page asked for the feed after t.
func (f *Feed) SeenSince(t time.Time) bool { return f.lastSeen.Load() > t.UnixNano() }

// SetName renames the run on the page.
func (f *Feed) SetName(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.info.Name = name
	f.infoSeq++
	f.changed()
}

// changed bumps the version; f.mu is held.
func (f *Feed) changed() { f.version++ }

// SetInfo replaces the run's description.
func (f *Feed) SetInfo(in Info) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.info = in
	f.infoSeq++
	f.changed()
}

// Start marks the run as running with the epochs it already has (a
// resumed run's history).
func (f *Feed) Start(history []train.EpochResult) {
	rows := make([]json.RawMessage, 0, len(history))
	for _, r := range history {
		b, _ := json.Marshal(r) // EpochResult.MarshalJSON does not fail
		rows = append(rows, b)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status = StatusRunning
	f.epochs = rows
	f.running = nil
	f.gen++
	f.changed()
}

// epochX returns where the running mean of epoch p stands on the epoch
// axis, and false for the sleep phases (not plotted, as in the run's
// plots).
func epochX(p train.Progress) (float64, bool) {
	x := float64(p.Epoch-1) + float64(p.Batch)/float64(max(p.Batches, 1))
	switch p.Phase {
	case "sleep":
		return 0, false
	case "pretrain":
		return x - float64(p.Epochs), true
	}
	return x, true
}

// Progress publishes the position after a minibatch and the estimated
// time until the run ends; it keeps up to pointsPerEpoch running points
// of each epoch.
func (f *Feed) Progress(p train.Progress, remaining time.Duration) {
	pr := &Progress{Phase: p.Phase, Epoch: p.Epoch, Epochs: p.Epochs, Batch: p.Batch, Batches: p.Batches, Samples: p.Samples,
		Loss: Num(p.Loss), Accuracy: Num(p.Accuracy), Control: Num(p.Control), SamplesPerSecond: Num(p.SamplesPerSecond),
		EpochSeconds: Num(p.Elapsed.Seconds()), RemainingSeconds: Num(remaining.Seconds()), Time: time.Now()}
	x, plotted := epochX(p)
	bucket := p.Batch * pointsPerEpoch / max(p.Batches, 1)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.progress = pr
	if plotted && (bucket != f.lastBucket || p.Batch == p.Batches || p.Batch == 1) {
		f.running = append(f.running, Point{X: Num(x), Phase: p.Phase, Loss: pr.Loss, Accuracy: pr.Accuracy, Control: pr.Control})
	}
	f.lastBucket = bucket
	f.changed()
}

// Epoch publishes a finished epoch (as its row in metrics.jsonl).
func (f *Feed) Epoch(r train.EpochResult) {
	b, _ := json.Marshal(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.epochs = append(f.epochs, b)
	f.changed()
}

// Finish publishes the run's end: its status and its summary (marshalled
// to JSON), and the error that stopped it, if any.
func (f *Feed) Finish(status string, summary any, err error) {
	b, _ := json.Marshal(summary)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.status = status
	f.summary = b
	if err != nil {
		f.errMsg = err.Error()
	}
	f.changed()
}

// setWindow publishes a recorded window (its JSON) and its ‖ū‖ point.
func (f *Feed) setWindow(b []byte, p UPoint) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.window = b
	f.windowSeq++
	f.windowError = ""
	f.unorm = append(f.unorm, p)
	f.changed()
}

// uNormHistory returns the ‖ū‖ points so far.
func (f *Feed) uNormHistory() []UPoint {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.unorm
}

// setWindowError publishes why a window could not be recorded.
func (f *Feed) setWindowError(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.windowError = err.Error()
	f.changed()
}

// refresh re-reads the run folder of a feed from Load.
func (f *Feed) refresh() {
	if f.reload != nil {
		f.reload(f)
	}
}

// State returns the run's state with the list items after c.
func (f *Feed) State(c Cursor) State {
	f.refresh()
	f.mu.Lock()
	s := State{Version: f.version, Gen: f.gen, Status: f.status, Error: f.errMsg, Started: f.started, Now: time.Now(),
		Summary: f.summary, InfoSeq: f.infoSeq, WindowSeq: f.windowSeq, WindowError: f.windowError}
	if f.progress != nil {
		p := *f.progress
		s.Progress = &p
	}
	// The lists are only appended to (or replaced whole by a reload), so
	// their items up to the lengths seen here stay as they are.
	epochs, running, unorm := f.epochs, f.running, f.unorm
	f.mu.Unlock()
	if c.Gen != s.Gen || c.Epochs > len(epochs) || c.Running > len(running) || c.UNorm > len(unorm) || c.Epochs < 0 || c.Running < 0 || c.UNorm < 0 {
		s.Reset = true
		c = Cursor{}
	}
	// Empty lists are [] in JSON, not null.
	s.Epochs = append(make([]json.RawMessage, 0, len(epochs)-c.Epochs), epochs[c.Epochs:]...)
	s.Running = append(make(Points, 0, len(running)-c.Running), running[c.Running:]...)
	s.UNorm = append(make([]UPoint, 0, len(unorm)-c.UNorm), unorm[c.UNorm:]...)
	return s
}

// Info returns the run's description.
func (f *Feed) Info() Info {
	f.refresh()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.info
}

// Window returns the last recorded window as JSON (nil when none) and its
// sequence number.
func (f *Feed) Window() ([]byte, int) {
	f.refresh()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.window, f.windowSeq
}
