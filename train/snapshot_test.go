package train_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/strongdfc/strongdfc/checkpoint"
	"github.com/strongdfc/strongdfc/internal/synth"
	"github.com/strongdfc/strongdfc/presets"
	"github.com/strongdfc/strongdfc/train"

	"github.com/strongdfc/strongdfc/circuit"
)

// stopAt runs tr until the given point: before minibatch `batch` (1-based)
// of the phase's epoch, where batch 0 means at the end of the epoch before.
func stopAt(t *testing.T, tr *train.Trainer, phase string, epoch, batch int) {
	t.Helper()
	for {
		pos := tr.Position()
		if batch == 0 && pos.Phase == phase && pos.Epoch == epoch+1 && pos.Batch == 0 {
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		if batch == 1 && pos.Phase == phase && pos.Epoch == epoch {
			cancel() // stop once the epoch's order is drawn
		}
		_, err := tr.Next(ctx, func(p train.Progress) {
			if p.Phase == phase && p.Epoch == epoch && p.Batch == batch-1 {
				cancel()
			}
		})
		cancel()
		var in *train.Interrupted
		if errors.As(err, &in) {
			if in.At.Phase != phase || in.At.Epoch != epoch || in.At.Batch != batch-1 {
				t.Fatalf("stopped at %s, want %s epoch %d before minibatch %d", in.At, phase, epoch, batch)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if tr.Done() {
			t.Fatalf("the run ended before %s epoch %d, minibatch %d", phase, epoch, batch)
		}
	}
}

// resumeConfig is tinyConfig with shorter windows and fewer samples: 6
// minibatches per epoch, the last one partial.
func resumeConfig() train.Config {
	c := tinyConfig()
	c.Pretrain.Epochs = 2
	c.Dynamics.Steps = 20
	c.Pretrain.Dynamics.Steps = 16
	c.TrainLimit = 90
	return c
}

func finish(t *testing.T, tr *train.Trainer) {
	t.Helper()
	for !tr.Done() {
		if _, err := tr.Next(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
	}
}

// sameBits reports the first difference between two snapshots.
func sameBits(a, b *train.Snapshot) string { return synth.Diff(a, b) }

// finished runs configuration c on data from its start to its end and
// returns the final snapshot.
func finished(t *testing.T, c train.Config, data *train.Data) *train.Snapshot {
	t.Helper()
	tr, err := train.New(c, data)
	if err != nil {
		t.Fatal(err)
	}
	finish(t, tr)
	return snapOf(tr)
}

// resumed runs configuration c until it stops at the given phase, epoch
// and minibatch, resumes a fresh trainer from a checkpoint file of that
// moment and runs it to the end. It returns the interrupted trainer and the
// resumed run's final snapshot.
func resumed(t *testing.T, c train.Config, data *train.Data, phase string, epoch, batch int) (*train.Trainer, *train.Snapshot) {
	t.Helper()
	a, err := train.New(c, data)
	if err != nil {
		t.Fatal(err)
	}
	stopAt(t, a, phase, epoch, batch)
	b := throughFile(t, a, c, data)
	finish(t, b)
	got, _ := b.Snapshot()
	return a, got
}

// throughFile writes a's snapshot to a checkpoint file, reads it back and
// restores it into a fresh trainer of configuration c.
func throughFile(t *testing.T, a *train.Trainer, c train.Config, data *train.Data) *train.Trainer {
	t.Helper()
	snap, err := a.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := checkpoint.Write(&buf, snap); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "checkpoint.npz")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := checkpoint.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := train.New(c, data)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Restore(back); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestResumeExact: a run stopped at an epoch's end or in the middle of an
// epoch (pre-training or training), written to a checkpoint file, read
// back and restored into a fresh trainer, ends with the same bits as an
// uninterrupted run.
func TestResumeExact(t *testing.T) {
	c := resumeConfig()
	data := tinyData(t, c)
	ref, err := train.New(c, data)
	if err != nil {
		t.Fatal(err)
	}
	finish(t, ref)
	want, _ := ref.Snapshot()

	cases := []struct {
		phase        string
		epoch, batch int
	}{
		{"pretrain", 1, 0}, // after the first pre-training epoch
		{"pretrain", 2, 3}, // during the second
		{"train", 0, 0},    // after pre-training
		{"train", 1, 0},    // after training epoch 1
		{"train", 2, 1},    // at the start of epoch 2, its order drawn
		{"train", 2, 4},    // in the middle of epoch 2
		{"train", 3, 6},    // before the last, partial minibatch
		{"pretrain", 1, 5}, // in the first epoch
	}
	for _, tc := range cases {
		a, got := resumed(t, c, data, tc.phase, tc.epoch, tc.batch)
		if d := sameBits(want, got); d != "" {
			t.Errorf("stopped at %s epoch %d minibatch %d: %s differ from the uninterrupted run", tc.phase, tc.epoch, tc.batch, d)
		}
		// And the interrupted trainer itself continues just as well.
		finish(t, a)
		got, _ = a.Snapshot()
		if d := sameBits(want, got); d != "" {
			t.Errorf("continued after stopping at %s epoch %d minibatch %d: %s differ", tc.phase, tc.epoch, tc.batch, d)
		}
	}
}

// TestRestoreRefuses: snapshots that do not fit are refused with a clear
// error, and the trainer is left unchanged.
func TestRestoreRefuses(t *testing.T) {
	c := resumeConfig()
	data := tinyData(t, c)
	a, _ := train.New(c, data)
	stopAt(t, a, "train", 1, 5)
	good, _ := a.Snapshot()
	cases := []struct {
		name string
		mod  func(s *train.Snapshot)
		want string
	}{
		{"other config", func(s *train.Snapshot) { s.Config.Forward.LR *= 2 }, "forward"},
		{"other sizes", func(s *train.Snapshot) { s.Sizes[1]++ }, "sizes"},
		{"short weights", func(s *train.Snapshot) { s.W[1] = s.W[1][1:] }, "layer 2's W"},
		{"short moments", func(s *train.Snapshot) { s.Optimizers[0].Buffers["v"][0] = nil }, "forward optimizer"},
		{"bad noise", func(s *train.Snapshot) { s.Phases[0].Noise = s.Phases[0].Noise[:40] }, "noise"},
		{"missing phase", func(s *train.Snapshot) { s.Phases = s.Phases[1:] }, "phases"},
		{"bad shuffle", func(s *train.Snapshot) { s.Shuffle = []byte("x") }, "shuffle"},
		{"not a permutation", func(s *train.Snapshot) { s.Partial.Order[0] = s.Partial.Order[1] }, "permutation"},
		{"wrong epoch", func(s *train.Snapshot) { s.Partial.Epoch = 3 }, "partial epoch"},
		{"history", func(s *train.Snapshot) { s.History = s.History[:0] }, "history"},
		{"too many epochs", func(s *train.Snapshot) { s.Done = 12 }, "training epochs"},
	}
	for _, tc := range cases {
		b, _ := train.New(c, data)
		before, _ := b.Snapshot()
		s, _ := a.Snapshot()
		tc.mod(s)
		err := b.Restore(s)
		if err == nil || !errors.Is(err, train.ErrSnapshot) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want train.ErrSnapshot mentioning %q", tc.name, err, tc.want)
		}
		after, _ := b.Snapshot()
		if d := sameBits(before, after); d != "" || after.Done != 0 || after.Partial != nil {
			t.Errorf("%s: a refused snapshot changed the trainer (%s)", tc.name, d)
		}
	}
	// More epochs than the snapshot's run: allowed (the run is extended).
	c2 := c
	c2.Epochs = 5
	b, _ := train.New(c2, data)
	if err := b.Restore(good); err != nil {
		t.Errorf("extending a run: %v", err)
	}
}

// TestCheckpointCorrupt: a damaged checkpoint file is an error naming the
// file, never a silently different state.
func TestCheckpointCorrupt(t *testing.T) {
	c := resumeConfig()
	a, _ := train.New(c, tinyData(t, c))
	stopAt(t, a, "pretrain", 1, 3)
	s, _ := a.Snapshot()
	var buf bytes.Buffer
	if err := checkpoint.Write(&buf, s); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	dir := t.TempDir()
	cases := map[string][]byte{
		"empty":     nil,
		"truncated": good[:len(good)*2/3],
		"garbage":   bytes.Repeat([]byte("strongdfc"), 100),
		"flipped":   flip(good, len(good)/3),
	}
	for name, b := range cases {
		p := filepath.Join(dir, name+".npz")
		os.WriteFile(p, b, 0o644)
		_, err := checkpoint.Read(p)
		if err == nil || !errors.Is(err, checkpoint.ErrCorrupt) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want ErrCorrupt naming the file", name, err)
		}
	}
	// A weights file is not a checkpoint, but both hold a network.
	p := filepath.Join(dir, "weights.npz")
	buf.Reset()
	checkpoint.WriteWeights(&buf, c, a.Net)
	os.WriteFile(p, buf.Bytes(), 0o644)
	if _, err := checkpoint.Read(p); err == nil || !strings.Contains(err.Error(), "weights file") {
		t.Errorf("weights file read as a checkpoint: %v", err)
	}
	cfg, net, err := checkpoint.ReadNetwork(p)
	if err != nil || cfg.Batch != c.Batch || net.Forward[1].W.At(2, 3) != a.Net.Forward[1].W.At(2, 3) {
		t.Errorf("ReadNetwork: %v", err)
	}
}

func flip(b []byte, i int) []byte {
	b = bytes.Clone(b)
	b[i] ^= 1
	return b
}

// TestDiverged: a run that blows up, or whose weights hold a NaN, stops
// with an error that wraps circuit.ErrDiverged and names the epoch and the
// layer.
func TestDiverged(t *testing.T) {
	cases := []struct {
		name string
		mod  func(*train.Config)
		nan  bool
		want []string
	}{
		{"huge learning rate", func(c *train.Config) { c.Forward.LR = 1e307; c.ClipNorm = 0 }, false, []string{"train epoch 1", "layer"}},
		{"NaN weight", func(c *train.Config) {}, true, []string{"train epoch 1, minibatch 1/", "layer 2's W"}},
	}
	for _, tc := range cases {
		c := resumeConfig()
		c.Pretrain.Epochs = 0
		tc.mod(&c)
		tr, err := train.New(c, tinyData(t, c))
		if err != nil {
			t.Fatal(err)
		}
		if tc.nan {
			tr.Net.Forward[1].W.Set(1, 2, math.NaN())
		}
		for !tr.Done() {
			if _, err = tr.Next(context.Background(), nil); err != nil {
				break
			}
		}
		if err == nil || !errors.Is(err, circuit.ErrDiverged) {
			t.Errorf("%s: error %v, want ErrDiverged", tc.name, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, w)
			}
		}
	}
}

// TestResumeExactStream: a run on a never-reset stream with plasticity at
// every step, stopped in the middle of the stream (within an epoch, and
// between two), resumes from a checkpoint file to the same bits as an
// uninterrupted run: the circuit's state travels in the checkpoint, the
// filtered basal prediction (a soma variable of its own) included.
func TestResumeExactStream(t *testing.T) {
	for _, pred := range []string{"", train.PredictionFiltered} {
		c := presets.Stream(resumeConfig())
		c.ForwardSettle = 4 // the preset's 40 steps do not fit these 20-step windows
		c.Epochs = 2
		c.Prediction = pred
		data := tinyData(t, c)
		ref, err := train.New(c, data)
		if err != nil {
			t.Fatal(err)
		}
		finish(t, ref)
		want, _ := ref.Snapshot()
		if want.Phases[0].Vars == nil || !want.Phases[0].Started {
			t.Fatal("a stream's snapshot holds no circuit state")
		}
		if _, ok := want.Phases[0].Vars["layer1.prediction"]; ok != (pred == train.PredictionFiltered) {
			t.Errorf("prediction %q: snapshot holds layer1.prediction: %v", pred, ok)
		}
		for _, stop := range []struct{ epoch, batch int }{{1, 3}, {2, 1}, {2, 6}} {
			_, got := resumed(t, c, data, "train", stop.epoch, stop.batch)
			if d := sameBits(want, got); d != "" {
				t.Errorf("prediction %q, stopped at epoch %d minibatch %d: %s differ from the uninterrupted stream", pred, stop.epoch, stop.batch, d)
			}
		}
		// The same run that resets its state every window ends elsewhere.
		w := c
		w.Stream = false
		other, _ := train.New(w, data)
		finish(t, other)
		got, _ := other.Snapshot()
		if d := sameBits(want, got); d == "" {
			t.Errorf("prediction %q: a stream and windows that reset end with the same weights", pred)
		}
	}
}

// TestRestoreRefusesPhaseState: a phase's state that does not fit is
// refused, whether the phase is not built yet (checked against the shape
// of its states learnt in New) or has run.
func TestRestoreRefusesPhaseState(t *testing.T) {
	sc := presets.Stream(resumeConfig())
	sc.ForwardSettle = 4
	wc := resumeConfig()
	cc := resumeConfig() // window-parallel: the runner is a chunkedRunner
	cc.Chunks = 2
	// A noise state that decodes, of a run with another batch size.
	otherNoise := func(c train.Config) []byte {
		c.Batch *= 2
		o, err := train.New(c, tinyData(t, c))
		if err != nil {
			t.Fatal(err)
		}
		s, _ := o.Snapshot()
		return s.Phases[slices.IndexFunc(s.Phases, func(p train.PhaseState) bool { return p.Name == "train" })].Noise
	}
	wNoise, cNoise := otherNoise(wc), otherNoise(cc)
	cases := []struct {
		name string
		c    train.Config
		mod  func(p *train.PhaseState)
		want string
	}{
		{"stream without its state", sc, func(p *train.PhaseState) { p.Vars = nil }, "without its state"},
		{"stream variable missing", sc, func(p *train.PhaseState) {
			for k := range p.Vars {
				p.Vars["x"+k] = p.Vars[k]
				delete(p.Vars, k)
				break
			}
		}, "has no"},
		{"stream variable short", sc, func(p *train.PhaseState) {
			for k := range p.Vars {
				p.Vars[k] = p.Vars[k][1:]
			}
		}, "values, want"},
		{"stream variable extra", sc, func(p *train.PhaseState) { p.Vars["extra"] = []float64{1} }, "variables"},
		{"stream noise short", sc, func(p *train.PhaseState) { p.Noise = p.Noise[:len(p.Noise)-8] }, "noise"},
		{"windows with a stream state", wc, func(p *train.PhaseState) { p.Vars = map[string][]float64{"x": nil} }, "resets its state"},
		{"clock", wc, func(p *train.PhaseState) { p.Clock = -1 }, "clock"},
		{"noise of another batch", wc, func(p *train.PhaseState) { p.Noise = wNoise }, "different layers or batch"},
		{"chunks noise of another batch", cc, func(p *train.PhaseState) { p.Noise = cNoise }, "different layers or batch"},
		{"chunks noise short", cc, func(p *train.PhaseState) { p.Noise = p.Noise[:len(p.Noise)-8] }, "noise"},
		{"chunks with a stream state", cc, func(p *train.PhaseState) { p.Vars = map[string][]float64{"x": nil} }, "resets its state"},
	}
	for _, tc := range cases {
		data := tinyData(t, tc.c)
		a, err := train.New(tc.c, data)
		if err != nil {
			t.Fatal(err)
		}
		stopAt(t, a, "train", 1, 3)
		if s, _ := a.Snapshot(); tc.c.Stream && s.Phases[0].Vars == nil {
			t.Fatalf("%s: the stream's snapshot holds no state", tc.name)
		}
		for _, started := range []bool{false, true} {
			s, _ := a.Snapshot()
			i := slices.IndexFunc(s.Phases, func(p train.PhaseState) bool { return p.Name == "train" }) // under way
			s.Phases[i] = clonePhase(s.Phases[i])
			tc.mod(&s.Phases[i])
			b, _ := train.New(tc.c, data)
			if started {
				stopAt(t, b, "train", 1, 1)
			}
			err := b.Restore(s)
			if err == nil || !errors.Is(err, train.ErrSnapshot) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s (phase built: %v): error %v, want train.ErrSnapshot mentioning %q", tc.name, started, err, tc.want)
			}
		}
	}
}

