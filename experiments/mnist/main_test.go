package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/strongdfc/strongdfc/checkpoint"
	"github.com/strongdfc/strongdfc/dataset"
	"github.com/strongdfc/strongdfc/internal/config"
	"github.com/strongdfc/strongdfc/internal/runfolder"
	"github.com/strongdfc/strongdfc/internal/synth"
	"github.com/strongdfc/strongdfc/train"
)

// writeData writes a small MNIST-like data set in IDX files (8×8 images,
// 10 classes) and returns its folder.
func writeData(t *testing.T, train, test int) string {
	t.Helper()
	dir := t.TempDir()
	if err := synth.WriteIDX(dir, train, test); err != nil {
		t.Fatal(err)
	}
	return dir
}

// last returns the last line of stdout as a JSON object.
func last(t *testing.T, stdout string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &m); err != nil {
		t.Errorf("the last line of stdout is not JSON: %q", stdout)
	}
	return m
}

func runArgs(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestShortRun: -steps (every window's) and -set shorten the published
// run (here to a toy), flags take one dash or two, and the run folder
// records it.
func TestShortRun(t *testing.T) {
	data := writeData(t, 160, 40)
	dir := filepath.Join(t.TempDir(), "run")
	code, stdout, stderr := runArgs("-data", data, "--epochs", "1", "-train-limit", "64", "--steps=16", "-batch", "16",
		"-set", "hidden=[16,16]", "-set", "forward.lr=0.001", "--set", "validation=32", "-out", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	s := last(t, stdout)
	if s["status"] != "done" || s["epochs"] != 1.0 || s["train_samples"] != 64.0 {
		t.Errorf("summary %v", s)
	}
	b, err := os.ReadFile(filepath.Join(dir, runfolder.Config))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Decode(runfolder.Config, b, train.Config{})
	if err != nil || cfg.Dynamics.Steps != 16 || cfg.Pretrain.Dynamics.Steps != 16 || fmt.Sprint(cfg.Hidden) != "[16 16]" || cfg.Batch != 16 || cfg.Forward.LR != 0.001 {
		t.Errorf("config.yaml does not record -steps and -set (%v):\n%s", err, b)
	}
	// A two-phase method's sleep windows get -steps too.
	dir = filepath.Join(t.TempDir(), "run")
	code, _, stderr = runArgs("-data", data, "-method", "strong-dfc-2phase", "-epochs", "1", "-train-limit", "32", "-steps", "8",
		"-batch", "16", "-set", "hidden=[8]", "-set", "validation=16", "-out", dir)
	b, _ = os.ReadFile(filepath.Join(dir, runfolder.Config))
	cfg, err = config.Decode(runfolder.Config, b, train.Config{})
	if code != 0 || err != nil || cfg.Sleep.Dynamics.Steps != 8 || cfg.Pretrain.Dynamics.Steps != 8 || cfg.Dynamics.Steps != 8 {
		t.Errorf("exit %d (%v), steps %d/%d/%d, want 8 everywhere\n%s", code, err, cfg.Dynamics.Steps, cfg.Pretrain.Dynamics.Steps, cfg.Sleep.Dynamics.Steps, stderr)
	}
}

// TestErrors: every error ends with a JSON line on stdout, and a clear
// message; usage errors exit with 2.
func TestErrors(t *testing.T) {
	data := writeData(t, 40, 20)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-set", "forward.lr=abc", "-data", data}, 1, "forward.lr"},
		{[]string{"-set", "dynamics.dt=-1", "-data", data}, 1, "dynamics.dt"},
		{[]string{"-steps", "1", "-data", data}, 1, "dynamics.steps"},
		{[]string{"-epoch", "3"}, 2, "-epoch; did you mean -epochs?"},
		{[]string{"--trainlimit", "3"}, 2, "did you mean -train-limit?"},
		{[]string{"-method", "nope"}, 2, "nope"},
		{[]string{"extra"}, 2, "extra"},
		{[]string{"-set", "hidden=[8]", "-data", t.TempDir()}, 1, dataset.Files.TrainImages},
	}
	for _, tc := range cases {
		code, stdout, stderr := runArgs(tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, want %d and a message naming %q\n%s", tc.args, code, tc.code, tc.want, stderr)
		}
		if s := last(t, stdout); s["status"] != "failed" || s["error"] == "" {
			t.Errorf("%v: summary %v", tc.args, s)
		}
	}
	// The not-found message of Fashion-MNIST names a flag that works
	// here (and in strongdfc).
	if _, err := os.Stat(dataset.FashionMNISTDefaultDir); err != nil {
		code, _, stderr := runArgs("-dataset", "fashion-mnist", "-set", "hidden=[8]")
		if code != 1 || !strings.Contains(stderr, "--data DIR") {
			t.Errorf("exit %d\n%s", code, stderr)
		}
	}
}

// TestCIFAR10: -dataset cifar10 trains on CIFAR-10's binary files (here
// small ones), with MNIST's constants and a 3072-pixel input.
func TestCIFAR10(t *testing.T) {
	dir := t.TempDir()
	if err := synth.WriteCIFAR10(dir, 20, 30); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "c")
	code, stdout, stderr := runArgs("-dataset", "cifar10", "-data", dir, "-method", "bp", "-epochs", "1", "-batch", "16",
		"-set", "hidden=[16]", "-set", "validation=20", "-out", out)
	if s := last(t, stdout); code != 0 || s["dataset"] != "cifar10" || s["train_samples"] != 80.0 {
		t.Fatalf("exit %d, summary %v\n%s", code, s, stderr)
	}
	if _, net, err := checkpoint.ReadNetwork(filepath.Join(out, runfolder.Weights)); err != nil || net.NIn() != 3072 {
		t.Errorf("weights: %v", err)
	}
	// Without -data: a message that says where to get it and how to
	// point to it.
	code, stdout, stderr = runArgs("-dataset", "cifar10")
	if s := last(t, stdout); code != 1 || !strings.Contains(stderr, "--data DIR") || s["status"] != "failed" {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}

// TestInterrupted: SIGINT and SIGTERM end the command with 130 and 143
// (here as the cancelled context's cause), after the JSON line.
func TestInterrupted(t *testing.T) {
	data := writeData(t, 64, 20)
	for sig, want := range map[syscall.Signal]int{syscall.SIGINT: 130, syscall.SIGTERM: 143} {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(signalError{sig})
		var out, errb bytes.Buffer
		code := run(ctx, []string{"-data", data, "-set", "hidden=[8]", "-set", "validation=16", "-steps", "8"}, &out, &errb)
		if s := last(t, out.String()); code != want || s["status"] != "interrupted" {
			t.Errorf("%v: exit %d, want %d; summary %v\n%s", sig, code, want, s, errb.String())
		}
	}
}

// TestFirstLook: run without flags, the command says that it is the
// published 40-epoch run and what to run for a first look.
func TestFirstLook(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(signalError{syscall.SIGINT}) // stop before anything runs
	var out, errb bytes.Buffer
	run(ctx, nil, &out, &errb)
	if !strings.Contains(errb.String(), "published run: 40 epochs") || !strings.Contains(errb.String(), "-epochs 1 -train-limit 5000 -batch 32 -steps 100") {
		t.Errorf("no hint for a first look:\n%s", errb.String())
	}
	errb.Reset()
	run(ctx, []string{"-epochs", "1", "-data", t.TempDir()}, &out, &errb)
	if strings.Contains(errb.String(), "first look") {
		t.Errorf("a hint although flags were given:\n%s", errb.String())
	}
}
