package neuron

import (
	"encoding/binary"
	"fmt"
	"sync"
)

// NoiseSource supplies the standard normal draws ξ of the noise.
//
// Layers are numbered from 1 (the first hidden layer) and rows are the
// samples of the minibatch; layer i draws its apical noise from stream i
// and its somatic noise (if any) from stream −i. Each call fills dst with
// the next draws for one (stream, row) pair, one per neuron. Calls for distinct pairs may run
// concurrently, so a source keeps an independent stream per pair; results
// therefore do not depend on how the work is split among goroutines.
type NoiseSource interface {
	StdNormal(layer, row int, dst []float64)
}

// RowsSource is a NoiseSource that can also draw for several consecutive
// rows at once: StdNormalRows fills dst[k·stride:][:n], for k < rows, with
// the next n draws of the (layer, row+k) stream, the very numbers rows
// calls of StdNormal would give. Layer.Step draws each block of rows so
// when its source has it (the default source then draws eight rows'
// streams side by side).
type RowsSource interface {
	NoiseSource
	StdNormalRows(layer, row, rows, n int, dst []float64, stride int)
}

// UniformSource is a NoiseSource that also supplies uniform draws in
// (0, 1), for spike generators: one stream per (population, row),
// populations numbered 0 (the input) to L, independent of the normal
// streams.
type UniformSource interface {
	NoiseSource
	Uniform(pop, row int, dst []float64)
	// ReserveUniform makes the streams of populations 0..pops-1 and rows
	// 0..rows-1 exist (called once, before concurrent use).
	ReserveUniform(pops, rows int)
}

// Gaussian is the default NoiseSource: one independent stream per (layer,
// row), all derived from a single seed. Draws use xoshiro256++ and the
// ziggurat method (ziggurat.go). It is also a UniformSource.
type Gaussian struct {
	seed uint64
	mu   sync.Mutex // guards growth of streams
	// streams[slot][row], slot as in slot(); unif[pop][row]
	streams [][]stream
	unif    [][]stream
}

// NewGaussian returns a source whose streams are derived from seed.
func NewGaussian(seed uint64) *Gaussian { return &Gaussian{seed: seed} }

// slot maps a stream index (i apical, −i somatic) to its place in streams.
func slot(layer int) int {
	if layer > 0 {
		return 2 * (layer - 1)
	}
	return 2*(-layer-1) + 1
}

// Reserve makes sure streams exist for layers 1..layers (apical and
// somatic) and rows 0..rows-1. Circuits call it once at construction so
// that StdNormal never has to grow the table while several goroutines use
// it.
func (g *Gaussian) Reserve(layers, rows int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for len(g.streams) < 2*layers {
		g.streams = append(g.streams, nil)
	}
	for s := range 2 * layers {
		for r := len(g.streams[s]); r < rows; r++ {
			g.streams[s] = append(g.streams[s], newStream(g.normalSeed(s, r)))
		}
	}
}

// normalSeed is the seed of the normal stream of slot s and row r.
func (g *Gaussian) normalSeed(s, r int) uint64 {
	return splitmix(g.seed ^ splitmix(uint64(s+1)<<32|uint64(r)))
}

// uniformSeed is the seed of the uniform stream of population p and row r.
func (g *Gaussian) uniformSeed(p, r int) uint64 {
	return splitmix(g.seed ^ uniformSalt ^ splitmix(uint64(p+1)<<32|uint64(r)))
}

// Reseed restarts every reserved stream from seed: the source then draws
// what NewGaussian(seed), reserved alike, would. An evaluation reseeds
// before every window, so that a window's draws do not depend on how
// many steps the windows before it took. Like Reserve, it must not run
// while the source is drawing.
func (g *Gaussian) Reseed(seed uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seed = seed
	for s := range g.streams {
		for r := range g.streams[s] {
			g.streams[s][r] = newStream(g.normalSeed(s, r))
		}
	}
	for p := range g.unif {
		for r := range g.unif[p] {
			g.unif[p][r] = newStream(g.uniformSeed(p, r))
		}
	}
}

