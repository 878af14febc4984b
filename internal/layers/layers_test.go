// Package layers holds a test of the module's architecture: imports go one
// way, from the commands down to the arithmetic (docs/architecture.md).
package layers

import (
	"go/build"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/strongdfc/strongdfc"

// rank is the layer of each package (by its path in the module). A
// package may import only packages of a lower rank; packages of the
// application layer may also import each other.
var rank = map[string]int{
	"compute":          0,
	"neuron":           1,
	"synapse":          1,
	"dataset":          1,
	"checkpoint/npz":   1,
	"internal/sysinfo": 1,
	"internal/prof":    1,
	"internal/golden":  1,
	"scheduler":        2,
	"circuit":          3,
	"train":            4,
	"checkpoint":       5,
	"presets":          5,
	// internal/* not listed: 5, the application
	// cmd/*, experiments/*: 6, the commands
}

const application = 5

func rankOf(pkg string) int {
	if r, ok := rank[pkg]; ok {
		return r
	}
	switch {
	case strings.HasPrefix(pkg, "internal/"):
		return application
	case strings.HasPrefix(pkg, "cmd/"), strings.HasPrefix(pkg, "experiments/"):
		return 6
	}
	return -1
}

// TestLayers: every non-test import inside the module goes to a lower
// layer (or, within the application, sideways).
func TestLayers(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "docs") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() {
			if p, err := build.ImportDir(path, 0); err == nil && len(p.GoFiles) > 0 {
				rel, _ := filepath.Rel(root, path)
				pkgs = append(pkgs, filepath.ToSlash(rel))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(pkgs)
	if len(pkgs) < 15 {
		t.Fatalf("found only %d packages under %s: %v", len(pkgs), root, pkgs)
	}
	for _, pkg := range pkgs {
		r := rankOf(pkg)
		if r < 0 {
			t.Errorf("package %s has no layer: add it to the table in this test and to docs/architecture.md", pkg)
			continue
		}
		p, err := build.ImportDir(filepath.Join(root, pkg), 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range p.Imports {
			dep, ok := strings.CutPrefix(imp, module+"/")
			if !ok {
				continue
			}
			d := rankOf(dep)
			if d < r || (d == r && r == application) {
				continue
			}
			t.Errorf("%s (layer %d) imports %s (layer %d): imports must go down", pkg, r, dep, d)
		}
	}
}
