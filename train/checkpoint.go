package train

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/strongdfc/strongdfc/circuit"
	"github.com/strongdfc/strongdfc/internal/npz"
)

// The file formats, both NumPy .npz archives (numpy.load reads them).
//
// A weights file holds, for each layer i = 1..L, "layerI.W" (n_i × n_{i−1}),
// "layerI.b" (n_i) and "layerI.Q" (n_i × n_L) as float64, plus "sizes"
// (int64, input first), "format" (int64, WeightsFormat) and "config.json"
// (the run's Config as JSON, uint8).
//
// A checkpoint holds everything a weights file holds (so it can be used
// where weights are expected) and the rest of a Snapshot:
//
//	counters                 int64 [epoch, pretrain_epoch, clock, pretrain_clock]
//	counters.sleep           int64 [stage, sleep_clock] (two-phase methods)
//	adam.NAME.t              int64 [steps], NAME = forward, feedback, pretrain
//	adam.NAME.m.PARAM        float64, the first moment of PARAM (e.g. layer1.W)
//	adam.NAME.v.PARAM        float64, the second moment
//	rng.shuffle              uint8, math/rand/v2 PCG state
//	rng.noise                uint8, neuron.Gaussian state
//	rng.pretrain_noise       uint8 (while pre-training is under way)
//	rng.sleep_noise          uint8 (two-phase methods)
//	partial.order            int64, the interrupted epoch's sample order
//	partial.sums             float64 [loss, accuracy, seconds, diagnostics...]
//	partial.json             uint8, phase, epoch, next minibatch, samples, diagnostic names
//	history.json             uint8, the finished epochs' results (JSON list)
//
// The adam.pretrain.* and partial.* arrays are present only when needed.
const (
	WeightsFormat    = 1
	CheckpointFormat = 1
)

