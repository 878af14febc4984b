package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"

	"github.com/strongdfc/strongdfc/checkpoint/npz"
	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/synapse"
	"github.com/strongdfc/strongdfc/train"
)

// The file formats, both NumPy .npz archives (numpy.load reads them).
//
// A weights file holds, for each layer i = 1..L, "layerI.W" (n_i × n_{i−1}),
// "layerI.b" (n_i) and "layerI.Q" (n_i × n_L) as float64, plus "sizes"
// (int64, input first), "format" (int64, WeightsFormat) and "config.json"
// (the run's train.Config as JSON, uint8).
//
// A checkpoint holds everything a weights file holds (so it can be used
// where weights are expected) and the rest of a train.Snapshot:
//
//	counters                 int64 [stages done] (see train.Method.Position)
//	optimizers.json          uint8, the optimizers' names in the method's order
//	opt.NAME.t               int64 [steps] of optimizer NAME
//	opt.NAME.BUF.PARAM       float64, buffer BUF ("m", "v" for Adam) of PARAM (e.g. layer1.W)
//	phases.json              uint8, the phases' names in the method's order
//	phase.NAME.clock         int64 [step] of phase NAME's clock
//	rng.phase.NAME           uint8, the state of phase NAME's noise source (when it has one)
//	phase.NAME.started       int64 [0 or 1], whether phase NAME's stream has started (stream phases)
//	state.NAME.VAR           float64, variable VAR of phase NAME's circuit (stream phases: layerI.soma, controller.u, ...)
//	rng.shuffle              uint8, math/rand/v2 PCG state
//	partial.order            int64, the interrupted epoch's sample order
//	partial.sums             float64 [loss, accuracy, seconds, diagnostics...]
//	partial.json             uint8, phase, epoch, next minibatch, samples, diagnostic names
//	history.json             uint8, the finished epochs' results (JSON list)
//
// The partial.* arrays are present only in a checkpoint taken during an
// epoch. Checkpoints of format 1 (before phases were a list) are read too.
const (
	WeightsFormat    = 1
	CheckpointFormat = 2
)

// WriteWeights writes the network's weights and the configuration as a
// weights file.
func WriteWeights(w io.Writer, cfg train.Config, net *circuit.Network) error {
	W, B, Q := weightsOf(net)
	arrays, err := weightArrays(cfg, net.Sizes, W, B, Q)
	if err != nil {
		return err
	}
	return npz.Write(w, append(arrays, npz.Int64("format", []int64{WeightsFormat})))
}

func weightsOf(net *circuit.Network) (W, B, Q [][]float64) {
	for i := range net.Forward {
		W = append(W, net.Forward[i].W.RawMatrix().Data)
		B = append(B, net.Forward[i].B.RawVector().Data)
		Q = append(Q, net.Feedback[i].Q.RawMatrix().Data)
	}
	return W, B, Q
}

func weightArrays(cfg train.Config, sizes []int, W, B, Q [][]float64) ([]npz.Array, error) {
	cj, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	var sz []int64
	for _, s := range sizes {
		sz = append(sz, int64(s))
	}
	arrays := []npz.Array{npz.Bytes("config.json", cj), npz.Int64("sizes", sz)}
	L := len(sizes) - 1
	for i := 1; i <= L; i++ {
		p := "layer" + strconv.Itoa(i) + "."
		arrays = append(arrays,
			npz.Float64(p+"W", W[i-1], sizes[i], sizes[i-1]),
			npz.Float64(p+"b", B[i-1], sizes[i]),
			npz.Float64(p+"Q", Q[i-1], sizes[i], sizes[L]))
	}
	return arrays, nil
}

