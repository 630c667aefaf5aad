package console

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestScriptsAreSentGzippedToClientsThatAcceptIt(t *testing.T) {
	script := strings.Repeat("export const a = 'fupin';\n", 200)
	h := router(New(fstest.MapFS{
		"index.html":          {Data: []byte(`<!doctype html>`)},
		"assets/index-a1.js":  {Data: []byte(script)},
		"assets/logo-a1.png":  {Data: []byte("\x89PNG not text")},
		"assets/index-a1.css": {Data: []byte("a{}")}, // too small to shrink: sent as it is
	}))
	for _, c := range []struct {
		accept string
		gzip   bool
	}{
		{"gzip, deflate, br", true},
		{"br;q=1.0, gzip;q=0.8", true},
		{"*", true},
		{"", false},
		{"br", false},
		{"gzip;q=0", false},
		{"identity", false},
	} {
		r := httptest.NewRequest("GET", "/console/assets/index-a1.js", nil)
		r.Header.Set("Accept-Encoding", c.accept)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		body := w.Body.Bytes()
		if c.gzip {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("Accept-Encoding %q: not gzip: %v", c.accept, err)
			}
			body, _ = io.ReadAll(zr)
		}
		enc := w.Header().Get("Content-Encoding")
		if w.Code != 200 || string(body) != script || (enc == "gzip") != c.gzip || w.Header().Get("Vary") != "Accept-Encoding" ||
			!strings.HasPrefix(w.Header().Get("Content-Type"), "text/javascript") ||
			w.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("Accept-Encoding %q: %d encoding %q vary %q type %q, body intact %v",
				c.accept, w.Code, enc, w.Header().Get("Vary"), w.Header().Get("Content-Type"), string(body) == script)
		}
		if c.gzip && w.Body.Len()*5 > len(script) {
			t.Errorf("Accept-Encoding %q: %d bytes sent for %d", c.accept, w.Body.Len(), len(script))
		}
	}
	for _, name := range []string{"/console/assets/logo-a1.png", "/console/assets/index-a1.css"} {
		r := httptest.NewRequest("GET", name, nil)
		r.Header.Set("Accept-Encoding", "gzip")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 || w.Header().Get("Content-Encoding") != "" {
			t.Errorf("%s: %d encoding %q, want it as it is", name, w.Code, w.Header().Get("Content-Encoding"))
		}
	}
}
