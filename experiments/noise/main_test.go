package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReplot: runs.jsonl reads back (a damaged line is an error naming it),
// levelsOf sorts the levels, and with a single σ > 0 the figure's
// noiseless references still span two x values beside the one level.
func TestReplot(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "runs.jsonl")
	lines := `{"method":"strong-dfc","sigma":0.01,"seed":1,"test_accuracy":0.8,"angle_total":75}
{"method":"strong-dfc","sigma":0,"seed":1,"test_accuracy":0.81,"angle_total":74}
{"method":"dfc","sigma":0,"seed":1,"test_accuracy":0.1,"angle_total":100}
{"method":"dfc","sigma":0.01,"seed":1,"test_accuracy":0.1,"angle_total":99}
`
	if err := os.WriteFile(path, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	runs, err := readRuns(path)
	if err != nil || len(runs) != 4 {
		t.Fatalf("readRuns: %d runs, %v", len(runs), err)
	}
	lv := levelsOf(runs)
	if len(lv) != 2 || lv[0] != 0 || lv[1] != 0.01 {
		t.Fatalf("levels %v, want [0 0.01]", lv)
	}
	f := figure(runs, lv)
	refs := 0
	for _, p := range f.Panels {
		for _, s := range p.Series {
			if strings.HasSuffix(s.Name, "σ = 0") {
				refs++
				if len(s.X) != 2 || !(s.X[0] < -2 && s.X[1] > -2) {
					t.Errorf("%s: reference at x %v, want a line across log10 σ = −2", s.Name, s.X)
				}
			} else if len(s.X) != 1 || s.Marker == "" {
				t.Errorf("%s: %d points, marker %q: a single level needs a marker", s.Name, len(s.X), s.Marker)
			}
		}
	}
	if refs != 4 {
		t.Errorf("%d reference lines, want 2 methods × 2 panels", refs)
	}
	if err := os.WriteFile(path, []byte(lines+"{not json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readRuns(path); err == nil || !strings.Contains(err.Error(), "line 5") {
		t.Errorf("a damaged line: error %v, want one naming line 5", err)
	}
}
