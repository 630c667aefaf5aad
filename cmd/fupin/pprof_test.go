package main

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// PPROF_ADDR serves the profiles on a listener of its own, and stop closes it; empty starts
// nothing and says nothing.
func TestPprofListener(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var out strings.Builder
	stop, err := startPprof("", log, &out)
	if err != nil || out.Len() != 0 {
		t.Fatalf("empty PPROF_ADDR: %v, printed %q; want nothing started", err, out.String())
	}
	stop()

	stop, err = startPprof("127.0.0.1:0", log, &out)
	if err != nil {
		t.Fatal(err)
	}
	base, ok := strings.CutPrefix(strings.TrimSpace(out.String()), "pprof on ")
	if !ok {
		t.Fatalf("printed %q, want a \"pprof on URL\" line", out.String())
	}
	for _, path := range []string{"", "heap?debug=1", "cmdline"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s%s: %d, want 200", base, path, resp.StatusCode)
		}
	}
	stop()
	if resp, err := http.Get(base); err == nil {
		resp.Body.Close()
		t.Errorf("GET %s after stop answered %d, want the listener closed", base, resp.StatusCode)
	}
}
