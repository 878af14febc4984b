// Package config resolves a run's configuration (train.Config) from its
// sources: a named preset, a YAML file and command-line overrides, in that
// order, each decoded strictly on top of the one before. It owns the file
// format and its error messages: unknown keys, wrong types and duplicate
// keys are errors that name the file (or flag), the line and the key.
// Whether values are possible is train.Config.Validate's business.
//
// A configuration file holds the keys of train.Config (their yaml tags)
// and, optionally, "preset: NAME" naming the configuration the file's
// keys change; without it the file changes the preset given on the
// command line, or DefaultPreset. A resolved configuration written by
// Marshal is complete, so reading it back gives the same configuration
// whatever the preset.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/strongdfc/strongdfc/presets"
	"github.com/strongdfc/strongdfc/train"
)

// DefaultPreset is the preset a configuration starts from when neither the
// command line nor the file names one.
const DefaultPreset = "mnist-strong-dfc"

// file is the content of a configuration file.
type file struct {
	Preset       string `yaml:"preset,omitempty"`
	train.Config `yaml:",inline"`
}

// Sources are where a configuration comes from.
type Sources struct {
	// Preset names the base configuration ("" for the file's preset key
	// or DefaultPreset).
	Preset string
	// File is a YAML configuration file ("" for none).
	File string
	// Set are overrides "key=value" with dotted keys (forward.lr=1e-3,
	// hidden=[64,64]); values are YAML.
	Set []string
	// Base, when not nil, is what File's keys are decoded on top of
	// instead of the preset's values: the configuration a run's checkpoint
	// was written with, so that keys its config.yaml predates keep the
	// values the run had, whatever the preset says today. The preset is
	// still looked up (it must exist) and returned.
	Base *train.Config
}

// Resolve reads the sources and returns the configuration and the name of
// the preset it started from. It does not validate the values.
func Resolve(src Sources) (train.Config, string, error) {
	var data []byte
	preset := src.Preset
	if src.File != "" {
		var err error
		if data, err = os.ReadFile(src.File); err != nil {
			return train.Config{}, "", fmt.Errorf("config: %w", err)
		}
		fp, err := filePreset(src.File, data)
		if err != nil {
			return train.Config{}, "", err
		}
		switch {
		case fp != "" && preset != "" && fp != preset:
			return train.Config{}, "", fmt.Errorf("%s: preset %q conflicts with --preset %s; give one of them", src.File, fp, preset)
		case fp != "":
			preset = fp
		}
	}
	if preset == "" {
		preset = DefaultPreset
	}
	cfg, err := presets.Lookup(preset)
	if err != nil {
		if src.File != "" && src.Preset == "" {
			err = fmt.Errorf("%s: key preset: %w", src.File, err)
		}
		return train.Config{}, "", fmt.Errorf("config: %w", err)
	}
	if src.Base != nil {
		cfg = *src.Base
		cfg.Hidden = slices.Clone(cfg.Hidden)
		cfg.Activations = slices.Clone(cfg.Activations)
	}
	if src.File != "" {
		if cfg, err = Decode(src.File, data, cfg); err != nil {
			return train.Config{}, "", err
		}
	}
	for _, kv := range src.Set {
		if cfg, err = Override(cfg, kv); err != nil {
			return train.Config{}, "", err
		}
	}
	return cfg.Normalize(), preset, nil
}

// filePreset returns the value of the file's top-level preset key, if any.
func filePreset(name string, data []byte) (string, error) {
	var top struct {
		Preset string `yaml:"preset"`
	}
	if err := yaml.Unmarshal(data, &top); err != nil {
		return "", explain(name, data, err)
	}
	return top.Preset, nil
}

