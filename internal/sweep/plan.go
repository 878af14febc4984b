package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/strongdfc/strongdfc/internal/config"
	"github.com/strongdfc/strongdfc/train"
)

// Run is one planned run: a configuration and a seed, and the run folder
// it lives in.
type Run struct {
	// Index is the run's place in the plan.
	Index int `json:"index"`
	// Name is the run folder's name, made of the values that vary in the
	// sweep (see Names); Dir is Out/Name.
	Name string `json:"name"`
	Dir  string `json:"dir"`
	// Preset is the preset the configuration starts from; Settings are
	// the run's own changes (from the list and the grid, in the file's
	// order; the sweep's common changes are not repeated).
	Preset   string    `json:"preset"`
	Settings []Setting `json:"settings,omitempty"`
	Seed     uint64    `json:"seed"`
	// Configuration numbers the run's configuration (0, 1, ...: all its
	// keys but the seed).
	Configuration int `json:"configuration"`
	// Config is the resolved, validated configuration.
	Config train.Config `json:"config"`
}

// Describe returns the run's changes and seed: "preset=mnist-bp
// forward.lr=1e-3 seed=2".
func (r Run) Describe() string {
	parts := []string{PresetKey + "=" + r.Preset}
	for _, s := range r.Settings {
		if s.Key != PresetKey {
			parts = append(parts, s.String())
		}
	}
	return strings.Join(append(parts, "seed="+strconv.FormatUint(r.Seed, 10)), " ")
}

// Plan is a sweep's runs.
type Plan struct {
	File *File
	// Out is the folder of the run folders (absolute).
	Out string
	// Runs are seed by seed (all configurations with the first seed, then
	// with the second, ...), so that the first results cover every
	// configuration.
	Runs []Run
	// Configurations counts the distinct configurations.
	Configurations int
}

// Plan resolves every run of the sweep: its configuration (checked by
// train.Config.Validate), its seed and its run folder under out ("" for
// the file's out). Any key the configuration does not have, or value it
// refuses, is an error naming the run; so are two runs with the same
// configuration and seed. Nothing is written.
func (f *File) Plan(out string) (*Plan, error) {
	if out == "" {
		out = f.Out
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return nil, err
	}
	p := &Plan{File: f, Out: abs}
	configs := f.configurations()
	type resolved struct {
		preset string
		cfg    train.Config
	}
	res := make([]resolved, len(configs))
	bases := map[string]resolved{}
	for i, c := range configs {
		preset := f.Preset
		for _, s := range c {
			if s.Key == PresetKey {
				preset = s.Value
			}
		}
		base, ok := bases[preset]
		if !ok {
			cfg, name, err := config.Resolve(config.Sources{Preset: preset, File: f.Config})
			if err != nil {
				return nil, fmt.Errorf("%s: configuration %s: %w", f.Path, describe(preset, c), err)
			}
			base = resolved{name, cfg}
			bases[preset] = base
		}
		cfg := base.cfg
		cfg.Hidden = append([]int(nil), cfg.Hidden...)
		for _, s := range append(append([]Setting(nil), f.Set...), c...) {
			if s.Key == PresetKey {
				continue
			}
			var err error
			if cfg, err = config.Override(cfg, s.String()); err != nil {
				msg := strings.TrimPrefix(err.Error(), "--set "+s.String()+": ")
				msg = strings.TrimPrefix(msg, s.Key+": ")
				return nil, fmt.Errorf("%s: line %d (%s): %s", f.Path, s.line, s.where, msg)
			}
		}
		cfg = cfg.Normalize()
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("%s: configuration %s: %w", f.Path, describe(base.preset, c), err)
		}
		res[i] = resolved{base.preset, cfg}
	}
	seeds := f.Seeds
	for si := 0; si < max(1, len(seeds)); si++ {
		for ci, c := range configs {
			cfg := res[ci].cfg
			if len(seeds) > 0 {
				cfg.Seed = seeds[si]
			}
			p.Runs = append(p.Runs, Run{
				Index: len(p.Runs), Preset: res[ci].preset, Settings: c, Seed: cfg.Seed,
				Configuration: ci, Config: cfg,
			})
		}
	}
	p.Configurations = len(configs)
	if err := p.name(); err != nil {
		return nil, err
	}
	return p, nil
}

// configurations returns the changes of each configuration: every list
// entry (or none) combined with every grid point, the grid's first key
// varying slowest.
func (f *File) configurations() [][]Setting {
	out := [][]Setting{nil}
	if len(f.List) > 0 {
		out = f.List
	}
	for _, a := range f.Grid {
		var next [][]Setting
		for _, c := range out {
			for _, v := range a.Values {
				next = append(next, append(append([]Setting(nil), c...), v))
			}
		}
		out = next
	}
	return out
}

