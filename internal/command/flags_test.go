package command

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"
)

func TestClosest(t *testing.T) {
	known := []string{"epochs", "pretrain-epochs", "train-limit", "data", "batch", "seed", "set", "steps", "out"}
	for name, want := range map[string]string{
		"epoch": "epochs", "--epoch": "epochs", "trainlimit": "train-limit", "train_limit": "train-limit",
		"pretrain": "pretrain-epochs", "dataset": "data", "sed": "seed", "stpes": "steps",
		"lr": "", "x": "", "verbose": "",
	} {
		if got := Closest(name, known); got != want {
			t.Errorf("Closest(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestParseFlags: a mistyped flag's error names the flag meant, and the
// usage is printed for -help only.
func TestParseFlags(t *testing.T) {
	newFS := func(out *bytes.Buffer) *flag.FlagSet {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(out)
		fs.Int("epochs", 1, "training `epochs`")
		fs.Int("train-limit", 0, "first `N` samples")
		return fs
	}
	var out bytes.Buffer
	err := ParseFlags(newFS(&out), []string{"-epoch", "3"})
	if err == nil || !strings.Contains(err.Error(), "did you mean -epochs?") || out.Len() != 0 {
		t.Errorf("error %v, output %q", err, out.String())
	}
	err = ParseFlags(newFS(&out), []string{"--verbose"})
	if err == nil || !strings.Contains(err.Error(), "-help lists the flags") || out.Len() != 0 {
		t.Errorf("error %v, output %q", err, out.String())
	}
	fs := newFS(&out)
	if err := ParseFlags(fs, []string{"--epochs=4", "-train-limit", "9"}); err != nil || fs.Lookup("epochs").Value.String() != "4" || fs.Lookup("train-limit").Value.String() != "9" {
		t.Errorf("both styles: %v", err)
	}
	if err := ParseFlags(newFS(&out), []string{"-help"}); !errors.Is(err, flag.ErrHelp) || !strings.Contains(out.String(), "-train-limit N") {
		t.Errorf("help: %v, output %q", err, out.String())
	}
}