// WriteWeights writes the network's weights and the configuration as a
// weights file.
func WriteWeights(w io.Writer, cfg Config, net *circuit.Network) error {
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

func weightArrays(cfg Config, sizes []int, W, B, Q [][]float64) ([]npz.Array, error) {
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

// Encode writes the snapshot as a checkpoint.
func (s *Snapshot) Encode(w io.Writer) error {
	arrays, err := weightArrays(s.Config, s.Sizes, s.W, s.B, s.Q)
	if err != nil {
		return err
	}
	add := func(a ...npz.Array) { arrays = append(arrays, a...) }
	add(npz.Int64("format", []int64{CheckpointFormat}),
		npz.Int64("counters", []int64{int64(s.Epoch), int64(s.PretrainEpoch), s.Clock, s.PretrainClock}))
	names := paramNames(s.Sizes)
	adam := func(name string, pn []string, a AdamState) error {
		if len(a.M) != len(pn) || len(a.V) != len(pn) {
			return fmt.Errorf("checkpoint: %s optimizer has moments of %d and %d parameters, want %d", name, len(a.M), len(a.V), len(pn))
		}
		add(npz.Int64("adam."+name+".t", []int64{int64(a.T)}))
		for i, p := range pn {
			add(npz.Float64("adam."+name+".m."+p, a.M[i]), npz.Float64("adam."+name+".v."+p, a.V[i]))
		}
		return nil
	}
	if err := adam("forward", names.fwd, s.Forward); err != nil {
		return err
	}
	if err := adam("feedback", names.fb, s.Feedback); err != nil {
		return err
	}
	if s.Pretrain != nil {
		if err := adam("pretrain", names.fb, *s.Pretrain); err != nil {
			return err
		}
		add(npz.Bytes("rng.pretrain_noise", s.PretrainNoise))
	}
	add(npz.Bytes("rng.shuffle", s.Shuffle), npz.Bytes("rng.noise", s.Noise))
	if s.SleepNoise != nil || s.Stage != 0 {
		add(npz.Int64("counters.sleep", []int64{int64(s.Stage), s.SleepClock}), npz.Bytes("rng.sleep_noise", s.SleepNoise))
	}
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

type partialJSON struct {
	Phase     string   `json:"phase"`
	Epoch     int      `json:"epoch"`
	Next      int      `json:"next"`
	Samples   int      `json:"samples"`
	DiagNames []string `json:"diagnostics"`
}

type paramNameLists struct{ fwd, fb []string }

func paramNames(sizes []int) paramNameLists {
	var n paramNameLists
	for i := 1; i < len(sizes); i++ {
		p := "layer" + strconv.Itoa(i) + "."
		n.fwd = append(n.fwd, p+"W", p+"b")
		n.fb = append(n.fb, p+"Q")
	}
	return n
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
func readWeights(set *npz.Set) (cfg Config, sizes []int, W, B, Q [][]float64, err error) {
	cj, err := set.Bytes("config.json")
	if err != nil {
		return
	}
	if err = json.Unmarshal(cj, &cfg); err != nil {
		err = fmt.Errorf("%s: config.json: %w", set.Source, err)
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
func ReadNetwork(path string) (Config, *circuit.Network, error) {
	set, err := openSet(path)
	if err != nil {
		return Config{}, nil, err
	}
	cfg, sizes, W, B, Q, err := readWeights(set)
	if err != nil {
		return Config{}, nil, corrupt(err)
	}
	s := &Snapshot{Config: cfg, Sizes: sizes, W: W, B: B, Q: Q}
	net, err := s.Network()
	if err != nil {
		return Config{}, nil, corrupt(fmt.Errorf("%s: %w", path, err))
	}
	return cfg, net, nil
}

func corrupt(err error) error {
	if errors.Is(err, ErrCorrupt) {
		return err
	}
	return fmt.Errorf("%w (%w)", err, ErrCorrupt)
}

// ReadCheckpoint reads a checkpoint written by Snapshot.Encode. It checks
// that every array is present with the right shape; whether the snapshot
// fits a run is checked by Trainer.Restore.
func ReadCheckpoint(path string) (*Snapshot, error) {
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

func decodeSnapshot(set *npz.Set) (*Snapshot, error) {
	src := set.Source
	if !set.Has("counters") && set.Has("layer1.W") {
		return nil, fmt.Errorf("%s is a weights file (no optimizer or generator state), not a checkpoint", src)
	}
	f, err := set.Int64("format", 1)
	if err != nil {
		return nil, err
	}
	if f[0] != CheckpointFormat {
		return nil, fmt.Errorf("%s: checkpoint format %d, this program reads %d (is it a weights file?)", src, f[0], CheckpointFormat)
	}
	s := &Snapshot{}
	if s.Config, s.Sizes, s.W, s.B, s.Q, err = readWeights(set); err != nil {
		return nil, err
	}
	c, err := set.Int64("counters", 4)
	if err != nil {
		return nil, err
	}
	if c[0] < 0 || c[1] < 0 || c[0] > 1<<30 || c[1] > 1<<30 {
		return nil, fmt.Errorf("%s: impossible epoch counters %v", src, c[:2])
	}
	s.Epoch, s.PretrainEpoch, s.Clock, s.PretrainClock = int(c[0]), int(c[1]), c[2], c[3]
	names := paramNames(s.Sizes)
	adam := func(name string, pn []string, dst *AdamState) error {
		t, err := set.Int64("adam."+name+".t", 1)
		if err != nil {
			return err
		}
		if t[0] < 0 || t[0] > 1<<40 {
			return fmt.Errorf("%s: adam.%s.t = %d is impossible", src, name, t[0])
		}
		dst.T = int(t[0])
		for _, p := range pn {
			m, err := set.Float64("adam." + name + ".m." + p)
			if err != nil {
				return err
			}
			v, err := set.Float64("adam." + name + ".v." + p)
			if err != nil {
				return err
			}
			dst.M, dst.V = append(dst.M, m), append(dst.V, v)
		}
		return nil
	}
	if err := adam("forward", names.fwd, &s.Forward); err != nil {
		return nil, err
	}
	if err := adam("feedback", names.fb, &s.Feedback); err != nil {
		return nil, err
	}
	if set.Has("adam.pretrain.t") {
		s.Pretrain = &AdamState{}
		if err := adam("pretrain", names.fb, s.Pretrain); err != nil {
			return nil, err
		}
		if s.PretrainNoise, err = set.Bytes("rng.pretrain_noise"); err != nil {
			return nil, err
		}
	}
	if s.Shuffle, err = set.Bytes("rng.shuffle"); err != nil {
		return nil, err
	}
	if s.Noise, err = set.Bytes("rng.noise"); err != nil {
		return nil, err
	}
	if set.Has("counters.sleep") {
		cs, err := set.Int64("counters.sleep", 2)
		if err != nil {
			return nil, err
		}
		if cs[0] < 0 || cs[0] > 1<<20 {
			return nil, fmt.Errorf("%s: impossible stage %d", src, cs[0])
		}
		s.Stage, s.SleepClock = int(cs[0]), cs[1]
		if s.SleepNoise, err = set.Bytes("rng.sleep_noise"); err != nil {
			return nil, err
		}
		if len(s.SleepNoise) == 0 {
			s.SleepNoise = nil
		}
	}
	if set.Has("partial.json") {
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
		pe := &PartialEpoch{Phase: p.Phase, Epoch: p.Epoch, Next: p.Next, Samples: p.Samples, DiagNames: p.DiagNames,
			LossSum: sums[0], AccSum: sums[1], Seconds: sums[2], DiagSums: sums[3:]}
		for _, o := range order {
			if o < 0 || o > 1<<40 {
				return nil, fmt.Errorf("%s: partial.order holds %d", src, o)
			}
			pe.Order = append(pe.Order, int(o))
		}
		s.Partial = pe
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
