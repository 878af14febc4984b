// Package prof wires the profiling flags that every training command
// offers: a CPU profile, a heap profile written at the end, and a live
// net/http/pprof endpoint bound to loopback unless an address says
// otherwise.
package prof

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on the default mux
	"os"
	"runtime"
	"runtime/pprof"
)

// Flags are the profiling options of a command.
type Flags struct {
	CPU, Mem, Addr string
}

// Register adds -cpuprofile, -memprofile and -pprof to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.CPU, "cpuprofile", "", "write a CPU profile to `file` (analyse with go tool pprof)")
	fs.StringVar(&f.Mem, "memprofile", "", "write a heap profile to `file` at the end")
	fs.StringVar(&f.Addr, "pprof", "", "serve net/http/pprof at `addr` (host:port; a bare :port binds to 127.0.0.1)")
}

// Start begins what the flags ask for. The returned function stops the CPU
// profile and writes the heap profile; call it once, also on error paths.
// The address of a started pprof server is returned (empty if none).
func (f Flags) Start() (stop func() error, addr string, err error) {
	var cpuFile *os.File
	if f.CPU != "" {
		cpuFile, err = os.Create(f.CPU)
		if err != nil {
			return nil, "", fmt.Errorf("cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(cpuFile); err != nil {
			cpuFile.Close()
			return nil, "", fmt.Errorf("cpu profile: %w", err)
		}
	}
	if f.Addr != "" {
		a := f.Addr
		if host, port, err := net.SplitHostPort(a); err == nil && host == "" {
			a = net.JoinHostPort("127.0.0.1", port)
		}
		ln, err := net.Listen("tcp", a)
		if err != nil {
			if cpuFile != nil {
				pprof.StopCPUProfile()
				cpuFile.Close()
			}
			return nil, "", fmt.Errorf("pprof server: %w", err)
		}
		addr = ln.Addr().String()
		go http.Serve(ln, nil) //nolint:errcheck // ends with the process
	}
	stop = func() error {
		var errs []error
		if cpuFile != nil {
			pprof.StopCPUProfile()
			errs = append(errs, cpuFile.Close())
		}
		if f.Mem != "" {
			mf, err := os.Create(f.Mem)
			if err != nil {
				errs = append(errs, fmt.Errorf("heap profile: %w", err))
			} else {
				runtime.GC()
				errs = append(errs, pprof.WriteHeapProfile(mf), mf.Close())
			}
		}
		return errors.Join(errs...)
	}
	return stop, addr, nil
}