func describe(preset string, c []Setting) string {
	parts := []string{}
	if preset != "" {
		parts = append(parts, "preset "+preset)
	}
	for _, s := range c {
		if s.Key != PresetKey {
			parts = append(parts, s.String())
		}
	}
	if len(parts) == 0 {
		return "(the base configuration)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// maxName is the longest run folder name made; a longer one is cut and
// ends in its hash.
const maxName = 160

// name gives every run its folder name (see Names) and checks that no
// two runs are the same.
func (p *Plan) name() error {
	type named struct {
		name, canonical string
		lossy           bool
	}
	ns := make([]named, len(p.Runs))
	for i, r := range p.Runs {
		ns[i].name, ns[i].canonical, ns[i].lossy = runName(r.Settings, r.Seed)
	}
	// The same configuration twice (e.g. 1e-3 and 0.001) is a mistake.
	byConfig := map[string]int{}
	for i, r := range p.Runs {
		b, _ := json.Marshal(r.Config)
		k := r.Preset + "\x00" + string(b)
		if j, ok := byConfig[k]; ok {
			return fmt.Errorf("%s: runs %s and %s have the same configuration and seed; remove one of them", p.File.Path, p.Runs[j].Describe(), r.Describe())
		}
		byConfig[k] = i
	}
	// Names are compared without case (case-insensitive file systems);
	// runs whose names collide, and names that lost characters or length,
	// end in a hash of their values.
	for i := range ns {
		if ns[i].lossy {
			ns[i].name = withHash(ns[i].name, ns[i].canonical)
		}
	}
	groups := map[string][]int{}
	for i := range ns {
		k := strings.ToLower(ns[i].name)
		groups[k] = append(groups[k], i)
	}
	for _, g := range groups {
		if len(g) > 1 {
			for _, i := range g {
				ns[i].name = withHash(ns[i].name, ns[i].canonical)
			}
		}
	}
	seen := map[string]int{}
	for i := range ns {
		k := strings.ToLower(ns[i].name)
		if j, ok := seen[k]; ok {
			return fmt.Errorf("%s: runs %s and %s get the same folder name %s; they differ only in how their values are written", p.File.Path, p.Runs[j].Describe(), p.Runs[i].Describe(), ns[i].name)
		}
		seen[k] = i
		p.Runs[i].Name = ns[i].name
		p.Runs[i].Dir = filepath.Join(p.Out, ns[i].name)
	}
	return nil
}

// runName makes a run folder name of a run's changes and seed:
// "mnist-bp_forward.lr=1e-3_hidden=64,64_seed=2" (the preset's name as
// it is, other keys as key=value, in the file's order, then the seed).
// It depends on these values alone, so a plan made again names the same
// run the same. Characters other than letters, digits and . , + = - are
// replaced by '-' (lossy is then true, and the caller appends a hash of
// canonical, the values as written).
func runName(settings []Setting, seed uint64) (name, canonical string, lossy bool) {
	var parts, canon []string
	for _, s := range settings {
		t := s.text
		if s.Key != PresetKey {
			t = s.Key + "=" + t
		}
		clean := strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune(".,+=-", r):
				return r
			}
			lossy = true
			return '-'
		}, t)
		parts = append(parts, clean)
		canon = append(canon, s.Key+"="+s.Value)
	}
	seedPart := "seed=" + strconv.FormatUint(seed, 10)
	parts = append(parts, seedPart)
	canon = append(canon, seedPart)
	name = strings.Join(parts, "_")
	if strings.HasPrefix(name, "-") || strings.HasPrefix(name, ".") {
		name, lossy = "run"+name, true
	}
	if len(name) > maxName {
		name, lossy = name[:maxName-len(seedPart)-1]+"_"+seedPart, true
	}
	return name, strings.Join(canon, "\n"), lossy
}

// withHash appends to a name 8 hex digits of the hash of canonical.
func withHash(name, canonical string) string {
	h := sha256.Sum256([]byte(canonical))
	return name + "_" + hex.EncodeToString(h[:4])
}

// Select returns the runs whose names are given, in plan order; an
// unknown name is an error.
func (p *Plan) Select(names []string) ([]Run, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []Run
	for _, r := range p.Runs {
		if want[r.Name] {
			out = append(out, r)
			delete(want, r.Name)
		}
	}
	if len(want) > 0 {
		var missing []string
		for n := range want {
			missing = append(missing, n)
		}
		sort.Strings(missing)
		return nil, fmt.Errorf("no run of the sweep is named %s (see: strongdfc sweep plan %s)", strings.Join(missing, ", "), p.File.Path)
	}
	return out, nil
}