// TestRestoreRefusesReleasedPhaseState: the state of a phase that has
// finished and let its circuits go (pre-training, once training runs) is
// still checked.
func TestRestoreRefusesReleasedPhaseState(t *testing.T) {
	c := resumeConfig()
	data := tinyData(t, c)
	a, _ := train.New(c, data)
	stopAt(t, a, "train", 1, 3)
	for _, tc := range []struct {
		name string
		mod  func(p *train.PhaseState)
		want string
	}{
		{"noise short", func(p *train.PhaseState) { p.Noise = p.Noise[:len(p.Noise)-8] }, "noise"},
		{"a stream state", func(p *train.PhaseState) { p.Vars = map[string][]float64{"x": nil} }, "resets its state"},
	} {
		s, _ := a.Snapshot()
		i := slices.IndexFunc(s.Phases, func(p train.PhaseState) bool { return p.Name == "pretrain" })
		if i < 0 || s.Phases[i].Noise == nil {
			t.Fatal("the snapshot has no pre-training phase with its noise")
		}
		s.Phases[i] = clonePhase(s.Phases[i])
		tc.mod(&s.Phases[i])
		b, _ := train.New(c, data)
		stopAt(t, b, "train", 1, 1) // the pre-training has run and is released
		if err := b.Restore(s); err == nil || !errors.Is(err, train.ErrSnapshot) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want train.ErrSnapshot mentioning %q", tc.name, err, tc.want)
		}
	}
}

