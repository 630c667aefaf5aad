package console

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"sync"
)

// The console's text assets (its scripts and styles: 848 KB on the login page's first load) are
// sent gzip-compressed to clients that accept it (223 KB), as issue 13's first-load budget and
// Lighthouse's "enable text compression" count them. Each file is compressed once, at its first
// request, at gzip's best level, and kept for the life of the process: the embedded files never
// change while it runs, and the whole build compresses to a few MB.
var compressible = map[string]bool{".js": true, ".mjs": true, ".css": true, ".html": true, ".svg": true, ".json": true, ".txt": true, ".map": true}

type gzipped struct {
	once sync.Once
	data []byte // nil: compression failed or did not shrink the file; send it as it is
}

// gzipOf returns the gzip rendition of name, or nil when there is none worth sending.
func (s *Site) gzipOf(name string) []byte {
	if !compressible[path.Ext(name)] {
		return nil
	}
	v, _ := s.gz.LoadOrStore(name, &gzipped{})
	g := v.(*gzipped)
	g.once.Do(func() {
		raw, err := fs.ReadFile(s.files, name)
		if err != nil {
			return
		}
		var b bytes.Buffer
		w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		if _, err := w.Write(raw); err != nil || w.Close() != nil || b.Len() >= len(raw) {
			return
		}
		g.data = b.Bytes()
	})
	return g.data
}

// acceptsGzip reads an Accept-Encoding header (RFC 9110 §12.5.3): gzip, x-gzip or * listed with a
// weight other than 0.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "x-gzip" && coding != "*" {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		if q > 0 {
			return true
		}
	}
	return false
}