// Decode decodes the YAML document data (from the file called name) on
// top of base: keys present replace base's values, lists are replaced
// whole. Unknown keys, duplicate keys, wrong types and more than one
// document are errors naming the file, the line and the key. A top-level
// preset key is accepted and ignored (Resolve uses it).
func Decode(name string, data []byte, base train.Config) (train.Config, error) {
	f := file{Config: base}
	f.Config.Hidden = append([]int(nil), base.Hidden...)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	switch err := dec.Decode(&f); {
	case errors.Is(err, io.EOF):
		return base, fmt.Errorf("%s: the file is empty; it should hold configuration keys (see `strongdfc presets`)", name)
	case err != nil:
		return base, explain(name, data, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return base, fmt.Errorf("%s: holds more than one YAML document; a configuration is one", name)
	}
	return f.Config, nil
}

// Override applies one "key=value" override, e.g. "dynamics.dt=5e-4" or
// "hidden=[128,128]", the value being YAML.
func Override(cfg train.Config, kv string) (train.Config, error) {
	key, val, ok := strings.Cut(kv, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return cfg, fmt.Errorf("--set %q: want key=value, e.g. forward.lr=1e-3", kv)
	}
	var v yaml.Node
	if err := yaml.Unmarshal([]byte(val), &v); err != nil {
		return cfg, fmt.Errorf("--set %s: the value %q is not YAML: %v", key, val, err)
	}
	node := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: ""}
	if len(v.Content) > 0 {
		node = v.Content[0]
	}
	parts := strings.Split(key, ".")
	for i := len(parts) - 1; i >= 0; i-- {
		k := &yaml.Node{Kind: yaml.ScalarNode, Value: parts[i]}
		node = &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{k, node}}
	}
	doc, err := yaml.Marshal(node)
	if err != nil {
		return cfg, fmt.Errorf("--set %s: %v", key, err)
	}
	out, err := Decode("--set "+kv, doc, cfg)
	if err != nil {
		// The document is ours; the line numbers in it mean nothing.
		return cfg, errors.New(lineRE.ReplaceAllString(err.Error(), "$1"))
	}
	return out, nil
}

var lineRE = regexp.MustCompile(`line \d+ \(([^)]*)\)`)

