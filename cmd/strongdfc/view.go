package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/strongdfc/strongdfc/internal/live"
	"github.com/strongdfc/strongdfc/internal/runner"
)

// livePage is the page train --serve serves while the run trains.
type livePage struct {
	feed   *live.Feed
	obs    *live.Observer
	stop   context.CancelFunc
	served chan error
	log    *zap.Logger
}

// startLive opens addr, starts serving the page of the run and hooks its
// observer into opt.
func startLive(addr string, allowRemote bool, name string, opt *runner.Options, log *zap.Logger) (*livePage, error) {
	ln, loopback, err := live.Listen(addr, allowRemote)
	if err != nil {
		return nil, fmt.Errorf("--serve: %w", err)
	}
	if name == "" {
		name = "run"
	}
	p := &livePage{feed: live.NewFeed(name), served: make(chan error, 1), log: log}
	p.obs = live.NewObserver(p.feed, live.Options{Log: log})
	opt.Observer = p.obs
	srv := live.NewServer(p.feed)
	srv.LoopbackOnly = loopback
	// The page outlives the run's context: after Ctrl-C it still shows
	// the run being saved.
	ctx, stop := context.WithCancel(context.Background())
	p.stop = stop
	go func() { p.served <- live.Serve(ctx, ln, srv) }()
	url := live.URL(ln)
	if !loopback {
		log.Warn("the live page is served on an address other than loopback: every machine that reaches it can read it", zap.String("address", ln.Addr().String()))
	}
	log.Info("live page", zap.String("url", url))
	if testServed != nil {
		testServed(url)
	}
	return p, nil
}

// finish publishes the run's end, lets an open page fetch it (it asks
// every 2 s; up to 5 s), and stops serving.
func (p *livePage) finish(sum runner.Summary, err error) {
	p.obs.Wait()
	p.feed.Finish(sum.Status, sum, err)
	if p.feed.Watched(15*time.Second) && sum.Status != "interrupted" { // Ctrl-C: exit at once
		end := time.Now()
		for time.Since(end) < 5*time.Second && !p.feed.SeenSince(end) {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(time.Second) // the last window and the info, asked for after the state
	}
	p.stop()
	if err := <-p.served; err != nil {
		p.log.Warn("live page", zap.Error(err))
	}
}

func newView() *cobra.Command {
	var (
		addr        string
		allowRemote bool
	)
	cmd := &cobra.Command{
		Use:   "view RUN [RUN...]",
		Short: "Serve the page of finished (or running) runs from their folders",
		Long: `Serve the page that "train --serve" shows, for runs read from their folders:
the learning curves, the controller's effort and the alignment diagnostics
over epochs, the last recorded window (window.json, which "train --serve"
keeps), the configuration and the outcome. Several runs are overlaid, one
colour each. The folders are read again when their files change, so a run
that another process is training gains its epochs as they end.

The page only reads. It is served until Ctrl-C (exit status 0), on a
loopback address unless --allow-remote is given.`,
		Example: `  strongdfc view runs/first
  strongdfc view runs/first runs/second --addr 127.0.0.1:9000`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{fmt.Errorf("view takes one or more run folders, e.g. strongdfc view runs/NAME (see --help)")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var feeds []*live.Feed
			names := map[string]int{}
			for _, dir := range args {
				f, err := live.Load(dir)
				if err != nil {
					return fmt.Errorf("view: %w", err)
				}
				feeds = append(feeds, f)
				names[filepath.Base(filepath.Clean(dir))]++
			}
			for i, dir := range args {
				if names[filepath.Base(filepath.Clean(dir))] > 1 {
					feeds[i].SetName(filepath.Clean(dir)) // two runs of the same name
				}
			}
			ln, loopback, err := live.Listen(addr, allowRemote)
			if err != nil {
				return fmt.Errorf("--addr: %w", err)
			}
			log := runner.ConsoleLogger(cmd.ErrOrStderr(), zapcore.InfoLevel)
			defer log.Sync() //nolint:errcheck
			if !loopback {
				log.Warn("the page is served on an address other than loopback: every machine that reaches it can read it", zap.String("address", ln.Addr().String()))
			}
			srv := live.NewServer(feeds...)
			srv.LoopbackOnly = loopback
			url := live.URL(ln)
			log.Info("serving the page; Ctrl-C stops", zap.String("url", url), zap.Int("runs", len(feeds)))
			if testServed != nil {
				testServed(url)
			}
			return live.Serve(cmd.Context(), ln, srv)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8040", "`address` of the page (:PORT means 127.0.0.1:PORT; port 0 picks a free one)")
	f.BoolVar(&allowRemote, "allow-remote", false, "let --addr be an address other than loopback (every machine that reaches it can read the page)")
	return cmd
}
