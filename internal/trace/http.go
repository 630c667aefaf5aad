package trace

import (
	"fmt"
	"html"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
	"github.com/fupinmarket/fupin/internal/platform/idempotency"
	"github.com/fupinmarket/fupin/internal/platform/sheet"
	"github.com/fupinmarket/fupin/internal/platform/text"
	"github.com/fupinmarket/fupin/internal/web"
)

// Handler serves batches, codes, QR images and the public scan.
type Handler struct {
	svc      *Service
	pages    *web.Pages
	baseURL  string
	scans    ScanCounter
	limit    *limiter
	unknowns *logSampler               // request lines of 404 scans
	memo     *memo[memoKey, splitBody] // see viewJSON and renderPage
}

// ScanCounter counts scans by verdict (a Prometheus counter in production).
type ScanCounter interface{ Inc(verdict string) }

// NewHandler builds the trace handler; baseURL is PUBLIC_BASE_URL, printed into QR codes.
func NewHandler(svc *Service, pages *web.Pages, baseURL string, scans ScanCounter) *Handler {
	return &Handler{svc: svc, pages: pages, baseURL: baseURL, scans: scans,
		limit: newLimiter(svc.cfg.Settings), unknowns: newLogSampler(svc.log), memo: newMemo[memoKey, splitBody](svc.cfg.ScanMemoBytes)}
}

// ScanURL is what a code's QR symbol holds: an ASCII URL only, so that it stays at a low QR
// version and every scanner decodes it alike.
func (h *Handler) ScanURL(code string) string { return h.baseURL + "/t/" + code }

// ScanRoutes are the public routes a phone reaches by reading a label: the JSON twin, the scan
// page, and the GS1 Digital Link form of the page.
var ScanRoutes = []string{"/api/v1/trace/:code", "/t/:code", "/01/:gtin/10/:batch/21/:serial"}

// Register adds the routes: staff manage batches and codes; anyone scans.
func (h *Handler) Register(public, api gin.IRoutes) {
	staff := auth.Require(auth.RoleAdmin, auth.RoleStation)
	api.POST("/api/v1/products/:id/batches", staff, h.createBatch)
	api.GET("/api/v1/products/:id/batches", staff, h.listBatches)
	api.POST("/api/v1/batches/:id/codes", staff, h.issue)
	api.GET("/api/v1/batches/:id/codes", staff, h.listCodes)
	api.POST("/api/v1/codes/:code/activate", staff, h.activate)
	api.POST("/api/v1/codes/:code/void", staff, h.void)
	api.POST("/api/v1/batches/:id/recall", staff, h.recall)
	api.POST("/api/v1/trace-events/:id/error-declaration", staff, h.declareError)
	api.GET("/api/v1/batches/:id/labels.pdf", staff, h.labelsPDF)
	api.GET("/api/v1/batches/:id/labels.zip", staff, h.labelsZIP)
	api.GET("/api/v1/issuances/:id", staff, h.getIssuance)
	api.GET("/api/v1/issuances/:id/codes.csv", staff, h.issuanceCSV)
	limited := h.limit.middleware(h.pages, false, "code")
	limitedPage := h.limit.middleware(h.pages, true, "code")
	limitedLink := h.limit.middleware(h.pages, true, "serial")
	public.GET("/api/v1/codes/:code/qr.png", limited, h.qr)
	public.GET(ScanRoutes[0], limited, h.traceJSON)
	public.GET(ScanRoutes[1], limitedPage, h.page)
	public.GET(ScanRoutes[2], limitedLink, h.digitalLink)
	public.HEAD(ScanRoutes[0], limited, h.headJSON)
	public.HEAD(ScanRoutes[1], limitedPage, h.headPage)
	public.HEAD(ScanRoutes[2], limitedLink, h.headDigitalLink)
	api.PUT("/api/v1/products/:id/gtin", staff, h.setGTIN)
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

// issuanceDoc is an issuance job as the API shows it, with where to fetch its codes.
type issuanceDoc struct {
	Issuance
	CodesURL  string       `json:"codes_url"`
	StatusURL string       `json:"status_url"`
	Codes     []issuedCode `json:"codes,omitempty"`
}

func (h *Handler) issuanceDoc(job Issuance, codes []string) issuanceDoc {
	d := issuanceDoc{Issuance: job, StatusURL: "/api/v1/issuances/" + job.ID.String(),
		CodesURL: "/api/v1/issuances/" + job.ID.String() + "/codes.csv"}
	if codes != nil {
		d.Codes = make([]issuedCode, len(codes))
		for i, code := range codes {
			d.Codes[i] = issuedCode{Code: code, Display: FormatCode(code), URL: h.ScanURL(code)}
		}
	}
	return d
}

// issue records an issuance. Small ones (ISSUE_SYNC_MAX) run at once: 201 with the codes. Larger
// ones run in the background: 202 with the job, Location its status. The same Idempotency-Key
// replays the first answer (the codes, once done, or the job).
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
	key, err := idempotency.OptionalKey(c.Request.Header)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	p := auth.MustFrom(c)
	job, replayed, err := h.svc.RequestIssue(ctx, p, id, req.Count, key)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	sync := job.Count <= h.svc.cfg.IssueSyncMax
	var codes []string
	switch {
	case replayed && job.Status == IssuanceDone && sync:
		codes, err = h.svc.JobCodes(ctx, job)
	case !replayed && job.Status == IssuanceRunning: // claimed for this request: see RequestIssue
		codes, err = h.svc.runClaimed(ctx, job, true)
		job, codes, err = h.svc.afterSyncRun(ctx, p, job, codes, err)
	case !replayed:
		h.svc.StartIssue(job.ID)
	}
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	doc := h.issuanceDoc(job, codes)
	c.Header("Location", doc.StatusURL)
	if replayed {
		c.Header("Idempotency-Replayed", "true")
	}
	if job.Status == IssuanceDone {
		c.JSON(http.StatusCreated, gin.H{"batch_id": id, "count": job.Count, "codes": doc.Codes, "issuance": doc})
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"batch_id": id, "count": job.Count, "issuance": doc})
}