// Marshal returns the configuration as a complete YAML file that Resolve
// reads back to the same configuration. preset, when not empty, is
// recorded as the file's preset key; header lines are written first as
// comments.
func Marshal(cfg train.Config, preset string, header ...string) ([]byte, error) {
	var b bytes.Buffer
	for _, h := range header {
		fmt.Fprintf(&b, "# %s\n", h)
	}
	var doc yaml.Node
	if err := doc.Encode(file{Preset: preset, Config: cfg}); err != nil {
		return nil, err
	}
	comment(&doc, "")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// keyDoc explains the keys of a configuration file, as line comments of
// the files Marshal writes. Times (dt, τ) share one arbitrary unit.
var keyDoc = map[string]string{
	"preset":             "the named configuration these values started from",
	"method":             "learning method: strong-dfc, strong-dfc-2phase, dfc, dfc-ss, dfc-ssa or bp",
	"dataset":            "mnist, fashion-mnist or cifar10 (the folder of its files: --data DIR)",
	"task":               "classify (labels, cross-entropy, accuracy) or autoencode (the input is the target, MSE)",
	"hidden":             "hidden layer sizes, in neurons",
	"activation":         "rate function of the hidden layers (the output layer is linear)",
	"activations":        "one rate function per hidden layer, overriding activation ([]: none)",
	"epochs":             "training epochs",
	"batch":              "minibatch size, in samples",
	"seed":               "seed of the initial weights, the sample order and the noise",
	"validation":         "training samples held out for validation",
	"split_seed":         "seed of the validation split",
	"train_limit":        "train on the first N remaining samples only (0: all)",
	"target_class_value": "soft label of the correct class; the others share the rest",
	"dynamics":           "the simulation of training windows",
	"dt":                 "Euler time step (the unit of every time constant)",
	"steps":              "time indices per window, T (counting k = 0)",
	"tau_v":              "somatic time constant τ_v",
	"alpha":              "leak α of the controller",
	"integral_leak":      "leak β of the controller's integral alone (0: none, as published); the integral forgets in 1/β while the proportional part keeps its strength (docs/online.md)",
	"k_p":                "proportional gain of the controller",
	"sigma":              "apical noise σ of the hidden layers",
	"sigma_out":          "apical noise σ of the output layer",
	"tau_noise":          "time constant of the noise's low-pass filter",
	"tau_f":              "time constant of the filter whose complement high-passes u for the feedback rule",
	"layer_scaling":      "scale layer i's feedback rule by (1 + τ_v/τ_noise)^(L−i)",
	"clip_norm":          "per-layer limit of the gradient norm (0: no clipping)",
	"forward":            "optimizer of the forward weights W and biases b (constants per window-end update)",
	"feedback":           "optimizer of the feedback weights Q (constants per window-end update)",
	"kind":               "adam or sgd",
	"momentum":           "momentum of SGD",
	"apply_every":        "apply the plasticity of training windows every n steps (0: at the window's end, as published; 1: every step)",
	"chunks":             "run each minibatch window-parallel in this many chunks (0 or 1: one, its steps split among the cores); results depend on it, not on the cores",
	"spiking":            "spiking neurons: hidden layers spike, the input comes as spike trains (zero rates: the rate network)",
	"rate_max":           "hidden neurons' maximal firing rate, spikes per unit of time (0: rate neurons)",
	"tau_syn":            "time constant of the synaptic traces of spikes",
	"input_rate_max":     "maximal rate of the input spike trains (0: the inputs as given)",
	"input_norm":         "what the input trains' decoded traces give layer 1: unit (the pixels in [0, 1]) or dataset (the data set's published normalisation, as the rate network's input)",
	"input_train":        "kind of the input spike trains: poisson (a spike in a step with probability rate·dt) or regular (a noiseless clock from a random phase)",
	"event_driven":       "compute basal inputs from presynaptic spikes (cost in proportion to them) instead of dense products",
	"forward_settle":     "steps after every presentation of a sample in which the forward rule records nothing (0: none, as published); a gate against the previous sample's carried state on a stream",
	"stream_reset":       "what a stream resets at every switch of sample, a diagnostic of what its carried state costs: none, controller, layers or both",
	"learn_from":         "what the forward rule takes as a spiking neuron's output: spikes (its decoded spike trace) or intensity (its firing intensity, filtered alike; needs prediction filtered)",
	"prediction":         "what the forward rule compares the soma with: \"\" or instant (φ of the basal input, as published) or filtered (the basal input filtered like the soma, Urbanczik–Senn)",
	"stream":             "present training samples as a never-reset stream (the input and label switch, the state carries on)",
	"lr":                 "learning rate",
	"beta1":              "decay of the first moment",
	"beta2":              "decay of the second moment",
	"eps":                "added to the root of the second moment",
	"weight_decay":       "coupled L2 weight decay (added to the gradient)",
	"second_moment":      "what Adam's second moment measures when plasticity is applied every n steps: step (each update's gradient) or window (their running average over about a window, as a window-end update's; docs/online.md)",
	"pretrain":           "feedback pre-training: Q only, before training",
	"stack_depth":        "time steps per plasticity product (0: 10); speed only, same results",
	"target_step":        "λ of weak DFC's nudged target r* = r_L − λ·∂L/∂r_L",
	"soma_sigma":         "noise added to every somatic voltage at every step (0: none, as published)",
	"sleep":              "sleep phase of the two-phase methods: Q learns from noise alone",
	"before":             "sleep epochs before every training epoch",
	"after":              "sleep epochs after every training epoch",
	"apical_tau":         "time constant of the apical compartment in sleep windows",
}

// comment attaches keyDoc's explanations to the keys of n.
func comment(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			comment(c, path)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			doc := keyDoc[k.Value]
			if path == "pretrain" && k.Value == "lr" {
				doc = "learning rate of pre-training (its Adam has the feedback's β, ε and decay)"
			}
			if path == "pretrain" && k.Value == "epochs" {
				doc = "epochs of feedback pre-training"
			}
			if path == "pretrain" && k.Value == "dynamics" {
				doc = "the simulation of pre-training windows"
			}
			if v := n.Content[i+1]; doc != "" && v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
				v.LineComment = doc // yaml.v3 drops a key's comment before an empty "[]"
			} else if doc != "" {
				k.LineComment = doc
			}
			comment(n.Content[i+1], strings.TrimPrefix(path+"."+k.Value, "."))
		}
	}
}

var (
	errLineRE    = regexp.MustCompile(`^line (\d+): (.*)$`)
	yamlLineRE   = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	notFoundRE   = regexp.MustCompile(`^field (\S+) not found in type (\S+)$`)
	unmarshalsRE = regexp.MustCompile("^cannot unmarshal (!!\\w+) `(.*)` into (\\S+)$")
)