// Write writes the snapshot as a checkpoint.
func Write(w io.Writer, s *train.Snapshot) error {
	arrays, err := weightArrays(s.Config, s.Sizes, s.W, s.B, s.Q)
	if err != nil {
		return err
	}
	add := func(a ...npz.Array) { arrays = append(arrays, a...) }
	add(npz.Int64("format", []int64{CheckpointFormat}), npz.Int64("counters", []int64{int64(s.Done)}))
	var opts []optJSON
	var phaseNames []string
	for _, o := range s.Optimizers {
		pn, err := paramNames(o.Of, s.Sizes)
		if err != nil {
			return err
		}
		opts = append(opts, optJSON{o.Name, o.Of})
		add(npz.Int64("opt."+o.Name+".t", []int64{int64(o.Steps)}))
		for _, buf := range sortedKeys(o.Buffers) {
			b := o.Buffers[buf]
			if len(b) != len(pn) {
				return fmt.Errorf("checkpoint: optimizer %s's %s holds %d parameters, want %d", o.Name, buf, len(b), len(pn))
			}
			for i, p := range pn {
				add(npz.Float64("opt."+o.Name+"."+buf+"."+p, b[i]))
			}
		}
	}
	for _, p := range s.Phases {
		phaseNames = append(phaseNames, p.Name)
		add(npz.Int64("phase."+p.Name+".clock", []int64{p.Clock}))
		if p.Noise != nil {
			add(npz.Bytes("rng.phase."+p.Name, p.Noise))
		}
		if p.Vars != nil {
			started := int64(0)
			if p.Started {
				started = 1
			}
			add(npz.Int64("phase."+p.Name+".started", []int64{started}))
			names := make([]string, 0, len(p.Vars))
			for n := range p.Vars {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				add(npz.Float64("state."+p.Name+"."+n, p.Vars[n]))
			}
		}
	}
	oj, _ := json.Marshal(opts)
	pj, _ := json.Marshal(phaseNames)
	add(npz.Bytes("optimizers.json", oj), npz.Bytes("phases.json", pj), npz.Bytes("rng.shuffle", s.Shuffle))
	if p := s.Partial; p != nil {
		order := make([]int64, len(p.Order))
		for i, o := range p.Order {
			order[i] = int64(o)
		}
		pj, err := json.Marshal(partialJSON{p.Phase, p.Epoch, p.Next, p.Samples, p.DiagNames})
		if err != nil {
			return err
		}
		add(npz.Int64("partial.order", order),
			npz.Float64("partial.sums", append([]float64{p.LossSum, p.AccSum, p.Seconds}, p.DiagSums...)),
			npz.Bytes("partial.json", pj))
	}
	hj, err := json.Marshal(s.History)
	if err != nil {
		return err
	}
	add(npz.Bytes("history.json", hj))
	return npz.Write(w, arrays)
}

func sortedKeys(m map[string][][]float64) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// optJSON names an optimizer and what it updates (train.Optimizer.Of).
type optJSON struct {
	Name string `json:"name"`
	Of   string `json:"of"`
}

// paramNames returns the names of the parameters an optimizer of the given
// kind updates, in its order (layer1.W, layer1.b, ... or layer1.Q, ...).
func paramNames(of string, sizes []int) ([]string, error) {
	if of != train.OfForward && of != train.OfFeedback {
		return nil, fmt.Errorf("checkpoint: an optimizer of unknown parameters %q", of)
	}
	var names []string
	for i := 1; i < len(sizes); i++ {
		p := "layer" + strconv.Itoa(i) + "."
		if of == train.OfForward {
			names = append(names, p+"W", p+"b")
		} else {
			names = append(names, p+"Q")
		}
	}
	return names, nil
}

type partialJSON struct {
	Phase     string   `json:"phase"`
	Epoch     int      `json:"epoch"`
	Next      int      `json:"next"`
	Samples   int      `json:"samples"`
	DiagNames []string `json:"diagnostics"`
}

// ErrCorrupt is wrapped by the errors of ReadCheckpoint and ReadWeights
// about files that are not what they should be.
var ErrCorrupt = errors.New("not a valid file of this program")

// openSet reads an .npz file into a name-indexed set.
func openSet(path string) (*npz.Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	arrays, err := npz.Read(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w (%w)", path, err, ErrCorrupt)
	}
	return npz.NewSet(path, arrays), nil
}

