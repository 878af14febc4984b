package config

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/strongdfc/strongdfc/presets"
	"github.com/strongdfc/strongdfc/train"
)

func write(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "run.yaml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRoundTrip: every preset, written by Marshal and resolved from the
// file, comes back bit for bit, whatever preset the command line names.
func TestRoundTrip(t *testing.T) {
	for _, p := range presets.All() {
		want := p.Config()
		b, err := Marshal(want, p.Name, "a header line")
		if err != nil {
			t.Fatal(err)
		}
		path := write(t, string(b))
		got, preset, err := Resolve(Sources{File: path})
		if err != nil {
			t.Fatalf("%s: %v\n%s", p.Name, err, b)
		}
		if !reflect.DeepEqual(got, want) || preset != p.Name {
			t.Errorf("%s: read back %+v (preset %s), want %+v", p.Name, got, preset, want)
		}
		// Every key says what it is.
		for _, line := range strings.Split(string(b), "\n") {
			if k := strings.TrimSpace(line); k != "" && !strings.HasPrefix(k, "#") && !strings.HasPrefix(k, "- ") && !strings.Contains(k, " # ") {
				t.Errorf("%s: key without a comment: %q", p.Name, line)
			}
		}
		// The file is complete: a different base changes nothing.
		noPreset := regexp.MustCompile(`(?m)^preset: .*\n`).ReplaceAllString(string(b), "")
		if noPreset == string(b) {
			t.Fatalf("%s: no preset line in\n%s", p.Name, b)
		}
		for _, base := range presets.All() {
			got, _, err := Resolve(Sources{File: write(t, noPreset), Preset: base.Name})
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s on top of %s: %v", p.Name, base.Name, err)
			}
		}
	}
}

// TestLayers: a file changes its preset's values; overrides change the
// file's.
func TestLayers(t *testing.T) {
	path := write(t, "preset: fashion-mnist-strong-dfc\nepochs: 3\nforward:\n  lr: 0.5\nhidden: [32, 16]\n")
	cfg, preset, err := Resolve(Sources{File: path, Set: []string{"forward.beta1=0.5", "dynamics.steps=50", "hidden=[8]"}})
	if err != nil {
		t.Fatal(err)
	}
	want := presets.FashionMNIST().Normalize()
	want.Epochs = 3
	want.Forward.LR = 0.5
	want.Forward.Beta1 = 0.5
	want.Dynamics.Steps = 50
	want.Hidden = []int{8}
	if !reflect.DeepEqual(cfg, want) || preset != "fashion-mnist-strong-dfc" {
		t.Errorf("got %+v\nwant %+v", cfg, want)
	}
	if d := presets.FashionMNIST(); d.Forward.LR == 0.5 || len(d.Hidden) != 3 {
		t.Error("decoding changed the preset itself")
	}
	cfg, _, err = Resolve(Sources{Preset: "fashion-mnist-strong-dfc"})
	if err != nil || !reflect.DeepEqual(cfg, presets.FashionMNIST().Normalize()) {
		t.Errorf("preset alone: %v", err)
	}
	cfg, _, _ = Resolve(Sources{})
	if !reflect.DeepEqual(cfg, presets.MNIST().Normalize()) {
		t.Error("the default is not the MNIST preset")
	}
}

