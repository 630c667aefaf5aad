package trace

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/fupinmarket/fupin/internal/web"
)

// The bodies of scans. A popular code is scanned thousands of times with the same cached view, and
// only its scan counts change from one scan to the next: the page is rendered and the JSON encoded
// once per cached value (View.rev), language and verdict, split where the counts go, and each scan
// writes the two halves around its own counts (html/template execution was 70 % of the page's
// CPU, encoding the view most of the twin's). The memo is bounded.

// memoKey names one remembered body: the JSON twin (lang "") or the page in a language, of one
// cached value (rev) with one verdict; display is the code as shown (the page of an unknown code
// shows what was typed).
type memoKey struct {
	lang    web.Lang
	verdict Verdict
	display string
	rev     string
}

// splitBody is a body without its scan counts: its pieces, the counts to go between each two
// (the page of a suspicious code shows its scan line twice, the page of an unknown code none).
type splitBody [][]byte

func (h *Handler) remembered(k memoKey) (splitBody, bool) {
	if k.rev == "" { // not from the cache: nothing identifies it
		return nil, false
	}
	return h.memo.get(k)
}

func (h *Handler) remember(k memoKey, b splitBody) {
	if k.rev == "" {
		return
	}
	size := 128 + len(k.display) + len(k.rev)
	for _, piece := range b {
		size += 24 + len(piece)
	}
	h.memo.put(k, b, size)
}

// viewJSON is the JSON of a view split where its scan counts (the last member) go.
func (h *Handler) viewJSON(v View) (splitBody, error) {
	k := memoKey{verdict: v.Verdict, rev: v.rev}
	if b, ok := h.remembered(k); ok {
		return b, nil
	}
	full := v
	full.Scans = ScanView{}
	b, err := json.Marshal(full)
	if err != nil {
		return nil, err
	}
	tail := append(append([]byte(`"scans":`), appendScans(nil, ScanView{})...), '}')
	if !bytes.HasSuffix(b, tail) {
		// Not the shape expected (View's last member is scans): encode it whole, unremembered.
		b, err := json.Marshal(v)
		return splitBody{b}, err // one piece: the counts are in it
	}
	body := splitBody{b[:len(b)-len(tail)+len(`"scans":`)], []byte("}")}
	h.remember(k, body)
	return body, nil
}

// appendScans appends the JSON of s, as encoding/json writes it (TestAppendScans).
func appendScans(b []byte, s ScanView) []byte {
	b = append(b, `{"count":`...)
	b = strconv.AppendInt(b, s.Count, 10)
	if s.FirstAt != nil {
		b = append(b, `,"first_at":"`...)
		b = s.FirstAt.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	b = append(b, `,"clients":`...)
	b = strconv.AppendInt(b, s.Clients, 10)
	return append(b, '}')
}

// scansPlaceholder stands for the scan line (the only text that changes from scan to scan of one
// view) in rendered pages; html/template leaves it as it is.
const scansPlaceholder = "@@FUPIN-SCANS@@"

// renderPage renders the scan page split where its scan line goes.
func (h *Handler) renderPage(lang web.Lang, v View) (splitBody, error) {
	k := memoKey{lang: lang, verdict: v.Verdict, display: v.CodeDisplay, rev: v.rev}
	if b, ok := h.remembered(k); ok {
		return b, nil
	}
	var buf bytes.Buffer
	if err := h.pages.Render(&buf, "scan", lang, map[string]any{"View": v, "ScansLine": scansPlaceholder}); err != nil {
		return nil, err
	}
	body := splitBody(bytes.Split(buf.Bytes(), []byte(scansPlaceholder)))
	h.remember(k, body)
	return body, nil
}

// bodies are the buffers scan bodies are assembled in: the response writer copies a body before
// Write returns, so one buffer serves scan after scan.
var bodies = sync.Pool{New: func() any { return new([]byte) }}

// writeBody writes status and body with counts between its pieces, as one Write (so that net/http
// sends a Content-Length, as for gin's c.Data).
func writeBody(c *gin.Context, status int, contentType string, body splitBody, counts []byte) {
	p := bodies.Get().(*[]byte)
	b := (*p)[:0]
	for i, piece := range body {
		if i > 0 {
			b = append(b, counts...)
		}
		b = append(b, piece...)
	}
	c.Data(status, contentType, b)
	*p = b
	bodies.Put(p)
}