// readWeights reads the configuration, sizes and weights common to both
// formats.
func readWeights(set *npz.Set) (cfg train.Config, sizes []int, W, B, Q [][]float64, err error) {
	if cfg, err = readConfig(set); err != nil {
		return
	}
	sz, err := set.Int64("sizes")
	if err != nil {
		return
	}
	if len(sz) < 2 {
		err = fmt.Errorf("%s: sizes %v: a network needs at least two", set.Source, sz)
		return
	}
	for _, s := range sz {
		if s <= 0 || s > 1<<24 {
			err = fmt.Errorf("%s: layer size %d is impossible", set.Source, s)
			return
		}
		sizes = append(sizes, int(s))
	}
	if len(sizes)-2 != len(cfg.Hidden) {
		err = fmt.Errorf("%s: sizes %v do not match the configuration's hidden layers %v", set.Source, sizes, cfg.Hidden)
		return
	}
	L := len(sizes) - 1
	for i := 1; i <= L; i++ {
		p := "layer" + strconv.Itoa(i) + "."
		var w, b, q []float64
		if w, err = set.Float64(p+"W", sizes[i], sizes[i-1]); err != nil {
			return
		}
		if b, err = set.Float64(p+"b", sizes[i]); err != nil {
			return
		}
		if q, err = set.Float64(p+"Q", sizes[i], sizes[L]); err != nil {
			return
		}
		W, B, Q = append(W, w), append(B, b), append(Q, q)
	}
	return
}

// ReadNetwork reads the configuration and the network of a weights file
// or a checkpoint.
func ReadNetwork(path string) (train.Config, *circuit.Network, error) {
	set, err := openSet(path)
	if err != nil {
		return train.Config{}, nil, err
	}
	cfg, sizes, W, B, Q, err := readWeights(set)
	if err != nil {
		return train.Config{}, nil, corrupt(err)
	}
	s := &train.Snapshot{Config: cfg, Sizes: sizes, W: W, B: B, Q: Q}
	net, err := s.Network()
	if err != nil {
		return train.Config{}, nil, corrupt(fmt.Errorf("%s: %w", path, err))
	}
	return cfg, net, nil
}

// ReadConfig reads the configuration a weights file or a checkpoint was
// written with, as that run ran: keys added to the program since then
// have their zero values, which keep the behaviour of the program that
// wrote it.
func ReadConfig(path string) (train.Config, error) {
	set, err := openSet(path)
	if err != nil {
		return train.Config{}, err
	}
	cfg, err := readConfig(set)
	if err != nil {
		return train.Config{}, corrupt(err)
	}
	return cfg, nil
}

// readConfig decodes the configuration stored in a weights file or a
// checkpoint, normalized.
func readConfig(set *npz.Set) (train.Config, error) {
	var cfg train.Config
	cj, err := set.Bytes("config.json")
	if err != nil {
		return cfg, err
	}
	if err := json.Unmarshal(cj, &cfg); err != nil {
		return cfg, fmt.Errorf("%s: config.json: %w", set.Source, err)
	}
	return cfg.Normalize(), nil
}

func corrupt(err error) error {
	if errors.Is(err, ErrCorrupt) {
		return err
	}
	return fmt.Errorf("%w (%w)", err, ErrCorrupt)
}

// Read reads a checkpoint written by Write (or of format 1). It checks
// that every array is present with the right shape; whether the snapshot
// fits a run is checked by train.Trainer.Restore.
func Read(path string) (*train.Snapshot, error) {
	set, err := openSet(path)
	if err != nil {
		return nil, err
	}
	s, err := decodeSnapshot(set)
	if err != nil {
		return nil, corrupt(err)
	}
	return s, nil
}

func decodeSnapshot(set *npz.Set) (*train.Snapshot, error) {
	src := set.Source
	if !set.Has("counters") && set.Has("layer1.W") {
		return nil, fmt.Errorf("%s is a weights file (no optimizer or generator state), not a checkpoint", src)
	}
	f, err := set.Int64("format", 1)
	if err != nil {
		return nil, err
	}
	s := &train.Snapshot{}
	if s.Config, s.Sizes, s.W, s.B, s.Q, err = readWeights(set); err != nil {
		return nil, err
	}
	switch f[0] {
	case 1:
		var m train.Method
		if m, err = s.Config.MethodSpec(); err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		err = decodeV1(set, m, s)
	case CheckpointFormat:
		err = decodeV2(set, s)
	default:
		return nil, fmt.Errorf("%s: checkpoint format %d, this program reads 1 and %d (is it a weights file?)", src, f[0], CheckpointFormat)
	}
	if err != nil {
		return nil, err
	}
	if s.Shuffle, err = set.Bytes("rng.shuffle"); err != nil {
		return nil, err
	}
	if set.Has("partial.json") {
		if s.Partial, err = decodePartial(set); err != nil {
			return nil, err
		}
	}
	hj, err := set.Bytes("history.json")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(hj, &s.History); err != nil {
		return nil, fmt.Errorf("%s: history.json: %w", src, err)
	}
	return s, nil
}