// explain rewrites a yaml error so that it names the file, the line and
// the key (as a dotted path) and says what to do.
func explain(name string, data []byte, err error) error {
	paths := linePaths(data)
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var msgs []string
		for _, e := range te.Errors {
			msgs = append(msgs, explainOne(name, paths, e))
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%s: %s (the file is not valid YAML)", name, m[1], m[2])
	}
	return fmt.Errorf("%s: %s", name, strings.TrimPrefix(msg, "yaml: "))
}

func explainOne(name string, paths map[int]string, e string) string {
	m := errLineRE.FindStringSubmatch(e)
	if m == nil {
		return fmt.Sprintf("%s: %s", name, e)
	}
	line, _ := strconv.Atoi(m[1])
	msg, path := m[2], paths[line]
	if f := notFoundRE.FindStringSubmatch(msg); f != nil {
		// The parent is the path without the unknown key, which may itself
		// hold dots ("lr.0").
		parent := ""
		if strings.HasSuffix(path, "."+f[1]) {
			parent = strings.TrimSuffix(path, "."+f[1])
		} else if i := strings.LastIndex(path, "."); i >= 0 && path != f[1] {
			parent = path[:i]
		}
		known := knownKeys(parent)
		where := "at the top level"
		if parent != "" {
			where = "in " + parent
		}
		return fmt.Sprintf("%s: line %d (%s): unknown key %q %s (known keys: %s)", name, line, path, f[1], where, strings.Join(known, ", "))
	}
	if f := unmarshalsRE.FindStringSubmatch(msg); f != nil {
		if strings.HasPrefix(f[3], "train.") {
			return fmt.Sprintf("%s: line %d (%s): %q is not a mapping; %s holds the keys %s", name, line, path, f[2], path, strings.Join(knownKeys(path), ", "))
		}
		return fmt.Sprintf("%s: line %d (%s): %q is not a valid %s", name, line, path, f[2], typeWord(f[3]))
	}
	return fmt.Sprintf("%s: line %d (%s): %s", name, line, path, msg)
}

func typeWord(goType string) string {
	switch {
	case strings.HasPrefix(goType, "float"):
		return "number"
	case strings.HasPrefix(goType, "uint"):
		return "non-negative integer"
	case strings.HasPrefix(goType, "int"):
		return "integer"
	case goType == "bool":
		return "boolean (true or false)"
	case strings.HasPrefix(goType, "[]"):
		return "list"
	case goType == "string":
		return "string"
	}
	return "value of type " + goType
}

// linePaths maps the line of every key and value of a YAML document to the
// dotted path of its key (list elements as path[i]).
func linePaths(data []byte) map[int]string {
	var doc yaml.Node
	paths := map[int]string{}
	if yaml.Unmarshal(data, &doc) != nil {
		return paths
	}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := n.Content[i].Value
				if path != "" {
					p = path + "." + p
				}
				paths[n.Content[i].Line] = p
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		default:
			if _, ok := paths[n.Line]; !ok || path != "" {
				paths[n.Line] = path
			}
		}
	}
	walk(&doc, "")
	return paths
}

// knownKeys lists the keys a configuration file may hold under the dotted
// path parent ("" for the top level).
func knownKeys(parent string) []string {
	t := reflect.TypeOf(file{})
	if parent != "" {
		for _, p := range strings.Split(parent, ".") {
			t = fieldType(t, p)
			if t == nil {
				return nil
			}
		}
	}
	var keys []string
	collectKeys(t, &keys)
	sort.Strings(keys)
	return keys
}

// collectKeys appends the YAML keys of struct type t (none for another
// type: a value, not a mapping).
func collectKeys(t reflect.Type, keys *[]string) {
	if t.Kind() != reflect.Struct {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if strings.Contains(opts, "inline") {
			collectKeys(f.Type, keys)
			continue
		}
		if name != "" && name != "-" {
			*keys = append(*keys, name)
		}
	}
}

func fieldType(t reflect.Type, key string) reflect.Type {
	if t.Kind() != reflect.Struct {
		return nil
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if strings.Contains(opts, "inline") {
			if ft := fieldType(f.Type, key); ft != nil {
				return ft
			}
			continue
		}
		if name == key {
			return f.Type
		}
	}
	return nil
}