// TestSnapshotView: a view holds the same state as a snapshot, bit for
// bit, and writes the same checkpoint bytes, but its weights and Adam's
// moments are the trainer's own buffers, not copies.
func TestSnapshotView(t *testing.T) {
	c := resumeConfig()
	tr, _ := train.New(c, tinyData(t, c))
	stopAt(t, tr, "train", 1, 3)
	s, _ := tr.Snapshot()
	v, _ := tr.SnapshotView()
	if d := sameBits(s, v); d != "" {
		t.Fatalf("the view differs from the snapshot: %s", d)
	}
	var a, b bytes.Buffer
	if err := checkpoint.Write(&a, s); err != nil {
		t.Fatal(err)
	}
	if err := checkpoint.Write(&b, v); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("the view and the snapshot write different checkpoints")
	}
	if &v.W[0][0] != &tr.Net.Forward[0].W.RawMatrix().Data[0] || &s.W[0][0] == &v.W[0][0] {
		t.Error("the view's weights are not the trainer's own, or the snapshot's are")
	}
	m := v.Optimizers[0].Buffers["m"][0]
	if &m[0] == &s.Optimizers[0].Buffers["m"][0][0] {
		t.Error("the snapshot shares Adam's first moment with the view")
	}
	m[0]++ // the trainer's own moment: a new snapshot sees it
	if s2, _ := tr.Snapshot(); s2.Optimizers[0].Buffers["m"][0][0] != m[0] {
		t.Error("the view's moments are copies")
	}
}

