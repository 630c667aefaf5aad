// Package console serves the web console (the Vue single-page app built from console/ by
// scripts/console.sh) at /console/, from files embedded in the binary.
//
// Paths under /console/ that name a built file get that file; hashed assets (/console/assets/)
// are cached for a year, since a new build gives them new names, while index.html is revalidated
// on every load so that a deploy is seen at once. A missing file with an extension is a 404 (a
// browser asking for a script must never be handed the HTML page); any other path is a page of
// the app and gets index.html, whose router shows it. Nothing outside /console/ falls back.
//
// Every answer carries a strict Content-Security-Policy: scripts, styles, fonts and connections
// from this server only, no inline script, no framing. A binary built without the console (no
// Node.js at hand) serves a placeholder page saying how to build it.
package console

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

//go:embed all:dist
var dist embed.FS

// Prefix is where the console is served.
const Prefix = "/console/"

// Policy is the Content-Security-Policy of every console answer. Styles set from scripts through
// the CSSOM (how Vue and Element Plus position popups) are not inline styles in CSP's sense;
// img-src allows blob: for downloaded files and product photos fetched with a token, data: for
// Element Plus's inline icons.
const Policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
	"frame-ancestors 'none'; form-action 'self'"

// Site is the console's files, or none (Built false) when the binary was built without them.
type Site struct {
	files fs.FS
	index []byte
	built time.Time
	gz    sync.Map // file name → *gzipped (gzip.go)
}

// New reads the embedded build; fsys nil means the embedded files (tests pass their own).
func New(fsys fs.FS) *Site {
	if fsys == nil {
		sub, err := fs.Sub(dist, "dist/site")
		if err != nil {
			return &Site{}
		}
		fsys = sub
	}
	index, err := fs.ReadFile(fsys, "index.html")
	if err != nil {
		return &Site{}
	}
	return &Site{files: fsys, index: index, built: time.Now()}
}

// Built reports whether the console was built into the binary.
func (s *Site) Built() bool { return s.index != nil }

// Register adds GET and HEAD of /console and everything under /console/, and of the site's root,
// which sends a browser opened on the bare host to the console (302: the root may serve something
// else one day, so browsers must not remember it).
func (s *Site) Register(r gin.IRoutes) {
	r.GET("/", toConsole)
	r.HEAD("/", toConsole)
	r.GET("/console", redirect)
	r.HEAD("/console", redirect)
	r.GET("/console/*path", s.serve)
	r.HEAD("/console/*path", s.serve)
}

func redirect(c *gin.Context) {
	c.Redirect(http.StatusMovedPermanently, Prefix)
}

func toConsole(c *gin.Context) {
	c.Redirect(http.StatusFound, Prefix)
}

func headers(h http.Header) {
	h.Set("Content-Security-Policy", Policy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}

func (s *Site) serve(c *gin.Context) {
	headers(c.Writer.Header())
	if !s.Built() {
		c.Header("Cache-Control", "no-store")
		c.Data(http.StatusServiceUnavailable, "text/html; charset=utf-8", placeholder)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+c.Param("path")), "/")
	if name != "" && name != "index.html" {
		if f, err := fs.Stat(s.files, name); err == nil && !f.IsDir() {
			if strings.HasPrefix(name, "assets/") {
				c.Header("Cache-Control", "public, max-age=31536000, immutable")
			} else {
				c.Header("Cache-Control", "no-cache")
			}
			if compressible[path.Ext(name)] {
				c.Header("Vary", "Accept-Encoding")
			}
			if gz := s.gzipOf(name); gz != nil && acceptsGzip(c.GetHeader("Accept-Encoding")) {
				c.Header("Content-Encoding", "gzip")
				http.ServeContent(c.Writer, c.Request, name, s.built, bytes.NewReader(gz))
				return
			}
			c.FileFromFS(name, http.FS(s.files))
			return
		}
		if strings.HasPrefix(name, "assets/") || path.Ext(name) != "" {
			c.Header("Cache-Control", "no-store")
			c.Data(http.StatusNotFound, "text/plain; charset=utf-8", []byte("404 not found: "+name+"\n"))
			return
		}
	}
	c.Header("Cache-Control", "no-cache")
	http.ServeContent(c.Writer, c.Request, "index.html", s.built, bytes.NewReader(s.index))
}

var placeholder = []byte(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>控制台尚未构建 · Console not built</title></head>
<body>
<h1>控制台尚未构建</h1>
<p>这个程序构建时没有包含网页控制台。请运行 <code>scripts/console.sh</code>（或 <code>scripts/run.sh</code>），再重新构建 <code>bin/fupin</code>。</p>
<h2>Console not built</h2>
<p>This binary was built without the web console. Run <code>scripts/console.sh</code> (or <code>scripts/run.sh</code>), then rebuild <code>bin/fupin</code>.</p>
</body></html>
`)