// TestBadInput: each mistake is an error naming the file (or flag), the
// line and the key.
func TestBadInput(t *testing.T) {
	cases := []struct {
		name, content string
		set           []string
		preset        string
		want          []string
	}{
		{"unknown key", "epochs: 3\nforward:\n  lr: 1\n  moment: 0.9\n", nil, "", []string{"run.yaml", "line 4", "forward.moment", `unknown key "moment"`, "beta1"}},
		{"unknown top key", "epoch: 3\n", nil, "", []string{"line 1", `unknown key "epoch"`, "epochs"}},
		// A key with a dot in it (found by FuzzDecode, which it used to crash).
		{"dotted unknown key", "forward: {lr.0}\n", nil, "", []string{"line 1", `unknown key "lr.0" in forward`, "beta1"}},
		{"wrong type", "dynamics:\n  dt: fast\n", nil, "", []string{"line 2", "dynamics.dt", `"fast" is not a valid number`}},
		{"wrong list", "hidden: [256, x]\n", nil, "", []string{"line 1", "hidden[1]", "integer"}},
		{"negative seed", "seed: -1\n", nil, "", []string{"line 1", "seed", "non-negative integer"}},
		{"duplicate", "epochs: 3\nepochs: 4\n", nil, "", []string{"run.yaml", "epochs", "already defined"}},
		{"syntax", "epochs: [3\n", nil, "", []string{"run.yaml", "not valid YAML"}},
		{"two documents", "epochs: 3\n---\nepochs: 4\n", nil, "", []string{"run.yaml", "more than one"}},
		{"empty", "", nil, "", []string{"run.yaml", "empty"}},
		{"unknown preset in file", "preset: cifar-dfc\n", nil, "", []string{"run.yaml", "preset", "cifar-dfc", "mnist-strong-dfc"}},
		{"unknown preset flag", "", nil, "nope", []string{`"nope"`, "fashion-mnist-strong-dfc"}},
		{"conflicting presets", "preset: mnist-strong-dfc\n", nil, "fashion-mnist-strong-dfc", []string{"conflicts"}},
		{"set unknown", "", []string{"forward.lrr=1"}, "", []string{"--set forward.lrr=1", "forward.lrr", "unknown key"}},
		{"set wrong type", "", []string{"batch=big"}, "", []string{"--set batch=big", "batch", "integer"}},
		{"set no value", "", []string{"batch"}, "", []string{"--set", "key=value"}},
		{"scalar for mapping", "forward: 3\n", nil, "", []string{"line 1", "forward"}},
	}
	for _, tc := range cases {
		src := Sources{Set: tc.set, Preset: tc.preset}
		if tc.content != "" || tc.name == "empty" {
			src.File = write(t, tc.content)
		}
		_, _, err := Resolve(src)
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", tc.name, err, w)
			}
		}
	}
	if _, _, err := Resolve(Sources{File: "/nonexistent/run.yaml"}); err == nil || !strings.Contains(err.Error(), "/nonexistent/run.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

// TestImpossibleValues: values that decode but cannot run are refused by
// the configuration's validation, naming the key.
func TestImpossibleValues(t *testing.T) {
	cases := []struct{ content, want string }{
		{"dynamics:\n  dt: 0\n", "dynamics.dt"},
		{"dynamics:\n  dt: -0.001\n", "dynamics.dt"},
		{"dynamics:\n  dt: 0.5\n", "tau_v"},
		{"dynamics:\n  sigma: -1\n", "sigma"},
		{"batch: 0\n", "batch"},
		{"pretrain:\n  dynamics:\n    dt: 1\n", "pretrain.dynamics"},
		{"dynamics:\n  alpha: .nan\n", "alpha"},
	}
	for _, tc := range cases {
		cfg, _, err := Resolve(Sources{File: write(t, tc.content)})
		if err != nil {
			t.Errorf("%q: %v", tc.content, err)
			continue
		}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: validation error %v, want one naming %q", tc.content, err, tc.want)
		}
	}
}

// FuzzDecode: no input makes the loader panic; what it accepts marshals
// to a file that reads back to the same configuration.
func FuzzDecode(f *testing.F) {
	b, _ := Marshal(presets.MNIST(), "mnist-strong-dfc")
	f.Add(b)
	f.Add([]byte("epochs: 3\nforward: {lr: 1e-3}\nhidden: [1, 2]\n"))
	f.Add([]byte("dynamics:\n  dt: fast\n"))
	f.Add([]byte("a: &x [1]\nb: *x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Decode("fuzz.yaml", data, presets.MNIST())
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		out, err := Marshal(cfg, "")
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode("again.yaml", out, train.Config{})
		if err != nil {
			t.Fatalf("re-reading %q: %v", out, err)
		}
		if !sameConfig(back, cfg) {
			t.Fatalf("round trip changed %+v into %+v", cfg, back)
		}
	})
}

// sameConfig compares configurations, NaN equal to NaN.
func sameConfig(a, b train.Config) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	var eq func(x, y reflect.Value) bool
	eq = func(x, y reflect.Value) bool {
		switch x.Kind() {
		case reflect.Float64:
			return x.Float() == y.Float() || (math.IsNaN(x.Float()) && math.IsNaN(y.Float()))
		case reflect.Struct:
			for i := range x.NumField() {
				if !eq(x.Field(i), y.Field(i)) {
					return false
				}
			}
			return true
		case reflect.Slice:
			if x.Len() != y.Len() {
				return false
			}
			for i := range x.Len() {
				if !eq(x.Index(i), y.Index(i)) {
					return false
				}
			}
			return true
		}
		return x.Interface() == y.Interface()
	}
	return eq(va, vb)
}