// uniformSalt sets the uniform streams' seeds apart from the normal ones.
const uniformSalt = 0x756e69666f726d00

// ReserveUniform makes sure uniform streams exist for populations
// 0..pops-1 and rows 0..rows-1.
func (g *Gaussian) ReserveUniform(pops, rows int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for len(g.unif) < pops {
		g.unif = append(g.unif, nil)
	}
	for p := range pops {
		for r := len(g.unif[p]); r < rows; r++ {
			g.unif[p] = append(g.unif[p], newStream(g.uniformSeed(p, r)))
		}
	}
}

// Uniform fills dst with uniform draws in (0, 1) of the (population, row)
// stream.
func (g *Gaussian) Uniform(pop, row int, dst []float64) {
	if pop < 0 || pop >= len(g.unif) || row < 0 || row >= len(g.unif[pop]) {
		panic(fmt.Sprintf("neuron: uniform stream (population %d, row %d) not reserved", pop, row))
	}
	st := &g.unif[pop][row]
	for i := range dst {
		dst[i] = st.uniform()
	}
}

// StdNormal fills dst with standard normal draws of the (layer, row)
// stream.
func (g *Gaussian) StdNormal(layer, row int, dst []float64) {
	s := slot(layer)
	if layer == 0 || s >= len(g.streams) || row < 0 || row >= len(g.streams[s]) {
		panic(fmt.Sprintf("neuron: Gaussian noise stream (layer %d, row %d) not reserved", layer, row))
	}
	g.streams[s][row].fill(dst)
}

// StdNormalRows fills dst[k·stride:][:n], for k < rows, with the next n
// standard normal draws of the (layer, row+k) stream: what StdNormal does
// for each row, bit for bit, with eight streams drawn side by side where
// the CPU has AVX-512.
func (g *Gaussian) StdNormalRows(layer, row, rows, n int, dst []float64, stride int) {
	s := slot(layer)
	if layer == 0 || s >= len(g.streams) || row < 0 || rows < 0 || row+rows > len(g.streams[s]) {
		panic(fmt.Sprintf("neuron: Gaussian noise streams (layer %d, rows %d..%d) not reserved", layer, row, row+rows-1))
	}
	fillRows(g.streams[s][row:row+rows], dst, stride, n)
}

// MarshalBinary encodes the seed and the state of every stream, so that a
// resumed run draws exactly the numbers an uninterrupted one would.
func (g *Gaussian) MarshalBinary() ([]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	b := binary.LittleEndian.AppendUint64(nil, g.seed)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(g.streams)))
	for _, layer := range g.streams {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(layer)))
		for _, s := range layer {
			for _, w := range s.s {
				b = binary.LittleEndian.AppendUint64(b, w)
			}
		}
	}
	if len(g.unif) > 0 {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(g.unif)))
		for _, pop := range g.unif {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(pop)))
			for _, s := range pop {
				for _, w := range s.s {
					b = binary.LittleEndian.AppendUint64(b, w)
				}
			}
		}
	}
	return b, nil
}

