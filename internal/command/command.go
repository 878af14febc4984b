// Package command holds what the experiment commands share when they
// start: a console logger, a context that SIGINT and SIGTERM cancel, a
// worker pool, and the profiling their flags ask for.
package command

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"go.uber.org/zap"

	"github.com/strongdfc/strongdfc/compute"
	"github.com/strongdfc/strongdfc/internal/prof"
)

// Session is a running command's logger, context and worker pool.
type Session struct {
	Log *zap.Logger
	Ctx context.Context
	// Pool has GOMAXPROCS workers for the command's simulations.
	Pool   *compute.Pool
	cancel context.CancelFunc
	stop   func() error
}

// Parse registers the profiling flags on the command line's flag set,
// parses the command line (a mistyped flag ends the program with status
// 2 and the flag it meant; see ParseFlags) and starts a session with them.
func Parse() *Session {
	var pf prof.Flags
	pf.Register(flag.CommandLine)
	ParseCommandLine()
	return Start(pf)
}

// ParseCommandLine is flag.Parse with ParseFlags' messages: a mistyped
// flag ends the program with status 2 and names the flag it meant; -help
// prints the usage and ends it with status 0.
func ParseCommandLine() {
	flag.CommandLine.Init(flag.CommandLine.Name(), flag.ContinueOnError)
	switch err := ParseFlags(flag.CommandLine, os.Args[1:]); {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintf(os.Stderr, "%s: %v\n", filepath.Base(os.Args[0]), err)
		os.Exit(2)
	}
}

// Start begins a session with the given profiling flags; it ends the
// program with a message when profiling cannot start.
func Start(pf prof.Flags) *Session {
	log, err := zap.NewDevelopment()
	if err != nil {
		panic(err)
	}
	stop, addr, err := pf.Start()
	if err != nil {
		log.Fatal("profiling", zap.Error(err))
	}
	if addr != "" {
		log.Info("pprof", zap.String("url", "http://"+addr+"/debug/pprof/"))
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	return &Session{Log: log, Ctx: ctx, Pool: compute.NewPool(0), cancel: cancel, stop: stop}
}

// Close stops the profiles (writing the heap profile), the signal handling
// and flushes the log.
func (s *Session) Close() {
	if err := s.stop(); err != nil {
		s.Log.Error("profiling", zap.Error(err))
	}
	s.cancel()
	s.Pool.Close()
	_ = s.Log.Sync()
}

// Append creates the folder dir if needed and opens dir/name for appending
// (one JSON line per result, so an interrupted command keeps what it
// finished); it ends the program with a message when it cannot.
func (s *Session) Append(dir, name string) *os.File {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.Log.Fatal("output folder", zap.Error(err))
	}
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.Log.Fatal("output file", zap.Error(err))
	}
	return f
}
