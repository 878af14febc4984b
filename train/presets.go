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

// The comparison methods' published configurations
// (../shared/docs/strong-dfc.md §7; the full-precision values of the
// authors' command lines, docs/reference-notes.md, and the reference's
// defaults where a command line sets nothing: forward β2 = 0.99 for DFC,
// feedback β = (0.99, 0.99), σ_out = σ, τ_v = 0.2).

// DFCMNIST is DFC with weak feedback on MNIST (97.80 % after 40 epochs).
func DFCMNIST() Config {
	c := MNIST()
	c.Method = MethodDFC
	c.Batch = 32
	c.TargetClassValue = 1
	c.TargetStep = 0.013812748252649061
	c.Dynamics = Dynamics{DT: 0.02, Steps: 500, TauV: 0.2, Alpha: 0.0017723664900917734, KP: 2}
	c.TauNoise, c.TauF, c.LayerScaling = 0, 0, false
	c.Forward = Adam{LR: 0.0010924329072635147, Beta1: 0.9, Beta2: 0.99, Eps: 5.83238643406511e-07}
	c.Feedback = Adam{LR: 4.348352883654314e-05, Beta1: 0.99, Beta2: 0.99, Eps: 3.355535527361205e-05, WeightDecay: 0.1}
	sleep := Dynamics{DT: 0.0011421804343878519, Steps: 44, TauV: 0.005870467170683501,
		Alpha: 0.39857902933813705, KP: 0.0713515876863314,
		Sigma: 0.035483751742735006, SigmaOut: 0.035483751742735006}
	c.Sleep = Sleep{Before: 1, ApicalTau: 0.1404664564483908, Dynamics: sleep}
	c.Pretrain = Pretrain{Epochs: 20, LR: 0.0001524121535306385, Dynamics: sleep}
	return c
}

// DFCFashionMNIST is DFC with weak feedback on Fashion-MNIST (88.70 %).
func DFCFashionMNIST() Config {
	c := DFCMNIST()
	c.Dataset = "fashion-mnist"
	c.Batch = 128
	c.TargetClassValue = 0.999
	c.TargetStep = 0.019957011262493028
	c.Dynamics = Dynamics{DT: 0.02, Steps: 500, TauV: 0.2, Alpha: 0.000451125353657906, KP: 2}
	c.Forward = Adam{LR: 0.0010672718162774038, Beta1: 0.99, Beta2: 0.999, Eps: 3.210886729268312e-07}
	c.Feedback = Adam{LR: 4.3780877225194805e-05, Beta1: 0.99, Beta2: 0.99, Eps: 1.0433715362737473e-08, WeightDecay: 0.001}
	sleep := Dynamics{DT: 0.004294669581123954, Steps: 54, TauV: 0.009266592158186437,
		Alpha: 0.611510021981854, KP: 0.010409666247193437,
		Sigma: 0.001281308789330547, SigmaOut: 0.001281308789330547}
	c.Sleep = Sleep{Before: 1, ApicalTau: 0.4318893018524684, Dynamics: sleep}
	c.Pretrain = Pretrain{Epochs: 20, LR: 0.00034156927968192547, Dynamics: sleep}
	return c
}

// withMethod returns c with another method (DFC-SS, DFC-SSA share DFC's
// published constants: the paper gives no others).
func withMethod(c Config, m string) Config {
	c.Method = m
	return c
}

// StrongDFC2MNIST is two-phase Strong-DFC on MNIST (97.75 %).
func StrongDFC2MNIST() Config {
	c := MNIST()
	c.Method = MethodStrongDFC2
	c.TargetClassValue = 0.9
	c.Dynamics = Dynamics{DT: 0.001, Steps: 500, TauV: 0.03553062335953924, Alpha: 0.008082122141749502, KP: 2}
	c.TauNoise, c.TauF, c.LayerScaling = 0.05, 0.5, false
	c.Forward = Adam{LR: 0.0006560184719951886, Beta1: 0.9, Beta2: 0.99, Eps: 0.00023225688276019436}
	c.Feedback = Adam{LR: 9.776610079269425e-06, Beta1: 0.999, Beta2: 0.9, Eps: 0.0019707791920650247, WeightDecay: 1e-05}
	sleep := Dynamics{DT: 0.0031943783402810927, Steps: 500, TauV: 0.0072383695016716215,
		Alpha: 0.9944618528446518, KP: 0.0691564739128701, Sigma: 0.15, SigmaOut: 0.15}
	c.Sleep = Sleep{Before: 1, ApicalTau: 0.12961120842685991, Dynamics: sleep}
	c.Pretrain = Pretrain{Epochs: 1, LR: 0.0002730319014715041, Dynamics: sleep}
	return c
}

