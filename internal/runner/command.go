package runner

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/strongdfc/strongdfc/internal/prof"
)

// Command is what a training command starts with: the progress display
// and console logger of its Options, a context that SIGINT and SIGTERM
// cancel, and the profiling its flags ask for.
type Command struct {
	Ctx      context.Context
	Log      *zap.Logger
	stop     context.CancelFunc
	stopProf func() error
}

// StartCommand sets opt's Display (progress on stderr, every interval when
// stderr is not a terminal) and Log, and starts the profiling of pf; it
// ends the program with a message when profiling cannot start.
func StartCommand(opt *Options, every time.Duration, pf prof.Flags) *Command {
	opt.Display = NewDisplay(os.Stderr, IsTerminal(os.Stderr), every)
	log := ConsoleLogger(opt.Display, zapcore.InfoLevel)
	opt.Log = log
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProf, addr, err := pf.Start()
	if err != nil {
		log.Fatal("profiling", zap.Error(err))
	}
	if addr != "" {
		log.Info("pprof", zap.String("url", "http://"+addr+"/debug/pprof/"))
	}
	return &Command{Ctx: ctx, Log: log, stop: stop, stopProf: stopProf}
}

// Close stops the profiling (writing the heap profile), the signal
// handling, and flushes the log.
func (c *Command) Close() {
	if err := c.stopProf(); err != nil {
		c.Log.Error("profiling", zap.Error(err))
	}
	c.stop()
	_ = c.Log.Sync()
}
