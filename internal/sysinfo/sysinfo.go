// Package sysinfo reports facts about the running process and machine:
// peak memory, the BLAS backend, versions.
package sysinfo

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// PeakRSSMB returns the process's peak resident set size in MiB (VmHWM of
// /proc/self/status), or 0 where that is unavailable.
func PeakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			fields := strings.Fields(rest)
			if len(fields) >= 1 {
				kb, err := strconv.ParseFloat(fields[0], 64)
				if err == nil {
					return kb / 1024
				}
			}
		}
	}
	return 0
}

// Backend names the BLAS implementation in use: "gonum" (pure Go) unless a
// build with the openblas tag registered OpenBLAS.
func Backend() string { return backend }

// backend is set by the openblas build.
var backend = "gonum"

// SetBackend records the name of the BLAS implementation registered with
// blas64.Use. Only the backend packages call it.
func SetBackend(name string) { backend = name }

// GoVersion returns the Go version the program was built with.
func GoVersion() string { return runtime.Version() }
