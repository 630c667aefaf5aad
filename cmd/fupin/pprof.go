package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startPprof serves Go's profiles (/debug/pprof/: profile, heap, allocs, goroutine, trace …) on
// addr, a loopback host:port checked by config.Validate, on a listener and mux of their own: the
// public router never routes to them (the handlers are registered on this mux, not reached
// through http.DefaultServeMux, which nothing serves). It writes "pprof on http://HOST:PORT" to
// out with the address bound (port 0: any free one) and returns a function that closes the
// server. An empty addr starts nothing. Why: profiling `fupin serve` under real load
// (docs/performance.md, "Scans from outside the process") needs the real listener and process.
func startPprof(addr string, log *slog.Logger, out io.Writer) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // also serves heap, allocs, goroutine, block, mutex …
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("PPROF_ADDR: %w", err)
	}
	// No WriteTimeout: a CPU profile or trace answers after its ?seconds=.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("pprof server failed", "err", err)
		}
	}()
	log.Warn("profiling endpoint on", "addr", ln.Addr().String())
	fmt.Fprintf(out, "pprof on http://%s/debug/pprof/\n", ln.Addr().String())
	return func() { _ = srv.Close() }, nil
}