// clonePhase returns a copy of p whose noise and variables can be changed.
func clonePhase(p train.PhaseState) train.PhaseState {
	c := p
	c.Noise = slices.Clone(p.Noise)
	if p.Vars != nil {
		c.Vars = maps.Clone(p.Vars)
	}
	return c
}

// TestConfigDiff: differences are named by their dotted YAML keys with
// both values, never as Go structs, and epochs alone (a run extended by
// --epochs) is no difference to Restore.
func TestConfigDiff(t *testing.T) {
	a := presets.MNIST()
	b := presets.MNIST()
	b.Forward.LR = 0.5
	b.Hidden = []int{64}
	b.Pretrain.Dynamics.Steps = 100
	got := train.ConfigDiff(a, b)
	want := "hidden: [256, 256, 256] vs [64]; forward.lr: 0.0003095880739373081 vs 0.5; pretrain.dynamics.steps: 500 vs 100"
	if got != want {
		t.Errorf("ConfigDiff = %q\nwant       %q", got, want)
	}
	if strings.Contains(got, "{") {
		t.Errorf("ConfigDiff prints a Go struct: %q", got)
	}
	if got := train.ConfigDiff(a, a); got != "no difference" {
		t.Errorf("equal configurations: %q", got)
	}
	// Restore's message names the edited key, not the extended epochs.
	c := resumeConfig()
	data := tinyData(t, c)
	tr, _ := train.New(c, data)
	stopAt(t, tr, "train", 1, 0)
	s, _ := tr.Snapshot()
	c2 := c
	c2.Epochs++
	c2.Forward.LR *= 2
	other, _ := train.New(c2, data)
	err := other.Restore(s)
	if err == nil || !strings.Contains(err.Error(), "forward.lr: ") || strings.Contains(err.Error(), "epochs") {
		t.Errorf("Restore after an edit of forward.lr: %v", err)
	}
}

