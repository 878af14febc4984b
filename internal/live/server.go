package live

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

//go:embed assets
var assets embed.FS

// Server serves the page and its JSON endpoints for a list of runs (their
// feeds; run i has the id i):
//
//	GET /                       the page
//	GET /assets/{file}          its script and style sheet
//	GET /api/runs               [{"id", "name", "live"}, …]
//	GET /api/runs/{id}          the run's State after the Cursor given by
//	                            ?gen=&epochs=&running=&unorm= (all 0 by default)
//	GET /api/runs/{id}/info     its Info
//	GET /api/runs/{id}/window   its last recorded Window (204 when none)
//
// It only reads the feeds. When LoopbackOnly is set it answers only
// requests whose Host is a loopback name or address (a page of another
// site cannot read it through a DNS name pointed at 127.0.0.1).
type Server struct {
	feeds []*Feed
	mux   *http.ServeMux
	// LoopbackOnly refuses requests whose Host header is not localhost or
	// a loopback address.
	LoopbackOnly bool
}

// NewServer returns the server of the given runs' feeds.
func NewServer(feeds ...*Feed) *Server {
	s := &Server{feeds: feeds, mux: http.NewServeMux()}
	sub, _ := fs.Sub(assets, "assets")
	files := http.FileServerFS(sub)
	s.mux.Handle("GET /assets/", http.StripPrefix("/assets/", files))
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		b, err := assets.ReadFile("assets/index.html")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(b) //nolint:errcheck // the client went away
	})
	s.mux.HandleFunc("GET /api/runs", s.runs)
	s.mux.HandleFunc("GET /api/runs/{id}", s.withFeed(s.state))
	s.mux.HandleFunc("GET /api/runs/{id}/info", s.withFeed(func(w http.ResponseWriter, r *http.Request, f *Feed) {
		writeJSON(w, f.Info())
	}))
	s.mux.HandleFunc("GET /api/runs/{id}/window", s.withFeed(func(w http.ResponseWriter, r *http.Request, f *Feed) {
		b, seq := f.Window()
		if b == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Window-Seq", strconv.Itoa(seq))
		w.Write(b) //nolint:errcheck
	}))
	return s
}

// ServeHTTP answers a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.LoopbackOnly && !loopbackHost(r.Host) {
		http.Error(w, "this page answers only requests to localhost or a loopback address", http.StatusForbidden)
		return
	}
	h := w.Header()
	// Everything comes from here: no other site's script, style or data.
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	s.mux.ServeHTTP(w, r)
}

// runs lists the runs.
func (s *Server) runs(w http.ResponseWriter, r *http.Request) {
	type run struct {
		ID   int    `json:"id"`
		Name string `json:"name"`
		Live bool   `json:"live"`
	}
	out := make([]run, len(s.feeds))
	for i, f := range s.feeds {
		f.Touch()
		in := f.Info()
		out[i] = run{ID: i, Name: in.Name, Live: in.Live}
	}
	writeJSON(w, out)
}

// withFeed resolves the {id} of a request to a feed and touches it.
func (s *Server) withFeed(h func(http.ResponseWriter, *http.Request, *Feed)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil || id < 0 || id >= len(s.feeds) {
			http.Error(w, fmt.Sprintf("no run %q: the ids are 0 to %d", r.PathValue("id"), len(s.feeds)-1), http.StatusNotFound)
			return
		}
		f := s.feeds[id]
		f.Touch()
		h(w, r, f)
	}
}

// state answers a poll.
func (s *Server) state(w http.ResponseWriter, r *http.Request, f *Feed) {
	var c Cursor
	q := r.URL.Query()
	for _, p := range []struct {
		name string
		n    *int
	}{{"gen", &c.Gen}, {"epochs", &c.Epochs}, {"running", &c.Running}, {"unorm", &c.UNorm}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			http.Error(w, fmt.Sprintf("?%s=%q: want a whole number", p.name, v), http.StatusBadRequest)
			return
		}
		*p.n = n
	}
	writeJSON(w, f.State(c))
}

// writeJSON writes v as JSON.
func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b) //nolint:errcheck // the client went away
}

// loopbackHost reports whether a Host header names the local machine by
// a loopback name or address.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Listen opens addr for the page. A missing host means 127.0.0.1 (":8040"
// is 127.0.0.1:8040) and port 0 picks a free port. An address that is not
// loopback (localhost, 127.0.0.0/8, ::1) is refused unless allowRemote is
// set, since every machine that reaches it could read the page; loopback
// reports whether the address is loopback.
func Listen(addr string, allowRemote bool) (ln net.Listener, loopback bool, err error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, false, fmt.Errorf("address %q: want HOST:PORT, e.g. 127.0.0.1:8040 (or :8040 for 127.0.0.1)", addr)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	loopback = loopbackHost(host)
	if !loopback && !allowRemote {
		return nil, false, fmt.Errorf("address %q: %s is not a loopback address, so other machines could read the page; use 127.0.0.1:%s, or allow it with --allow-remote", addr, host, port)
	}
	ln, err = net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, loopback, fmt.Errorf("serving the page: %w", err)
	}
	return ln, loopback, nil
}

// Serve serves h on ln until ctx ends, then gives the requests under way
// up to a second to finish. A client that does not read its answer is
// dropped after WriteTimeout; nothing it does reaches the training.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// URL returns the page's address for a listener.
func URL(ln net.Listener) string {
	a := ln.Addr().(*net.TCPAddr)
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(a.Port)) + "/"
}
