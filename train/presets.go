package train

import (
	"fmt"
	"sort"
)

// FashionMNIST returns the published configuration of single-phase
// Strong-DFC on Fashion-MNIST (../shared/docs/strong-dfc.md §6; the
// full-precision values of the authors' command line, and their defaults
// where it sets none: forward β1 = 0.99, feedback β1 = 0.99).
func FashionMNIST() Config {
	c := MNIST()
	c.Dataset = "fashion-mnist"
	c.Dynamics = Dynamics{
		DT: 0.001, Steps: 500, TauV: 0.012867645074062533,
		Alpha: 7.6370562381715e-05, KP: 2.0,
		Sigma: 0.0033626248925544607, SigmaOut: 0.040920898808660004,
	}
	c.TauNoise = 0.05
	c.Forward = Adam{LR: 0.0009531990715839369, Beta1: 0.99, Beta2: 0.999, Eps: 9.710433697812103e-08}
	c.Feedback = Adam{LR: 2.286529865070366e-08, Beta1: 0.99, Beta2: 0.999, Eps: 1.8382415746971348e-11}
	c.Pretrain = Pretrain{
		Epochs: 20, LR: 3.431924248095537e-07,
		Dynamics: Dynamics{
			DT: 0.0006919071551575181, Steps: 500, TauV: 0.0006919071551575181,
			Alpha: 0.6266762258519998, KP: 0.02488635344325425,
			Sigma: 3.885866343508479e-06, SigmaOut: 1.9337256383926155e-05,
		},
	}
	return c
}

// Preset is a named, published configuration.
type Preset struct {
	Name        string
	Description string
	Config      func() Config
}

var presets = []Preset{
	{"mnist-strong-dfc", "single-phase Strong-DFC on MNIST, as published (97.72 % after 40 epochs)", MNIST},
	{"fashion-mnist-strong-dfc", "single-phase Strong-DFC on Fashion-MNIST, as published (87.26 % after 40 epochs)", FashionMNIST},
}

// Presets returns the named configurations, sorted by name.
func Presets() []Preset {
	out := append([]Preset(nil), presets...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// LookupPreset returns the configuration of a named preset.
func LookupPreset(name string) (Config, error) {
	for _, p := range presets {
		if p.Name == name {
			return p.Config(), nil
		}
	}
	var names []string
	for _, p := range Presets() {
		names = append(names, p.Name)
	}
	return Config{}, fmt.Errorf("unknown preset %q (known: %v)", name, names)
}
