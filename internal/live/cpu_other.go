//go:build !linux

package live

import "math"

// threadCPU returns NaN: reading a thread's CPU time is implemented for
// Linux only.
func threadCPU() float64 { return math.NaN() }
