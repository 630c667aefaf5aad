package app

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/goccy/go-yaml"

	"github.com/fupinmarket/fupin/api"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

// queryParams are the query parameter names each API operation takes, as api/openapi.yaml lists
// them (the path item's and the operation's own, $refs resolved), keyed by method and gin route
// ("GET /api/v1/orders/:id"). The document is the contract, so it is also the list the server
// holds requests to: one source, and an undocumented parameter cannot quietly work.
func queryParams(doc []byte) (map[string][]string, error) {
	var d struct {
		Paths      map[string]map[string]any `yaml:"paths"`
		Components struct {
			Parameters map[string]map[string]any `yaml:"parameters"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("api/openapi.yaml: %w", err)
	}
	queries := func(list any) []string {
		var names []string
		items, _ := list.([]any)
		for _, it := range items {
			p, _ := it.(map[string]any)
			if ref, ok := p["$ref"].(string); ok {
				p = d.Components.Parameters[strings.TrimPrefix(ref, "#/components/parameters/")]
			}
			if p["in"] == "query" {
				names = append(names, fmt.Sprint(p["name"]))
			}
		}
		return names
	}
	out := map[string][]string{}
	for path, item := range d.Paths {
		route := path
		for {
			i := strings.IndexByte(route, '{')
			j := strings.IndexByte(route, '}')
			if i < 0 || j < i {
				break
			}
			route = route[:i] + ":" + route[i+1:j] + route[j+1:]
		}
		shared := queries(item["parameters"])
		for method, op := range item {
			o, ok := op.(map[string]any)
			if !ok || method == "parameters" {
				continue
			}
			names := append(slices.Clone(shared), queries(o["parameters"])...)
			slices.Sort(names)
			out[strings.ToUpper(method)+" "+route] = slices.Compact(names)
		}
	}
	return out, nil
}

// knownQueries refuses, on the JSON API (/api/v1/), a query parameter the operation does not take
// or that cannot be read (malformedQuery),
// naming each such parameter and the ones it does take, and one given more than once, as a body's unknown field is refused
// (httpx.Bind): a misspelt or misplaced filter (`/api/v1/orders?status=paid`) would otherwise be
// ignored and answer the whole unfiltered list as if it were the filtered one. Pages and images
// outside /api/v1/ (scans, receipts; links shared in chat apps gain tracking parameters) take
// any. HEAD is held to its GET.
func knownQueries() gin.HandlerFunc {
	known, err := queryParams(api.OpenAPI)
	if err != nil {
		panic(err) // the embedded document is checked by the tests; it cannot change at run time
	}
	return func(c *gin.Context) {
		route := c.FullPath()
		if c.Request.URL.RawQuery == "" || !strings.HasPrefix(route, "/api/v1/") {
			return
		}
		method := c.Request.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		takes, documented := known[method+" "+route]
		if !documented {
			return // the contract tests keep every route documented
		}
		f := malformedQuery(c.Request.URL.RawQuery)
		for name, values := range c.Request.URL.Query() {
			if slices.Contains(takes, name) {
				// No operation takes a list in its query; the handlers read the first value, so a
				// second one (?status=paid&status=bogus) would go unchecked and unused.
				if len(values) > 1 {
					f.Add(name, "is given %d times; give it once", len(values))
				}
				continue
			}
			if len(takes) == 0 {
				f.Add(name, "is not a parameter of this operation, which takes no query parameters")
			} else {
				f.Add(name, "is not a parameter of this operation, which takes: %s", strings.Join(takes, ", "))
			}
		}
		if len(f) > 0 {
			slices.SortFunc(f, func(a, b apperr.FieldError) int { return strings.Compare(a.Field, b.Field) })
			httpx.WriteProblem(c, f.Err())
		}
	}
}

// malformedQuery names the parameters of a raw query that net/url drops without a word when it
// parses one (url.Values keeps the rest): a bad %-escape (?q=%E8%9C%9C%2 would list the whole
// catalogue as if it were the search) and a semicolon, which Go no longer takes as a separator.
func malformedQuery(raw string) apperr.Fields {
	var f apperr.Fields
	for _, part := range strings.Split(raw, "&") {
		key, value, _ := strings.Cut(part, "=")
		name, err := url.QueryUnescape(key)
		if err != nil {
			name = key
		}
		switch {
		case strings.Contains(part, ";"):
			f.Add(name, "holds a semicolon: separate parameters with & and write a semicolon in a value as %%3B")
		case err != nil:
			f.Add(name, "is a parameter name with a malformed %%-escape: write %% as %%25, and other bytes as %%XX")
		default:
			if _, err := url.QueryUnescape(value); err != nil {
				f.Add(name, "holds a malformed %%-escape: write %% as %%25, and other bytes as %%XX (UTF-8)")
			}
		}
	}
	return f
}