// readOptimizer reads optimizer name's step count and buffers (their
// names from the archive's array names, with prefix).
func readOptimizer(set *npz.Set, of, name, prefix string, sizes []int) (synapse.OptimizerState, error) {
	st := synapse.OptimizerState{Buffers: map[string][][]float64{}}
	pn, err := paramNames(of, sizes)
	if err != nil {
		return st, fmt.Errorf("%s: %w", set.Source, err)
	}
	t, err := set.Int64(prefix+name+".t", 1)
	if err != nil {
		return st, err
	}
	if t[0] < 0 || t[0] > 1<<40 {
		return st, fmt.Errorf("%s: %s%s.t = %d is impossible", set.Source, prefix, name, t[0])
	}
	st.Steps = int(t[0])
	bufs := map[string]bool{}
	for _, n := range set.Names() {
		rest, ok := cutPrefix(n, prefix+name+".")
		if !ok || rest == "t" {
			continue
		}
		for _, p := range pn {
			if b, ok := cutSuffix(rest, "."+p); ok {
				bufs[b] = true
			}
		}
	}
	for b := range bufs {
		for _, p := range pn {
			v, err := set.Float64(prefix + name + "." + b + "." + p)
			if err != nil {
				return st, err
			}
			st.Buffers[b] = append(st.Buffers[b], v)
		}
	}
	return st, nil
}

func cutPrefix(s, p string) (string, bool) {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):], true
	}
	return s, false
}

func cutSuffix(s, p string) (string, bool) {
	if len(s) > len(p) && s[len(s)-len(p):] == p {
		return s[:len(s)-len(p)], true
	}
	return s, false
}

func decodeV2(set *npz.Set, s *train.Snapshot) error {
	src := set.Source
	c, err := set.Int64("counters", 1)
	if err != nil {
		return err
	}
	if c[0] < 0 || c[0] > 1<<30 {
		return fmt.Errorf("%s: impossible stage counter %d", src, c[0])
	}
	s.Done = int(c[0])
	var opts []optJSON
	var phaseNames []string
	for _, x := range []struct {
		name string
		dst  any
	}{{"optimizers.json", &opts}, {"phases.json", &phaseNames}} {
		b, err := set.Bytes(x.name)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, x.dst); err != nil {
			return fmt.Errorf("%s: %s: %w", src, x.name, err)
		}
	}
	for _, o := range opts {
		st, err := readOptimizer(set, o.Of, o.Name, "opt.", s.Sizes)
		if err != nil {
			return err
		}
		s.Optimizers = append(s.Optimizers, train.NamedOptimizerState{Name: o.Name, Of: o.Of, OptimizerState: st})
	}
	for _, n := range phaseNames {
		clk, err := set.Int64("phase."+n+".clock", 1)
		if err != nil {
			return err
		}
		p := train.PhaseState{Name: n, Clock: clk[0]}
		if set.Has("rng.phase." + n) {
			if p.Noise, err = set.Bytes("rng.phase." + n); err != nil {
				return err
			}
		}
		if set.Has("phase." + n + ".started") {
			st, err := set.Int64("phase."+n+".started", 1)
			if err != nil {
				return err
			}
			p.Started = st[0] != 0
			p.Vars = map[string][]float64{}
			for _, a := range set.Names() {
				v, ok := cutPrefix(a, "state."+n+".")
				if !ok {
					continue
				}
				if p.Vars[v], err = set.Float64(a); err != nil {
					return err
				}
			}
		}
		s.Phases = append(s.Phases, p)
	}
	return nil
}

