package sweep

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// File is a sweep file: a base configuration, the configurations made
// from it (a list, a grid, or the product of both), and the seeds every
// configuration runs with.
type File struct {
	// Path is the file the sweep was read from.
	Path string
	// Name names the sweep (default: the file's name without extension);
	// Description is free text.
	Name, Description string
	// Out is the folder that holds the run folders (relative to the
	// current folder; default runs/NAME).
	Out string
	// Preset and Config are the base configuration: a preset, changed by
	// a configuration file (relative to the sweep file's folder). A list
	// entry or the grid may choose the preset too (the key "preset").
	Preset, Config string
	// Set are changes applied to every run, in order.
	Set []Setting
	// List are configurations given one by one (each a list of changes);
	// Grid are axes whose product gives configurations. With both, every
	// list entry is combined with every grid point.
	List [][]Setting
	Grid []Axis
	// Seeds are the seeds each configuration runs with (nil: one run
	// with the configuration's own seed).
	Seeds []uint64
}

// Setting is one change of a configuration: a dotted configuration key,
// as --set takes it, or "preset", and a YAML value.
type Setting struct {
	// Key is the dotted configuration key, or PresetKey.
	Key string `json:"key"`
	// Value is the value as compact YAML (flow style), the form
	// `--set key=value` takes.
	Value string `json:"value"`
	// text is the value as it goes into run folder names; where and line
	// say where the file gives it, for errors.
	text, where string
	line        int
}

// String returns key=value.
func (s Setting) String() string { return s.Key + "=" + s.Value }

// Axis is one key of a grid and the values it takes.
type Axis struct {
	Key    string    // the dotted configuration key, or PresetKey
	Values []Setting // its values, in the file's order
}

// PresetKey is the key of a setting that chooses the preset.
const PresetKey = "preset"

var topKeys = []string{"name", "description", "out", "preset", "config", "set", "list", "grid", "seeds"}

// Load reads and checks a sweep file. Unknown keys, duplicate keys,
// values of the wrong kind, an empty grid or list and bad seeds are
// errors that name the file, the line and the key. Whether the values
// make valid configurations is Plan's business.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sweep file: %w", err)
	}
	return Parse(path, data)
}

