package trace

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/skip2/go-qrcode"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
	"github.com/fupinmarket/fupin/internal/web"
)

// Handler serves batches, codes, QR images and the public scan.
type Handler struct {
	svc     *Service
	pages   *web.Pages
	baseURL string
	scans   ScanCounter
}

// ScanCounter counts scans by verdict (a Prometheus counter in production).
type ScanCounter interface{ Inc(verdict string) }

// NewHandler builds the trace handler; baseURL is PUBLIC_BASE_URL, printed into QR codes.
func NewHandler(svc *Service, pages *web.Pages, baseURL string, scans ScanCounter) *Handler {
	return &Handler{svc: svc, pages: pages, baseURL: baseURL, scans: scans}
}

// ScanURL is what a code's QR symbol holds: an ASCII URL only, so that it stays at a low QR
// version and every scanner decodes it alike.
func (h *Handler) ScanURL(code string) string { return h.baseURL + "/t/" + code }

// Register adds the routes: staff manage batches and codes; anyone scans.
func (h *Handler) Register(public, api gin.IRoutes) {
	staff := auth.Require(auth.RoleAdmin, auth.RoleStation)
	api.POST("/api/v1/products/:id/batches", staff, h.createBatch)
	api.GET("/api/v1/products/:id/batches", staff, h.listBatches)
	api.POST("/api/v1/batches/:id/codes", staff, h.issue)
	api.GET("/api/v1/batches/:id/codes", staff, h.listCodes)
	public.GET("/api/v1/codes/:code/qr.png", h.qr)
	public.GET("/api/v1/trace/:code", h.traceJSON)
	public.GET("/t/:code", h.page)
}

func (h *Handler) createBatch(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	var req NewBatch
	if err := httpx.Bind(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	b, err := h.svc.CreateBatch(c.Request.Context(), auth.MustFrom(c), id, req)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	httpx.Created(c, b)
}

func (h *Handler) listBatches(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	list, err := h.svc.Batches(c.Request.Context(), auth.MustFrom(c), id)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"batches": list})
}

type issueRequest struct {
	Count int `json:"count"`
}

type issuedCode struct {
	Code    string `json:"code"`
	Display string `json:"display"`
	URL     string `json:"url"`
}

func (h *Handler) issue(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	var req issueRequest
	if err := httpx.Bind(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	codes, err := h.svc.IssueCodes(c.Request.Context(), auth.MustFrom(c), id, req.Count)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	out := make([]issuedCode, len(codes))
	for i, code := range codes {
		out[i] = issuedCode{Code: code, Display: FormatCode(code), URL: h.ScanURL(code)}
	}
	httpx.Created(c, gin.H{"batch_id": id, "count": len(out), "codes": out})
}

func (h *Handler) listCodes(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	limit, ok := httpx.QueryInt(c, "limit", 1, 1000)
	if !ok {
		return
	}
	rows, err := h.svc.Codes(c.Request.Context(), auth.MustFrom(c), id, c.Query("after"), limit)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"codes": rows})
}

func codeParam(c *gin.Context) (string, bool) {
	code, ok := ParseCode(c.Param("code"))
	if !ok {
		httpx.Fail(c, apperr.Invalid(apperr.Field("code", "is not a traceability code: 14 characters of 0-9 and A-Z without I, L, O, U, with a valid check character")))
	}
	return code, ok
}

// QR sizes in pixels. The symbol is scaled by whole pixels per module with a 4-module quiet zone.
const (
	defaultQRSize = 256
	minQRSize     = 64
	maxQRSize     = 2048
)

func (h *Handler) qr(c *gin.Context) {
	code, ok := codeParam(c)
	if !ok {
		return
	}
	size, ok := httpx.QueryInt(c, "size", minQRSize, maxQRSize)
	if !ok {
		return
	}
	if size == 0 {
		size = defaultQRSize
	}
	img, err := qrPNG(h.ScanURL(code), size)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=86400, immutable")
	c.Data(http.StatusOK, "image/png", img)
}