func (h *Handler) activate(c *gin.Context) {
	code, ok := codeParam(c)
	if !ok {
		return
	}
	st, err := h.svc.Activate(c.Request.Context(), auth.MustFrom(c), code)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

func (h *Handler) void(c *gin.Context) {
	code, ok := codeParam(c)
	if !ok {
		return
	}
	var req VoidRequest
	if err := httpx.Bind(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	st, err := h.svc.Void(c.Request.Context(), auth.MustFrom(c), code, req)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

func (h *Handler) recall(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	var req RecallRequest
	if err := httpx.Bind(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	res, err := h.svc.RecallBatch(c.Request.Context(), auth.MustFrom(c), id, req)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

type declareErrorRequest struct {
	Reason string `json:"reason"`
}

func (h *Handler) declareError(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	var req declareErrorRequest
	if err := httpx.Bind(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	ev, err := h.svc.DeclareError(c.Request.Context(), auth.MustFrom(c), id, req.Reason)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	httpx.Created(c, ev)
}

// labelQuery reads the label options from the query string: the layout (LabelSpec fields, in mm),
// ec, and issuance (print only that job's codes).
func labelQuery(c *gin.Context) (LabelSpec, *uuid.UUID, error) {
	sp := DefaultLabelSpec()
	var f apperr.Fields
	for name, dst := range map[string]*float64{"label_w": &sp.LabelW, "label_h": &sp.LabelH, "margin_left": &sp.MarginLeft,
		"margin_top": &sp.MarginTop, "gap_x": &sp.GapX, "gap_y": &sp.GapY} {
		if v := c.Query(name); v != "" {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
				f.Add(name, "must be a number of millimetres")
				continue
			}
			*dst = n
		}
	}
	for name, dst := range map[string]*int{"columns": &sp.Columns, "rows": &sp.Rows} {
		if v := c.Query(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				f.Add(name, "must be a whole number")
				continue
			}
			*dst = n
		}
	}
	if v := c.Query("ec"); v != "" {
		sp.EC = ECLevel(strings.ToUpper(v))
	}
	var job *uuid.UUID
	if v := c.Query("issuance"); v != "" {
		id, err := text.UUID(v)
		if err != nil {
			f.Add("issuance", "must be an issuance id (UUID)")
		} else {
			job = &id
		}
	}
	if err := f.Err(); err != nil {
		return sp, nil, err
	}
	return sp, job, sp.Validate()
}

// labelsPDF streams an A4 PDF of the batch's labels (all codes not void, or one issuance's).
func (h *Handler) labelsPDF(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	sp, job, err := labelQuery(c)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	h.streamLabels(c, id, job, "application/pdf", "pdf", func(w io.Writer, next func() (LabelItem, bool, error)) (int, error) {
		return WriteLabelsPDF(w, sp, h.svc.cfg.LabelFont, h.ScanURL, next, h.svc.log)
	})
}

// labelsZIP streams a ZIP of one PNG per code.
func (h *Handler) labelsZIP(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
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
	ec := ECLevel(strings.ToUpper(c.Query("ec")))
	if _, ok := ec.level(); !ok {
		httpx.Fail(c, apperr.Invalid(apperr.Field("ec", "must be M or Q")))
		return
	}
	var job *uuid.UUID
	if v := c.Query("issuance"); v != "" {
		jid, err := text.UUID(v)
		if err != nil {
			httpx.Fail(c, apperr.Invalid(apperr.Field("issuance", "must be an issuance id (UUID)")))
			return
		}
		job = &jid
	}
	h.streamLabels(c, id, job, "application/zip", "zip", func(w io.Writer, next func() (LabelItem, bool, error)) (int, error) {
		return WriteLabelsZIP(w, size, ec, h.ScanURL, next)
	})
}

// streamLabels writes labels as they are drawn. Errors before the first byte are problems; after
// it, the connection is closed without the final chunk (a broken download, never a short sheet).
func (h *Handler) streamLabels(c *gin.Context, batchID uuid.UUID, job *uuid.UUID, ctype, ext string,
	write func(io.Writer, func() (LabelItem, bool, error)) (int, error)) {
	w := &lazyWriter{c: c, ctype: ctype, name: fmt.Sprintf("labels-%s.%s", batchID, ext)}
	err := h.svc.LabelItems(c.Request.Context(), auth.MustFrom(c), batchID, job, func(next func() (LabelItem, bool, error)) error {
		_, err := write(w, next)
		return err
	})
	if err == nil {
		return
	}
	if !w.started {
		httpx.Fail(c, err)
		return
	}
	h.svc.log.Warn("labels cut short", "batch", batchID, "err", err)
	if conn, _, herr := c.Writer.Hijack(); herr == nil {
		_ = conn.Close()
	}
}

// lazyWriter sends the success headers with the first byte, so that errors found before any
// output (a bad layout, a missing font) are still problem responses.
type lazyWriter struct {
	c           *gin.Context
	ctype, name string
	started     bool
}

func (l *lazyWriter) Write(b []byte) (int, error) {
	if !l.started {
		l.started = true
		l.c.Header("Content-Type", l.ctype)
		l.c.Header("Content-Disposition", `attachment; filename="`+l.name+`"`)
		l.c.Status(http.StatusOK)
	}
	return l.c.Writer.Write(b)
}

func (h *Handler) getIssuance(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	job, err := h.svc.Issuance(c.Request.Context(), auth.MustFrom(c), id)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, h.issuanceDoc(job, nil))
}

// issuanceCSV streams a done job's codes as CSV (code, display, url), row by row from
// PostgreSQL: a million codes are about 60 MB of text and never sit in memory.
func (h *Handler) issuanceCSV(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	ctx := c.Request.Context()
	job, err := h.svc.Issuance(ctx, auth.MustFrom(c), id)
	if err == nil && job.Status != IssuanceDone {
		err = apperr.Conflict("the issuance is %s (%d of %d codes written): fetch its codes once it is done",
			job.Status, job.Progress, job.Count).With("current_status", job.Status)
	}
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="codes-%s.csv"`, job.ID))
	c.Status(http.StatusOK)
	// A feed for label printing software (sheet.DataCSV: fields as they are), not a clerk's sheet.
	w := sheet.NewDataCSV(c.Writer)
	_ = w.Row("code", "display", "url")
	err = h.svc.StreamJobCodes(ctx, job, func(code string) error {
		return w.Row(code, FormatCode(code), h.ScanURL(code))
	})
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		// The status is sent; close the connection without the final chunk, so that the client sees
		// a broken download rather than a list that merely looks short.
		h.svc.log.Warn("codes CSV cut short", "issuance", job.ID, "err", err)
		if conn, _, herr := c.Writer.Hijack(); herr == nil {
			_ = conn.Close()
		}
	}
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
	after := c.Query("after")
	if after != "" {
		// A keyset cursor that is no code would page from an arbitrary place (or return nothing).
		if after, ok = ParseCode(after); !ok {
			httpx.Fail(c, apperr.Invalid(apperr.Field("after", "is not a traceability code: send the last code of the previous page, as returned")))
			return
		}
	}
	rows, err := h.svc.Codes(c.Request.Context(), auth.MustFrom(c), id, after, limit)
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
	bitmap, err := QRBitmap(h.ScanURL(code), ECLevel(c.Query("ec")))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	png, err := QRPNG(bitmap, size)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=86400, immutable")
	c.Data(http.StatusOK, "image/png", png)
}

func (h *Handler) traceJSON(c *gin.Context) {
	code, ok := codeParam(c)
	if !ok {
		return
	}
	v, err := h.svc.ScanFrom(c.Request.Context(), code, ClientID(c.ClientIP()))
	verdict := verdictOf(v, err)
	h.count(verdict)
	h.sampleUnknown(c, verdict)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	head, err := h.viewJSON(v)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	writeBody(c, http.StatusOK, "application/json; charset=utf-8", head, appendScans(nil, v.Scans))
}

// headPage, headDigitalLink and headJSON answer HEAD on the scan page (both its URL forms) and
// its JSON twin with the status and headers GET would give (an issued code, void ones included:
// 200; otherwise the page's 404, or the twin's 422 and 404 problems), without counting a scan:
// link checkers and some link previewers ask HEAD, and must not inflate a code's scan count or
// its distinct clients. net/http sends no body for HEAD.
func (h *Handler) headPage(c *gin.Context) {
	code, ok := ParseCode(c.Param("code"))
	h.headOf(c, code, ok)
}

func (h *Handler) headDigitalLink(c *gin.Context) {
	code, ok, err := h.svc.DigitalLinkCode(c.Request.Context(), c.Param("gtin"), c.Param("batch"), c.Param("serial"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	h.headOf(c, code, ok)
}

// UnknownHead answers HEAD on paths under /t/ the router cannot match, as UnknownPage does GET.
func (h *Handler) UnknownHead(c *gin.Context) {
	if h.slashedCode(c) {
		return
	}
	h.headOf(c, "", false)
}

func (h *Handler) headOf(c *gin.Context, code string, ok bool) {
	status := http.StatusNotFound
	if ok {
		_, err := h.svc.Resolve(c.Request.Context(), code)
		switch {
		case err == nil:
			status = http.StatusOK
		case !apperr.Is(err, apperr.KindNotFound):
			httpx.Fail(c, err)
			return
		}
	}
	pageHeaders(c)
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	c.Writer.WriteHeaderNow() // or gin, answering an unmatched path, writes its own text/plain 404
}

func (h *Handler) headJSON(c *gin.Context) {
	code, ok := codeParam(c)
	if !ok {
		return
	}
	if _, err := h.svc.Resolve(c.Request.Context(), code); err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Type", "application/json; charset=utf-8")
	c.Status(http.StatusOK)
}

// pageHeaders are the headers of every scan page: never cached (the scan line changes), and a
// policy that lets the page load nothing but its own QR image.
func pageHeaders(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'")
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
func (h *Handler) page(c *gin.Context) {
	raw := c.Param("code")
	code, ok := ParseCode(raw)
	h.renderScan(c, raw, code, ok)
}

// UnknownPage answers paths under /t/ that the router cannot match (a "code" with slashes in
// it) with the same "not a genuine code" page, since a phone shows it to a person. A well-formed
// code with a slash after it (a chat app or a hand-typed link adds one) is sent to its own page,
// where the scan limits apply, rather than warned of as a fake.
func (h *Handler) UnknownPage(c *gin.Context) {
	if h.slashedCode(c) {
		return
	}
	h.renderScan(c, strings.TrimPrefix(c.Request.URL.Path, "/t/"), "", false)
}

// slashedCode redirects /t/{code}/ to /t/{code} (301: GET and HEAD carry no body to re-send) and
// says whether it did.
func (h *Handler) slashedCode(c *gin.Context) bool {
	raw := strings.TrimPrefix(c.Request.URL.Path, "/t/")
	trimmed := strings.TrimRight(raw, "/")
	if trimmed == raw || strings.Contains(trimmed, "/") {
		return false
	}
	code, ok := ParseCode(trimmed)
	if !ok {
		return false
	}
	c.Redirect(http.StatusMovedPermanently, "/t/"+code)
	return true
}

// digitalLink serves GS1 Digital Link paths /01/{gtin}/10/{batch}/21/{serial}: the same page as
// /t/{serial} when GTIN, batch and serial name one item; the "not genuine" page otherwise.
func (h *Handler) digitalLink(c *gin.Context) {
	code, ok, err := h.svc.DigitalLinkCode(c.Request.Context(), c.Param("gtin"), c.Param("batch"), c.Param("serial"))
	if err != nil {
		h.count("")
		httpx.Fail(c, err)
		return
	}
	h.renderScan(c, c.Param("serial"), code, ok)
}

type gtinRequest struct {
	GTIN string `json:"gtin"`
}

func (h *Handler) setGTIN(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	var req gtinRequest
	if err := httpx.Bind(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	g, err := h.svc.SetGTIN(c.Request.Context(), auth.MustFrom(c), id, req.GTIN)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"product_id": id, "gtin": g})
}

// renderScan renders the scan page for a code (ok false: malformed or not ours).
func (h *Handler) renderScan(c *gin.Context, raw, code string, ok bool) {
	lang := web.LangOf(c.Request)
	var v View
	var err error
	if ok {
		v, err = h.svc.ScanFrom(c.Request.Context(), code, ClientID(c.ClientIP()))
	} else {
		v, err = View{CodeDisplay: raw, Verdict: VerdictUnknown}, apperr.NotFound("traceability code")
	}
	verdict := verdictOf(v, err)
	h.count(verdict)
	h.sampleUnknown(c, verdict)
	if verdict == "" {
		httpx.Fail(c, err)
		return
	}
	// By characters: never cut one in half. Fewer than 41 bytes are fewer than 41 characters (a
	// code as displayed is 16): no conversion for them.
	if len(v.CodeDisplay) > 40 {
		if r := []rune(v.CodeDisplay); len(r) > 40 {
			v.CodeDisplay = string(r[:40]) + "…"
		}
	}
	status := http.StatusOK
	if verdict == VerdictUnknown {
		status = http.StatusNotFound
		v.Verdict = VerdictUnknown
	}
	first := ""
	if v.Scans.FirstAt != nil {
		first = v.Scans.FirstAt.In(civil.China).Format("2006-01-02 15:04")
	}
	line := html.EscapeString(fmt.Sprintf(web.Text(lang, "scans_line"), v.Scans.Count, first))
	page, err := h.renderPage(lang, v)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	pageHeaders(c)
	writeBody(c, status, "text/html; charset=utf-8", page, []byte(line))
}

func (h *Handler) count(v Verdict) {
	if v == "" {
		v = "error"
	}
	h.scans.Inc(string(v))
}

// sampleUnknown samples the request lines of scans of unknown codes (see logSampler).
func (h *Handler) sampleUnknown(c *gin.Context, v Verdict) {
	if v == VerdictUnknown && !h.unknowns.keep() {
		httpx.Unlogged(c)
	}
}
