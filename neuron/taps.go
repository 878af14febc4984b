package neuron

import (
	"fmt"

	"github.com/strongdfc/strongdfc/compute"
)

// Quantity names a per-step value of a population that a plasticity rule
// can ask for (tap) while the layer steps.
type Quantity uint8

const (
	// TapRate is the new rate (or output) r[k+1].
	TapRate Quantity = iota
	// TapApical is the new apical voltage v_fb[k+1].
	TapApical
	// TapMismatch is Soma.Mismatch of the new state: φ(v[k+1]) − φ(v_ff[k+1])
	// for a rate neuron.
	TapMismatch
	// TapSoma is the new somatic voltage v[k+1].
	TapSoma
	// TapBasal is the basal voltage v_ff[k+1].
	TapBasal
	numQuantities
)

var quantityNames = [...]string{TapRate: "rate", TapApical: "apical", TapMismatch: "mismatch", TapSoma: "soma", TapBasal: "basal"}

// String names the quantity.
func (q Quantity) String() string {
	if q < numQuantities {
		return quantityNames[q]
	}
	return fmt.Sprintf("Quantity(%d)", uint8(q))
}

// Tap is one destination of a quantity.
type Tap struct {
	Q   Quantity
	Dst compute.Strided
}

// Taps are the destinations that Layer.Step fills while a block of rows is
// in cache, so that plasticity needs no separate pass over memory. Reset
// and Add reuse the list's memory: a step allocates nothing.
type Taps struct {
	list     []Tap
	mismatch bool
}

// Reset empties the list.
func (t *Taps) Reset() {
	t.list = t.list[:0]
	t.mismatch = false
}

// Add asks for quantity q of the step to be written to dst.
func (t *Taps) Add(q Quantity, dst compute.Strided) {
	if q >= numQuantities {
		panic(fmt.Sprintf("neuron: Taps.Add: unknown quantity %d", q))
	}
	t.list = append(t.list, Tap{q, dst})
	if q == TapMismatch {
		t.mismatch = true
	}
}

// Len returns the number of destinations.
func (t *Taps) Len() int {
	if t == nil {
		return 0
	}
	return len(t.list)
}
