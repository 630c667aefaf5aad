// Package web renders the pages people see: the scan page that opens when a phone reads a label.
// Server-rendered html/template (so every station-entered text is escaped), Chinese first with
// English by Accept-Language or ?lang=en, inline CSS and no external requests.
package web

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/text/language"

	"github.com/fupinmarket/fupin/internal/platform/civil"
)

//go:embed templates/*.html
var files embed.FS

// Pages holds the parsed templates.
type Pages struct{ t *template.Template }

// New parses the embedded templates.
func New() *Pages {
	funcs := template.FuncMap{
		"cst":  func(t time.Time) string { return t.In(civil.China).Format("2006-01-02 15:04") },
		"day":  func(t time.Time) string { return t.In(civil.China).Format("2006-01-02") },
		"pct":  percent,
		"enum": Enum,
	}
	return &Pages{t: template.Must(template.New("").Funcs(funcs).ParseFS(files, "templates/*.html"))}
}

// percent formats basis points as a percentage without trailing zeros: 3334 → "33.34%", 5000 → "50%".
func percent(bp int32) string {
	s := strings.TrimRight(fmt.Sprintf("%d.%02d", bp/100, bp%100), "0")
	return strings.TrimSuffix(s, ".") + "%"
}

// Lang is a page language: "zh" (default) or "en".
type Lang string

var matcher = language.NewMatcher([]language.Tag{language.Chinese, language.English})

// LangOf picks the page language: ?lang= wins, then Accept-Language, then Chinese.
func LangOf(r *http.Request) Lang {
	if r.URL.RawQuery != "" { // no query (every scan of a label): nothing to parse
		switch r.URL.Query().Get("lang") {
		case "en":
			return "en"
		case "zh":
			return "zh"
		}
	}
	return langOfHeader(r.Header.Get("Accept-Language"))
}

// langOfHeader is the language an Accept-Language header picks. Parsing and matching it cost a
// scan of the page several microseconds and a dozen allocations, and phones send few distinct
// headers ("zh-CN,zh;q=0.9", "en-US,en;q=0.9,zh-CN;q=0.8" …), so answers are remembered per
// header, up to langMemoMax of them (then the memo starts over: a client sending made-up headers
// costs itself the parse, never memory).
func langOfHeader(h string) Lang {
	if h == "" {
		return "zh"
	}
	if l, ok := langMemo.Load(h); ok {
		return l.(Lang)
	}
	l := Lang("zh")
	tags, _, _ := language.ParseAcceptLanguage(h)
	if _, i, _ := matcher.Match(tags...); i == 1 && len(tags) > 0 {
		l = "en"
	}
	if len(h) <= 256 { // a longer header is not one a phone sends
		if langMemoSize.Add(1) > langMemoMax {
			langMemo.Clear()
			langMemoSize.Store(1)
		}
		langMemo.Store(h, l)
	}
	return l
}

const langMemoMax = 1024

var (
	langMemo     sync.Map // Accept-Language → Lang
	langMemoSize atomic.Int64
)

// Render writes template name with data and the page language's strings as .T.
func (p *Pages) Render(w io.Writer, name string, lang Lang, data any) error {
	return p.t.ExecuteTemplate(w, name, map[string]any{"T": texts[lang], "Lang": lang, "D": data})
}

// Text returns one page string in lang.
func Text(lang Lang, key string) string { return texts[lang][key] }