// Parse reads a sweep file's content (see Load); path names it in errors
// and locates a relative base configuration file.
func Parse(path string, data []byte) (*File, error) {
	p := parser{name: path}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: the file is empty; a sweep file needs at least seeds, a list or a grid (see docs/cluster.md)", path)
		}
		return nil, fmt.Errorf("%s: %s (the file is not valid YAML)", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: holds more than one YAML document; a sweep file is one", path)
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, p.errf(top, "", "the file must be a mapping of the keys %s", strings.Join(topKeys, ", "))
	}
	f := &File{Path: path}
	seen := map[string]bool{}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], top.Content[i+1]
		if seen[k.Value] {
			return nil, p.errf(k, k.Value, "the key appears twice")
		}
		seen[k.Value] = true
		var err error
		switch k.Value {
		case "name":
			f.Name, err = p.str(v, "name")
			if err == nil && (f.Name == "" || strings.ContainsAny(f.Name, `/\`) || strings.HasPrefix(f.Name, ".")) {
				err = p.errf(v, "name", "%q is not a plain name (it names the sweep's jobs and, by default, its folder runs/NAME)", f.Name)
			}
		case "description":
			f.Description, err = p.str(v, "description")
		case "out":
			f.Out, err = p.str(v, "out")
		case "preset":
			f.Preset, err = p.str(v, "preset")
		case "config":
			f.Config, err = p.str(v, "config")
			if err == nil && f.Config != "" && !filepath.IsAbs(f.Config) {
				f.Config = filepath.Join(filepath.Dir(path), f.Config)
			}
		case "set":
			f.Set, err = p.settings(v, "set")
			for _, s := range f.Set {
				if s.Key == PresetKey {
					err = p.errf(v, "set.preset", "choose the base preset with the top-level key preset, or vary it in list or grid")
				}
			}
		case "list":
			if v.Kind != yaml.SequenceNode {
				return nil, p.errf(v, "list", "want a list of configurations, each a mapping of keys to values, e.g. list: [{preset: mnist-bp}, {forward.lr: 1e-3}]")
			}
			if len(v.Content) == 0 {
				return nil, p.errf(v, "list", "the list is empty; give at least one configuration, or remove the key")
			}
			for j, e := range v.Content {
				s, err := p.settings(e, fmt.Sprintf("list[%d]", j))
				if err != nil {
					return nil, err
				}
				f.List = append(f.List, s)
			}
		case "grid":
			f.Grid, err = p.grid(v)
		case "seeds":
			f.Seeds, err = p.seeds(v)
		default:
			err = p.errf(k, k.Value, "unknown key %q (known keys: %s)", k.Value, strings.Join(topKeys, ", "))
		}
		if err != nil {
			return nil, err
		}
	}
	if f.Name == "" {
		f.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	if f.Out == "" {
		f.Out = filepath.Join("runs", f.Name)
	}
	// A key set twice for one run would make its name and its
	// configuration disagree.
	for j, entry := range f.List {
		for _, a := range f.Grid {
			for _, s := range entry {
				if s.Key == a.Key {
					return nil, p.errf(&yaml.Node{Line: s.line}, fmt.Sprintf("list[%d].%s", j, s.Key), "the key is in the grid too; give it in one place")
				}
			}
		}
	}
	return f, nil
}

type parser struct{ name string }

// errf returns an error naming the file, the node's line and the key.
func (p parser) errf(n *yaml.Node, key, format string, args ...any) error {
	where := p.name
	if n != nil {
		where += fmt.Sprintf(": line %d", n.Line)
	}
	if key != "" {
		where += " (" + key + ")"
	}
	return fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...))
}

func (p parser) str(n *yaml.Node, key string) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", p.errf(n, key, "want a string")
	}
	return n.Value, nil
}

// settings reads a mapping of dotted keys to values.
func (p parser) settings(n *yaml.Node, where string) ([]Setting, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n, where, "want a mapping of configuration keys to values, e.g. {forward.lr: 1e-3, hidden: [64, 64]}")
	}
	if len(n.Content) == 0 {
		return nil, p.errf(n, where, "the mapping is empty; give at least one key, or remove it")
	}
	var out []Setting
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		key := where + "." + k.Value
		if err := p.key(k, key); err != nil {
			return nil, err
		}
		if seen[k.Value] {
			return nil, p.errf(k, key, "the key appears twice")
		}
		seen[k.Value] = true
		s, err := p.value(k.Value, v, key)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// key checks a configuration key's spelling (whether the configuration
// has it is checked when the plan applies it).
func (p parser) key(k *yaml.Node, where string) error {
	if k.Kind != yaml.ScalarNode || k.Value == "" {
		return p.errf(k, where, "a key must be a dotted configuration key such as forward.lr")
	}
	if k.Value == "seed" {
		return p.errf(k, where, "seeds are given by the top-level key seeds (a list, or a count N for seeds 1..N), not as a setting")
	}
	for _, part := range strings.Split(k.Value, ".") {
		if part == "" || strings.Trim(part, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			return p.errf(k, where, "%q is not a configuration key: keys are lower-case words joined by dots (forward.lr, dynamics.steps)", k.Value)
		}
	}
	return nil
}

// value makes a setting of one YAML value.
func (p parser) value(key string, v *yaml.Node, where string) (Setting, error) {
	if v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	if key == PresetKey && (v.Kind != yaml.ScalarNode || v.Value == "") {
		return Setting{}, p.errf(v, where, "a preset is a name, see: strongdfc presets")
	}
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return Setting{}, p.errf(v, where, "no value given")
	}
	return Setting{Key: key, Value: flow(v), text: nameText(v), where: where, line: v.Line}, nil
}

// grid reads a mapping of keys to lists of values.
func (p parser) grid(n *yaml.Node) ([]Axis, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errf(n, "grid", "want a mapping of configuration keys to lists of values, e.g. grid: {forward.lr: [1e-3, 3e-4]}")
	}
	if len(n.Content) == 0 {
		return nil, p.errf(n, "grid", "the grid is empty; give at least one key with its values, or remove the key")
	}
	var axes []Axis
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		where := "grid." + k.Value
		if err := p.key(k, where); err != nil {
			return nil, err
		}
		if seen[k.Value] {
			return nil, p.errf(k, where, "the key appears twice")
		}
		seen[k.Value] = true
		if v.Kind != yaml.SequenceNode {
			return nil, p.errf(v, where, "want a list of the values the key takes, e.g. [%s]", strings.TrimSpace(flow(v)))
		}
		if len(v.Content) == 0 {
			return nil, p.errf(v, where, "no values: give the values the key takes, or remove it from the grid")
		}
		a := Axis{Key: k.Value}
		dup := map[string]bool{}
		for j, e := range v.Content {
			s, err := p.value(k.Value, e, fmt.Sprintf("%s[%d]", where, j))
			if err != nil {
				return nil, err
			}
			if dup[s.Value] {
				return nil, p.errf(e, where, "the value %s appears twice", s.Value)
			}
			dup[s.Value] = true
			a.Values = append(a.Values, s)
		}
		axes = append(axes, a)
	}
	return axes, nil
}

// seeds reads a list of seeds, or a count N (seeds 1..N).
func (p parser) seeds(n *yaml.Node) ([]uint64, error) {
	const want = "want a list of seeds (non-negative integers), e.g. [1, 2, 3], or a count N for seeds 1..N"
	switch n.Kind {
	case yaml.ScalarNode:
		c, err := strconv.Atoi(n.Value)
		if err != nil || c < 1 || c > 1_000_000 {
			return nil, p.errf(n, "seeds", "%q: %s", n.Value, want)
		}
		seeds := make([]uint64, c)
		for i := range seeds {
			seeds[i] = uint64(i + 1)
		}
		return seeds, nil
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			return nil, p.errf(n, "seeds", "the list is empty; %s", want)
		}
		var seeds []uint64
		seen := map[uint64]bool{}
		for _, e := range n.Content {
			s, err := strconv.ParseUint(e.Value, 10, 64)
			if e.Kind != yaml.ScalarNode || err != nil {
				return nil, p.errf(e, "seeds", "%q: %s", e.Value, want)
			}
			if seen[s] {
				return nil, p.errf(e, "seeds", "seed %d appears twice", s)
			}
			seen[s] = true
			seeds = append(seeds, s)
		}
		return seeds, nil
	}
	return nil, p.errf(n, "seeds", want)
}

// flow returns a value as one line of YAML (flow style), as --set takes
// it.
func flow(n *yaml.Node) string {
	c := flowCopy(n)
	b, err := yaml.Marshal(c)
	if err != nil {
		return n.Value
	}
	return strings.TrimSpace(string(b))
}

func flowCopy(n *yaml.Node) *yaml.Node {
	c := *n
	c.HeadComment, c.LineComment, c.FootComment = "", "", ""
	if n.Kind == yaml.SequenceNode || n.Kind == yaml.MappingNode {
		c.Style = yaml.FlowStyle
		c.Content = nil
		for _, e := range n.Content {
			c.Content = append(c.Content, flowCopy(e))
		}
	}
	return &c
}

// nameText returns a value as it appears in run folder names: a scalar
// as written (without quotes), a list's elements joined by commas.
func nameText(n *yaml.Node) string {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Value
	case yaml.SequenceNode:
		var parts []string
		for _, e := range n.Content {
			parts = append(parts, nameText(e))
		}
		return strings.Join(parts, ",")
	}
	return flow(n)
}