// StrongDFC2FashionMNIST is two-phase Strong-DFC on Fashion-MNIST
// (87.22 %), with two extra sleep epochs after each training epoch.
func StrongDFC2FashionMNIST() Config {
	c := StrongDFC2MNIST()
	c.Dataset = "fashion-mnist"
	c.TargetClassValue = 0.999
	c.Dynamics = Dynamics{DT: 0.001, Steps: 500, TauV: 0.007427384207234133, Alpha: 0.0013123372965380246, KP: 2}
	c.Forward = Adam{LR: 0.0011969828175078612, Beta1: 0.9, Beta2: 0.9, Eps: 2.9646405819945323e-07}
	c.Feedback = Adam{LR: 1.587623302238223e-05, Beta1: 0.99, Beta2: 0.999, Eps: 8.46521372179368e-08, WeightDecay: 0.1}
	sleep := Dynamics{DT: 0.0019841648377832226, Steps: 500, TauV: 0.009034403214049455,
		Alpha: 0.41918471180494776, KP: 0.09906907227394046, Sigma: 0.15, SigmaOut: 0.15}
	c.Sleep = Sleep{Before: 1, After: 2, ApicalTau: 0.22603240790914256, Dynamics: sleep}
	c.Pretrain = Pretrain{Epochs: 1, LR: 0.00042756758315276166, Dynamics: sleep}
	return c
}

// BPMNIST is backpropagation in the same MLP on MNIST (98.17 %).
func BPMNIST() Config {
	c := MNIST()
	c.Method = MethodBP
	c.Dynamics, c.Pretrain, c.Sleep = Dynamics{}, Pretrain{}, Sleep{}
	c.TauNoise, c.TauF, c.LayerScaling = 0, 0, false
	c.Forward = Adam{LR: 0.002, Beta1: 0.9, Beta2: 0.999, Eps: 0.002}
	return c
}

// BPFashionMNIST is backpropagation on Fashion-MNIST (89.40 %).
func BPFashionMNIST() Config {
	c := BPMNIST()
	c.Dataset = "fashion-mnist"
	c.Forward = Adam{LR: 0.0004, Beta1: 0.9, Beta2: 0.999, Eps: 0.0002}
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
	{"mnist-strong-dfc-2phase", "two-phase Strong-DFC on MNIST, as published (97.75 %)", StrongDFC2MNIST},
	{"fashion-mnist-strong-dfc-2phase", "two-phase Strong-DFC on Fashion-MNIST, as published (87.22 %)", StrongDFC2FashionMNIST},
	{"mnist-dfc", "DFC with weak feedback on MNIST, as published (97.80 %)", DFCMNIST},
	{"fashion-mnist-dfc", "DFC with weak feedback on Fashion-MNIST, as published (88.70 %)", DFCFashionMNIST},
	{"mnist-dfc-ss", "DFC-SS on MNIST: DFC's constants, update from the last step", func() Config { return withMethod(DFCMNIST(), MethodDFCSS) }},
	{"fashion-mnist-dfc-ss", "DFC-SS on Fashion-MNIST: DFC's constants, update from the last step", func() Config { return withMethod(DFCFashionMNIST(), MethodDFCSS) }},
	{"mnist-dfc-ssa", "DFC-SSA on MNIST: DFC's constants, update from the analytic steady state", func() Config { return withMethod(DFCMNIST(), MethodDFCSSA) }},
	{"fashion-mnist-dfc-ssa", "DFC-SSA on Fashion-MNIST: DFC's constants, update from the analytic steady state", func() Config { return withMethod(DFCFashionMNIST(), MethodDFCSSA) }},
	{"mnist-bp", "backpropagation in the same MLP on MNIST, as published (98.17 %)", BPMNIST},
	{"fashion-mnist-bp", "backpropagation in the same MLP on Fashion-MNIST, as published (89.40 %)", BPFashionMNIST},
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
