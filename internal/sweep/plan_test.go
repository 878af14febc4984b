package sweep

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// parse parses a sweep file's text, failing the test on error.
func parse(t *testing.T, text string) *File {
	t.Helper()
	f, err := Parse(filepath.Join(t.TempDir(), "s.yaml"), []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func plan(t *testing.T, text string) *Plan {
	t.Helper()
	p, err := parse(t, text).Plan(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func names(p *Plan) []string {
	var n []string
	for _, r := range p.Runs {
		n = append(n, r.Name)
	}
	return n
}

const gridSweep = `
name: study
preset: mnist-strong-dfc
set: {epochs: 2, train_limit: 100}
list:
  - {preset: mnist-strong-dfc}
  - {preset: mnist-bp, batch: 64}
grid:
  forward.lr: [1e-3, 3e-4]
  hidden: [[64, 64], [128]]
seeds: [1, 2]
`

// TestPlan: the product of list, grid and seeds, seed by seed, with the
// values applied, names made of the varying values, and the same plan
// (names, order, configurations) every time.
func TestPlan(t *testing.T) {
	p := plan(t, gridSweep)
	if len(p.Runs) != 2*2*2*2 || p.Configurations != 8 {
		t.Fatalf("%d runs, %d configurations; want 16 and 8", len(p.Runs), p.Configurations)
	}
	want := []string{
		"mnist-strong-dfc_forward.lr=1e-3_hidden=64,64_seed=1",
		"mnist-strong-dfc_forward.lr=1e-3_hidden=128_seed=1",
		"mnist-strong-dfc_forward.lr=3e-4_hidden=64,64_seed=1",
		"mnist-strong-dfc_forward.lr=3e-4_hidden=128_seed=1",
		"mnist-bp_batch=64_forward.lr=1e-3_hidden=64,64_seed=1",
	}
	if got := names(p)[:5]; !slices.Equal(got, want) {
		t.Errorf("names\n%q\nwant\n%q", got, want)
	}
	r := p.Runs[4]
	c := r.Config
	if r.Preset != "mnist-bp" || c.Method != "bp" || c.Batch != 64 || c.Forward.LR != 1e-3 || !slices.Equal(c.Hidden, []int{64, 64}) ||
		c.Epochs != 2 || c.TrainLimit != 100 || c.Seed != 1 || r.Dir != filepath.Join(p.Out, r.Name) {
		t.Errorf("run 4: %+v", r)
	}
	if last := p.Runs[15]; last.Seed != 2 || last.Config.Seed != 2 || !strings.HasSuffix(last.Name, "_seed=2") {
		t.Errorf("last run %s seed %d", last.Name, last.Seed)
	}
	if got := r.Describe(); got != "preset=mnist-bp batch=64 forward.lr=1e-3 hidden=[64, 64] seed=1" {
		t.Errorf("Describe: %q", got)
	}
	// Deterministic: planned again (in another process or year), the same.
	for range 3 {
		q := plan(t, gridSweep)
		if !slices.Equal(names(q), names(p)) {
			t.Fatalf("a second plan names the runs differently:\n%q\n%q", names(q), names(p))
		}
		for i := range q.Runs {
			if len(Diff(q.Runs[i].Config, p.Runs[i].Config)) != 0 {
				t.Fatalf("run %d: configuration differs between plans", i)
			}
		}
	}
	// Unique, and safe as folder names.
	seen := map[string]bool{}
	safe := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._,+=-]*$`)
	for _, n := range names(p) {
		if seen[strings.ToLower(n)] || !safe.MatchString(n) {
			t.Errorf("name %q repeated or not safe", n)
		}
		seen[strings.ToLower(n)] = true
	}
}

// TestNamesStable: adding seeds, values or list entries does not rename
// the runs that were planned before (their folders stay theirs).
func TestNamesStable(t *testing.T) {
	before := names(plan(t, gridSweep))
	grown := strings.Replace(gridSweep, "seeds: [1, 2]", "seeds: [1, 2, 3]", 1)
	grown = strings.Replace(grown, "forward.lr: [1e-3, 3e-4]", "forward.lr: [1e-3, 3e-4, 1e-4]", 1)
	grown = strings.Replace(grown, "  - {preset: mnist-bp, batch: 64}", "  - {preset: mnist-bp, batch: 64}\n  - {preset: mnist-dfc}", 1)
	after := names(plan(t, grown))
	for _, n := range before {
		if !slices.Contains(after, n) {
			t.Errorf("%s is no longer planned after the sweep grew", n)
		}
	}
	if len(after) != 3*3*2*3 {
		t.Errorf("%d runs after growing", len(after))
	}
}

// TestNamesLongAndLossy: an over-long name is cut and ends in a hash;
// values that are not safe in a file name, and so lose characters, get
// distinct hashes.
func TestNamesLongAndLossy(t *testing.T) {
	long := plan(t, `
preset: mnist-bp
grid:
  hidden: [[`+strings.Repeat("3, ", 80)+`3]]
`)
	n := long.Runs[0].Name
	if len(n) > maxName+9 || !regexp.MustCompile(`_seed=1_[0-9a-f]{8}$`).MatchString(n) {
		t.Errorf("long name %q (%d bytes)", n, len(n))
	}
	a := []Setting{{Key: "x", Value: "a/b", text: "a/b"}}
	b := []Setting{{Key: "x", Value: "a:b", text: "a:b"}}
	na, ca, la := runName(a, 1)
	nb, cb, lb := runName(b, 1)
	if na != "x=a-b_seed=1" || na != nb || !la || !lb || ca == cb {
		t.Fatalf("%q %q %v %v", na, nb, la, lb)
	}
	if withHash(na, ca) == withHash(nb, cb) {
		t.Error("the hashes of different values agree")
	}
}

// TestCaseCollision: two runs whose names differ only in case get
// hashes (a case-insensitive file system would merge their folders).
func TestCaseCollision(t *testing.T) {
	f := parse(t, "preset: mnist-bp\nseeds: 1\n")
	p := &Plan{File: f, Out: t.TempDir()}
	for i, v := range []string{"abc", "ABC"} {
		s := []Setting{{Key: "activation", Value: v, text: v}}
		cfg, _ := f.Plan("")
		c := cfg.Runs[0].Config
		c.Batch = 10 + i // distinct configurations
		p.Runs = append(p.Runs, Run{Index: i, Preset: "mnist-bp", Settings: s, Seed: 1, Config: c})
	}
	if err := p.name(); err != nil {
		t.Fatal(err)
	}
	if strings.EqualFold(p.Runs[0].Name, p.Runs[1].Name) || !strings.HasPrefix(p.Runs[0].Name, "activation=abc_seed=1_") {
		t.Errorf("names %q %q", p.Runs[0].Name, p.Runs[1].Name)
	}
}

// TestBadSweeps: every mistake in a sweep file is an error that names
// the file and what is wrong, before anything runs.
func TestBadSweeps(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"empty file", "", "empty"},
		{"unknown top key", "seeds: 2\ngrids: {forward.lr: [1]}\n", `unknown key "grids"`},
		{"empty grid", "grid: {}\n", "grid is empty"},
		{"empty axis", "grid: {forward.lr: []}\n", "no values"},
		{"axis not a list", "grid: {forward.lr: 1e-3}\n", "list of the values"},
		{"empty list", "list: []\n", "list is empty"},
		{"seed in grid", "grid: {seed: [1, 2]}\n", "seeds"},
		{"bad seeds", "seeds: [1, x]\n", "seeds"},
		{"zero seeds", "seeds: 0\n", "seeds"},
		{"duplicate seeds", "seeds: [1, 1]\n", "twice"},
		{"duplicate value", "grid: {forward.lr: [1, 1]}\n", "twice"},
		{"duplicate key", "seeds: 1\nseeds: 2\n", "twice"},
		{"bad key", "grid: {Forward.LR: [1]}\n", "not a configuration key"},
		{"key in list and grid", "list: [{batch: 2}]\ngrid: {batch: [3]}\n", "in one place"},
		{"unknown key", "grid: {forward.moment: [0.9]}\n", `unknown key "moment"`},
		{"unknown nested key", "set: {dynamics.step: 20}\nseeds: 1\n", "dynamics.step"},
		{"rejected value", "grid: {dynamics.dt: [0.001, -1]}\n", "dynamics.dt"},
		{"wrong type", "grid: {batch: [many]}\n", "integer"},
		{"unknown preset", "list: [{preset: cifar-10-dfc}]\n", "cifar-10-dfc"},
		{"same configuration twice", "grid: {forward.lr: [1e-3, 0.001]}\n", "same configuration"},
		{"preset in set", "set: {preset: mnist-bp}\n", "preset"},
		{"missing config file", "config: nope.yaml\nseeds: 1\n", "nope.yaml"},
	}
	for _, tc := range cases {
		path := filepath.Join(t.TempDir(), "bad.yaml")
		os.WriteFile(path, []byte(tc.text), 0o644)
		f, err := Load(path)
		if err == nil {
			_, err = f.Plan(t.TempDir())
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "bad.yaml") {
			t.Errorf("%s: error %v; want it to name bad.yaml and %q", tc.name, err, tc.want)
		}
	}
	// The rejected value's error names the configuration.
	_, err := parse(t, "grid: {dynamics.dt: [0.001, -1]}\n").Plan(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "dynamics.dt=-1") || !strings.Contains(err.Error(), "positive") {
		t.Errorf("rejected value: %v", err)
	}
}

// TestBaseConfigFile: the base configuration file is found next to the
// sweep file, and its values apply under the sweep's.
func TestBaseConfigFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "base.yaml"), []byte("preset: mnist-bp\nbatch: 7\nepochs: 3\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "s.yaml"), []byte("config: base.yaml\nset: {epochs: 5}\nseeds: 2\n"), 0o644)
	f, err := Load(filepath.Join(dir, "s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.Plan("")
	if err != nil {
		t.Fatal(err)
	}
	c := p.Runs[1].Config
	if len(p.Runs) != 2 || p.Runs[1].Preset != "mnist-bp" || c.Batch != 7 || c.Epochs != 5 || c.Seed != 2 || p.Runs[1].Name != "seed=2" {
		t.Errorf("%+v", p.Runs[1])
	}
	wd, _ := os.Getwd()
	if p.Out != filepath.Join(wd, "runs", "s") {
		t.Errorf("default out %s", p.Out)
	}
}
