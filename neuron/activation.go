package neuron

import (
	"fmt"
	"math"
	"strings"
)

// Activation is a neuron's rate function φ, mapping somatic voltage to rate.
type Activation uint8

// The activation functions.
const (
	// Linear is φ(v) = v, used for the output layer.
	Linear Activation = iota
	// Tanh is φ(v) = tanh(v), used for hidden layers.
	Tanh
	// Logistic is φ(v) = 1/(1+e^−v).
	Logistic
	// ReLU is φ(v) = max(v, 0).
	ReLU
)

var activationNames = [...]string{Linear: "linear", Tanh: "tanh", Logistic: "logistic", ReLU: "relu"}

// String returns the activation's name as ParseActivation accepts it.
func (a Activation) String() string {
	if int(a) < len(activationNames) {
		return activationNames[a]
	}
	return fmt.Sprintf("Activation(%d)", uint8(a))
}

// Valid reports whether a is one of the defined activations.
func (a Activation) Valid() bool { return int(a) < len(activationNames) }

// ParseActivation returns the activation with the given name (case
// insensitive): linear, tanh, logistic (or sigmoid) or relu.
func ParseActivation(name string) (Activation, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "sigmoid" {
		return Logistic, nil
	}
	for i, s := range activationNames {
		if s == n {
			return Activation(i), nil
		}
	}
	return 0, fmt.Errorf("neuron: unknown activation %q (want one of linear, tanh, logistic, relu)", name)
}

// MarshalText implements encoding.TextMarshaler.
func (a Activation) MarshalText() ([]byte, error) {
	if !a.Valid() {
		return nil, fmt.Errorf("neuron: invalid activation %d", uint8(a))
	}
	return []byte(a.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Activation) UnmarshalText(b []byte) error {
	v, err := ParseActivation(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Eval returns φ(v).
func (a Activation) Eval(v float64) float64 {
	switch a {
	case Linear:
		return v
	case Tanh:
		return tanh(v)
	case Logistic:
		return logistic(v)
	case ReLU:
		if v > 0 {
			return v
		}
		return 0
	}
	panic("neuron: invalid activation " + a.String())
}

// Deriv returns φ'(v), the derivative of the rate with respect to the
// voltage. For ReLU the derivative at 0 is taken as 0.
func (a Activation) Deriv(v float64) float64 {
	switch a {
	case Linear:
		return 1
	case Tanh:
		t := tanh(v)
		return 1 - t*t
	case Logistic:
		s := logistic(v)
		return s * (1 - s)
	case ReLU:
		if v > 0 {
			return 1
		}
		return 0
	}
	panic("neuron: invalid activation " + a.String())
}

// Apply sets dst[i] = φ(src[i]). dst and src must have the same length and
// may be the same slice.
func (a Activation) Apply(dst, src []float64) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("neuron: Apply length mismatch: dst %d, src %d", len(dst), len(src)))
	}
	switch a {
	case Linear:
		copy(dst, src)
	case Tanh:
		tanhVec(dst, src)
	default:
		for i, v := range src {
			dst[i] = a.Eval(v)
		}
	}
}

// ApplyDeriv sets dst[i] = φ'(src[i]).
func (a Activation) ApplyDeriv(dst, src []float64) {
	if len(dst) != len(src) {
		panic(fmt.Sprintf("neuron: ApplyDeriv length mismatch: dst %d, src %d", len(dst), len(src)))
	}
	for i, v := range src {
		dst[i] = a.Deriv(v)
	}
}

func logistic(v float64) float64 {
	if v >= 0 {
		return 1 / (1 + math.Exp(-v))
	}
	e := math.Exp(v)
	return e / (1 + e)
}
