// Package live serves a page that shows a training run as it learns, or
// finished runs from their folders: the learning curves (also within an
// epoch), the controller's effort (‖ū‖ and the amount of control H), the
// alignment diagnostics, the last recorded window of a few samples
// (control, output against target, compartments of chosen neurons), the
// configuration, the progress and the remaining time.
//
// A Feed holds what the page shows of one run. During training an
// Observer (a runner.Observer) publishes into it from the training
// goroutine without ever waiting for a reader: every publication is a few
// assignments under a mutex that readers hold only to copy slice headers,
// and slices are only appended to. From time to time, between
// minibatches, the Observer copies the network's weights into a spare
// network and records a window of it (internal/trace, learning off) in a
// goroutine of its own, on a circuit of its own and with no worker pool,
// so that training computes the same bits with or without it. It records
// every Options.Every while a page is open, and otherwise only rarely
// (Options.Idle) and after the run's last epoch; each window is saved as
// WindowFile in the run folder.
//
// Load reads a Feed from a run folder (metrics.jsonl, config.yaml,
// meta.json, summary.json, window.json) and reloads it when those files
// change, so that "strongdfc view" shows finished runs, and runs that
// another process is training, from their folders alone.
//
// Server is the http.Handler of the page and its JSON endpoints; the
// page (HTML, JavaScript, CSS) is embedded in the binary and loads
// nothing from elsewhere. Listen refuses addresses other than loopback
// unless asked to allow them.
package live