// TestOverflowDiverges: a learning rate of 1e300 gives finite losses of
// about 1e304, which are divergence too: the run stops with ErrDiverged
// instead of ending "done".
func TestOverflowDiverges(t *testing.T) {
	c := resumeConfig()
	c.Pretrain.Epochs = 0
	c.Forward.LR = 1e300
	tr, err := train.New(c, tinyData(t, c))
	if err != nil {
		t.Fatal(err)
	}
	for !tr.Done() && err == nil {
		_, err = tr.Next(context.Background(), nil)
	}
	if !errors.Is(err, circuit.ErrDiverged) || !strings.Contains(err.Error(), "train epoch 1") {
		t.Errorf("error %v, want ErrDiverged in the first training epoch", err)
	}
}

// TestEvalReused: epochs that change only the feedback weights
// (pre-training after its first epoch, sleep) reuse the last evaluation
// and say so; the figures equal a fresh evaluation's.
func TestEvalReused(t *testing.T) {
	c := presets.StrongDFC2MNIST()
	c.Hidden = []int{8, 8}
	c.Epochs, c.Batch, c.Validation = 2, 16, 20
	c.Pretrain.Epochs = 2
	c.Dynamics.Steps, c.Sleep.Dynamics.Steps = 8, 8
	data := tinyData(t, c)
	tr, err := train.New(c, data)
	if err != nil {
		t.Fatal(err)
	}
	for !tr.Done() {
		r, err := tr.Next(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		first := len(tr.History()) == 1
		want := !first && r.Phase != "train"
		if r.EvalReused != want {
			t.Errorf("%s epoch %d: eval reused %v, want %v", r.Phase, r.Epoch, r.EvalReused, want)
		}
		if loss, acc := tr.Evaluate(data.Test); loss != r.TestLoss || acc != r.TestAccuracy {
			t.Errorf("%s epoch %d: test %g/%g, a fresh evaluation gives %g/%g", r.Phase, r.Epoch, r.TestLoss, r.TestAccuracy, loss, acc)
		}
		if r.EvalReused && r.EvalSeconds != 0 {
			t.Errorf("%s epoch %d: eval seconds %g for a reused evaluation", r.Phase, r.Epoch, r.EvalSeconds)
		}
	}
}

// TestFork: Trainer.Fork continues another run's snapshot under a
// configuration whose optimizers' constants may differ. With nothing
// changed it is a resume (the uninterrupted run's bits); with a lower
// learning rate it starts from the snapshot's exact state and then goes
// elsewhere; any other difference is refused, naming the key, and leaves
// the trainer unchanged.
func TestFork(t *testing.T) {
	c := resumeConfig()
	data := tinyData(t, c)
	want := finished(t, c, data)

	a, _ := train.New(c, data)
	stopAt(t, a, "train", 2, 4)
	snap, _ := a.Snapshot()

	same, _ := train.New(c, data)
	if err := same.Fork(snap); err != nil {
		t.Fatal(err)
	}
	finish(t, same)
	if got, _ := same.Snapshot(); sameBits(want, got) != "" {
		t.Errorf("a fork with nothing changed: %s differ from the uninterrupted run", sameBits(want, got))
	}

	slow := c
	slow.Forward.LR /= 4
	slow.ClipNorm = 0.5
	slow.Dynamics.Alpha = 2
	slow.Epochs = 4
	b, _ := train.New(slow, data)
	if err := b.Fork(snap); err != nil {
		t.Fatal(err)
	}
	at, _ := b.Snapshot()
	if p, q := b.Position(), a.Position(); sameBits(snap, at) != "" || p.Phase != q.Phase || p.Epoch != q.Epoch || p.Batch != q.Batch {
		t.Errorf("right after the fork: %q differ, position %v, want %v", sameBits(snap, at), p, q)
	}
	if b.Config().Forward.LR != slow.Forward.LR {
		t.Errorf("the fork's learning rate is %g, want its own %g", b.Config().Forward.LR, slow.Forward.LR)
	}
	finish(t, b)
	got, _ := b.Snapshot()
	if sameBits(want, got) == "" {
		t.Error("a fork with a quarter of the learning rate ends with the original run's weights")
	}
	if len(got.History) != len(want.History)+1 {
		t.Errorf("the fork's history has %d stages, want the original's %d and one more epoch", len(got.History), len(want.History))
	}

	for _, tc := range []struct {
		name string
		mod  func(c *train.Config)
		want string
	}{
		{"seed", func(c *train.Config) { c.Seed++ }, "seed"},
		{"optimizer kind", func(c *train.Config) { c.Forward.Kind = train.KindSGD }, "forward.kind"},
		{"second moment", func(c *train.Config) { c.Forward.SecondMoment = train.MomentWindow }, "forward.second_moment"},
		{"window", func(c *train.Config) { c.Dynamics.Steps++ }, "dynamics.steps"},
		{"pre-training's leak", func(c *train.Config) { c.Pretrain.Dynamics.Alpha++ }, "pretrain.dynamics.alpha"},
	} {
		other := c
		tc.mod(&other)
		o, err := train.New(other, data)
		if err != nil {
			t.Fatal(err)
		}
		before, pos := snapOf(o), o.Position()
		err = o.Fork(snap)
		if err == nil || !errors.Is(err, train.ErrSnapshot) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want train.ErrSnapshot naming %q", tc.name, err, tc.want)
		}
		if sameBits(before, snapOf(o)) != "" || o.Position() != pos {
			t.Errorf("%s: a refused fork changed the trainer", tc.name)
		}
	}
}

// snapOf returns tr's snapshot.
func snapOf(tr *train.Trainer) *train.Snapshot {
	s, err := tr.Snapshot()
	if err != nil {
		panic(err)
	}
	return s
}