func (h *Handler) traceJSON(c *gin.Context) {
	code, ok := codeParam(c)
	if !ok {
		return
	}
	v, err := h.svc.Scan(c.Request.Context(), code)
	h.count(verdictOf(v, err))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, v)
}

// verdictOf is the verdict of a scan, or "" when the scan failed for another reason than an
// unknown code (a database outage must never tell a buyer that a genuine item is fake).
func verdictOf(v View, err error) Verdict {
	switch {
	case apperr.Is(err, apperr.KindNotFound):
		return VerdictUnknown
	case err != nil:
		return ""
	}
	return v.Verdict
}

// page renders the scan page. Unknown and malformed codes get the "not a genuine code" page with
// status 404; a database outage gets a problem (503), never a false "counterfeit" verdict.
func (h *Handler) page(c *gin.Context) { h.render(c, c.Param("code")) }

// UnknownPage answers paths under /t/ that the router cannot match (a code with slashes in it)
// with the same "not a genuine code" page, since a phone shows it to a person.
func (h *Handler) UnknownPage(c *gin.Context) {
	h.render(c, strings.TrimPrefix(c.Request.URL.Path, "/t/"))
}

func (h *Handler) render(c *gin.Context, raw string) {
	lang := web.LangOf(c.Request)
	code, ok := ParseCode(raw)
	var v View
	var err error
	if ok {
		v, err = h.svc.Scan(c.Request.Context(), code)
	} else {
		v, err = View{CodeDisplay: raw, Verdict: VerdictUnknown}, apperr.NotFound("traceability code")
	}
	verdict := verdictOf(v, err)
	h.count(verdict)
	if verdict == "" {
		httpx.Fail(c, err)
		return
	}
	if r := []rune(v.CodeDisplay); len(r) > 40 {
		v.CodeDisplay = string(r[:40]) + "…"
	}
	status := http.StatusOK
	if verdict == VerdictUnknown {
		status = http.StatusNotFound
		v.Verdict = VerdictUnknown
	}
	first := ""
	if v.Scans.FirstAt != nil {
		first = v.Scans.FirstAt.In(web.Shanghai()).Format("2006-01-02 15:04")
	}
	var buf bytes.Buffer
	data := map[string]any{"View": v, "ScansLine": fmt.Sprintf(web.Text(lang, "scans_line"), v.Scans.Count, first)}
	if err := h.pages.Render(&buf, "scan", lang, data); err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

func (h *Handler) count(v Verdict) {
	if v == "" {
		v = "error"
	}
	h.scans.Inc(string(v))
}

// minPixelsPerModule keeps modules large enough for phone decoders: at fractional or single-pixel
// modules some (ZXing, used by many Android scanners) fail.
const minPixelsPerModule = 2

// qrPNG draws url as a QR symbol (ISO/IEC 18004, error correction M, 4-module quiet zone) of
// exactly size×size pixels, with a whole number of pixels per module, centred on white.
// Errors: Invalid naming `size` when size cannot give minPixelsPerModule.
func qrPNG(url string, size int) ([]byte, error) {
	q, err := qrcode.New(url, qrcode.Medium)
	if err != nil {
		return nil, err
	}
	modules := len(q.Bitmap()) // includes the quiet zone
	ppm := size / modules
	if ppm < minPixelsPerModule {
		return nil, apperr.Invalid(apperr.Field("size", "must be at least %d pixels for this code (%d modules × %d pixels)",
			modules*minPixelsPerModule, modules, minPixelsPerModule))
	}
	sym := q.Image(-ppm)
	canvas := image.NewGray(image.Rect(0, 0, size, size))
	draw.Draw(canvas, canvas.Bounds(), image.White, image.Point{}, draw.Src)
	off := (size - sym.Bounds().Dx()) / 2
	draw.Draw(canvas, sym.Bounds().Add(image.Pt(off, off)), sym, image.Point{}, draw.Src)
	var buf bytes.Buffer
	if err := png.Encode(&buf, canvas); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