// UnmarshalBinary restores a state written by MarshalBinary.
func (g *Gaussian) UnmarshalBinary(b []byte) error {
	bad := fmt.Errorf("neuron: corrupt Gaussian noise state (%d bytes)", len(b))
	next := func(n int) ([]byte, bool) {
		if len(b) < n {
			return nil, false
		}
		h := b[:n]
		b = b[n:]
		return h, true
	}
	h, ok := next(12)
	if !ok {
		return bad
	}
	seed := binary.LittleEndian.Uint64(h)
	table := func(n int) ([][]stream, bool) {
		if n > len(b) {
			return nil, false
		}
		t := make([][]stream, n)
		for l := range n {
			h, ok := next(4)
			if !ok {
				return nil, false
			}
			rows := int(binary.LittleEndian.Uint32(h))
			if rows > len(b)/32 {
				return nil, false
			}
			t[l] = make([]stream, rows)
			for r := range rows {
				h, ok := next(32)
				if !ok {
					return nil, false
				}
				for w := range 4 {
					t[l][r].s[w] = binary.LittleEndian.Uint64(h[8*w:])
				}
			}
		}
		return t, true
	}
	streams, ok := table(int(binary.LittleEndian.Uint32(h[8:])))
	if !ok {
		return bad
	}
	var unif [][]stream
	if len(b) > 0 { // the uniform streams (absent in states written before them)
		h, ok := next(4)
		if !ok {
			return bad
		}
		if unif, ok = table(int(binary.LittleEndian.Uint32(h))); !ok {
			return bad
		}
	}
	if len(b) != 0 {
		return bad
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seed, g.streams, g.unif = seed, streams, unif
	return nil
}

// Offset is a noise source whose row r is row r+Row of Src: a circuit that
// simulates rows Row.. of a minibatch draws the noise those rows draw in a
// circuit of the whole minibatch. It is a UniformSource when Src is.
type Offset struct {
	Src NoiseSource
	Row int
}

// StdNormal draws from Src's row r+Row.
func (o Offset) StdNormal(layer, row int, dst []float64) { o.Src.StdNormal(layer, row+o.Row, dst) }

// StdNormalRows draws rows row.. from Src's rows row+Row.., at once when
// Src is a RowsSource, else row by row.
func (o Offset) StdNormalRows(layer, row, rows, n int, dst []float64, stride int) {
	if rs, ok := o.Src.(RowsSource); ok {
		rs.StdNormalRows(layer, row+o.Row, rows, n, dst, stride)
		return
	}
	for k := range rows {
		o.Src.StdNormal(layer, row+o.Row+k, dst[k*stride:][:n])
	}
}

// Uniform draws from Src's row r+Row (Src must be a UniformSource).
func (o Offset) Uniform(pop, row int, dst []float64) {
	o.Src.(UniformSource).Uniform(pop, row+o.Row, dst)
}

// ReserveUniform reserves Src's streams for rows up to rows+Row.
func (o Offset) ReserveUniform(pops, rows int) {
	o.Src.(UniformSource).ReserveUniform(pops, rows+o.Row)
}

// Reserve reserves Src's normal streams for rows up to rows+Row (when Src
// keeps streams).
func (o Offset) Reserve(layers, rows int) {
	if r, ok := o.Src.(interface{ Reserve(layers, rows int) }); ok {
		r.Reserve(layers, rows+o.Row)
	}
}

// Replay is a NoiseSource that hands out recorded draws, for tests that
// reproduce a reference run. Draws[l][t][row] is the vector of layer l+1's
// t-th draw for that row.
type Replay struct {
	Draws [][][][]float64
	next  [][]int
}

// NewReplay returns a source that replays draws in order.
func NewReplay(draws [][][][]float64) *Replay {
	r := &Replay{Draws: draws, next: make([][]int, len(draws))}
	for l := range draws {
		rows := 0
		if len(draws[l]) > 0 {
			rows = len(draws[l][0])
		}
		r.next[l] = make([]int, rows)
	}
	return r
}

// StdNormal copies the next recorded draw of (layer, row) into dst. It
// panics when the recording is exhausted or the length differs, and for
// somatic streams (layer < 0), which it does not record.
func (r *Replay) StdNormal(layer, row int, dst []float64) {
	if layer < 1 {
		panic(fmt.Sprintf("neuron: Replay has no stream %d (only apical noise is replayed)", layer))
	}
	l := layer - 1
	t := r.next[l][row]
	if t >= len(r.Draws[l]) {
		panic(fmt.Sprintf("neuron: replayed noise of layer %d row %d exhausted after %d draws", layer, row, t))
	}
	src := r.Draws[l][t][row]
	if len(src) != len(dst) {
		panic(fmt.Sprintf("neuron: replayed noise of layer %d has %d neurons, want %d", layer, len(src), len(dst)))
	}
	copy(dst, src)
	r.next[l][row] = t + 1
}

// splitmix is the SplitMix64 finaliser, used to derive independent seeds.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