// decodeV1 reads a checkpoint of format 1 (fixed fields for the training,
// pre-training and sleep phases) into the snapshot of today's method.
func decodeV1(set *npz.Set, m train.Method, s *train.Snapshot) error {
	src := set.Source
	c, err := set.Int64("counters", 4)
	if err != nil {
		return err
	}
	if c[0] < 0 || c[1] < 0 || c[0] > 1<<30 || c[1] > 1<<30 {
		return fmt.Errorf("%s: impossible epoch counters %v", src, c[:2])
	}
	epoch, pretrain, clock, preClock := int(c[0]), int(c[1]), c[2], c[3]
	stage, sleepClock := 0, int64(0)
	var sleepNoise []byte
	if set.Has("counters.sleep") {
		cs, err := set.Int64("counters.sleep", 2)
		if err != nil {
			return err
		}
		if cs[0] < 0 || cs[0] > 1<<20 {
			return fmt.Errorf("%s: impossible stage %d", src, cs[0])
		}
		stage, sleepClock = int(cs[0]), cs[1]
		if sleepNoise, err = set.Bytes("rng.sleep_noise"); err != nil {
			return err
		}
	}
	s.Done = pretrain + epoch*len(m.Epoch) + stage
	for _, o := range m.Optimizers {
		if set.Has("adam." + o.Name + ".t") {
			st, err := readOptimizer(set, o.Of, o.Name, "adam.", s.Sizes)
			if err != nil {
				return err
			}
			s.Optimizers = append(s.Optimizers, train.NamedOptimizerState{Name: o.Name, Of: o.Of, OptimizerState: st})
			continue
		}
		if o.Name != "pretrain" || pretrain < len(m.Prologue) {
			return fmt.Errorf("%s: no state of the %s optimizer", src, o.Name)
		}
		// Format 1 dropped the pre-training optimizer after pre-training.
		st := synapse.OptimizerState{Buffers: map[string][][]float64{}}
		for _, b := range []string{"m", "v"} {
			for i := 1; i < len(s.Sizes); i++ {
				st.Buffers[b] = append(st.Buffers[b], make([]float64, s.Sizes[i]*s.Sizes[len(s.Sizes)-1]))
			}
		}
		s.Optimizers = append(s.Optimizers, train.NamedOptimizerState{Name: o.Name, Of: o.Of, OptimizerState: st})
	}
	for _, p := range m.Phases {
		ps := train.PhaseState{Name: p.Name()}
		var key string
		switch p.Name() {
		case "train":
			ps.Clock, key = clock, "rng.noise"
		case "pretrain":
			ps.Clock, key = preClock, "rng.pretrain_noise"
		case "sleep":
			ps.Clock, ps.Noise = sleepClock, sleepNoise
		}
		if _, bp := p.(train.Backprop); bp {
			key = ""
		}
		if key != "" && set.Has(key) {
			if ps.Noise, err = set.Bytes(key); err != nil {
				return err
			}
		}
		s.Phases = append(s.Phases, ps)
	}
	return nil
}

func decodePartial(set *npz.Set) (*train.PartialEpoch, error) {
	src := set.Source
	pj, err := set.Bytes("partial.json")
	if err != nil {
		return nil, err
	}
	var p partialJSON
	if err := json.Unmarshal(pj, &p); err != nil {
		return nil, fmt.Errorf("%s: partial.json: %w", src, err)
	}
	order, err := set.Int64("partial.order")
	if err != nil {
		return nil, err
	}
	sums, err := set.Float64("partial.sums", 3+len(p.DiagNames))
	if err != nil {
		return nil, err
	}
	pe := &train.PartialEpoch{Phase: p.Phase, Epoch: p.Epoch, Next: p.Next, Samples: p.Samples, DiagNames: p.DiagNames,
		LossSum: sums[0], AccSum: sums[1], Seconds: sums[2], DiagSums: sums[3:]}
	for _, o := range order {
		if o < 0 || o > 1<<40 {
			return nil, fmt.Errorf("%s: partial.order holds %d", src, o)
		}
		pe.Order = append(pe.Order, int(o))
	}
	return pe, nil
}
