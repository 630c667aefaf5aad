package impact

import (
	"bytes"
	"embed"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/platform/text"
	"github.com/fupinmarket/fupin/internal/trace"
)

// Handler serves impact receipts: to buyers and the county office (JSON, PDF), to anyone on the
// public page (HTML, JSON twin), and the unit's annual report.
type Handler struct {
	svc      *Service
	base     string // PUBLIC_BASE_URL
	fontPath string // LABEL_FONT, for the PDFs
	log      *slog.Logger
}

// NewHandler serves svc; baseURL is PUBLIC_BASE_URL (receipts' public pages are
// {baseURL}/r/{receipt id}?digest={digest}), fontPath LABEL_FONT.
func NewHandler(svc *Service, baseURL, fontPath string, log *slog.Logger) *Handler {
	return &Handler{svc: svc, base: baseURL, fontPath: fontPath, log: log}
}

// PublicPath is the public page of a receipt, as the QR on its PDF opens it.
const PublicPath = "/r/"

// PublicURL is the public page of receipt i under baseURL (PUBLIC_BASE_URL), with its digest, so
// that the page checks it: what the QR on the receipt's PDF holds.
func PublicURL(baseURL string, i Issued) string {
	return baseURL + PublicPath + i.ID.String() + "?digest=" + i.Digest
}

// PublicURL is the public page of a receipt on this server.
func (h *Handler) PublicURL(i Issued) string { return PublicURL(h.base, i) }

// Register adds the routes: public ones on public (no login), the others on authed.
//
//	GET /api/v1/orders/:id/impact-receipt?format=json|pdf   (admin, buyer of the order's unit)
//	GET /api/v1/units/:id/impact-report?year=YYYY&format=json|pdf|xlsx   (admin, buyer of the unit)
//	GET /r/:id?digest=…                     public page (HTML)
//	GET /api/v1/impact-receipts/:id?digest=…   its JSON twin
func (h *Handler) Register(public, authed gin.IRoutes) {
	authed.GET("/api/v1/orders/:id/impact-receipt", auth.Require(auth.RoleAdmin, auth.RoleBuyer), h.orderReceipt)
	authed.GET("/api/v1/units/:id/impact-report", auth.Require(auth.RoleAdmin, auth.RoleBuyer), h.annualReport)
	public.GET(PublicPath+":id", h.publicPage)
	public.GET("/api/v1/impact-receipts/:id", h.publicJSON)
}

func (h *Handler) orderReceipt(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	format := c.DefaultQuery("format", "json")
	if format != "json" && format != "pdf" {
		httpx.Fail(c, apperr.Invalid(apperr.Field("format", "must be json or pdf")))
		return
	}
	i, err := h.svc.Current(c.Request.Context(), auth.MustFrom(c), id)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	if format == "json" {
		c.JSON(http.StatusOK, ToResponse(i, h.PublicURL(i)))
		return
	}
	r, err := i.Receipt()
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	h.pdf(c, "impact-receipt-"+i.OrderID.String()+"-v"+strconv.Itoa(i.Version)+".pdf", receiptDocument(r, i, h.PublicURL(i)))
}

func (h *Handler) publicJSON(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	i, err := h.svc.ByID(c.Request.Context(), id)
	if err == nil {
		err = CheckClaim(i, c.Query("digest"))
	}
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ToResponse(i, h.PublicURL(i)))
}

// pageData is what the public page shows.
type pageData struct {
	R            Receipt
	Digest       string
	Intact       bool
	Claimed      bool
	ClaimRefused bool
	SupersededBy string
	NextVersion  int
	NextURL      string
	JSONURL      string
}

func (h *Handler) publicPage(c *gin.Context) {
	// Phones open this from a QR: a damaged link gets a page, as an unknown receipt does.
	id, err := text.UUID(c.Param("id"))
	if err != nil {
		c.Data(http.StatusUnprocessableEntity, "text/html; charset=utf-8", []byte(brokenLinkPage))
		return
	}
	i, err := h.svc.ByID(c.Request.Context(), id)
	if apperr.Is(err, apperr.KindNotFound) {
		c.Data(http.StatusNotFound, "text/html; charset=utf-8", []byte(notFoundPage))
		return
	}
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	r, err := i.Receipt()
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	claim := c.Query("digest")
	status := http.StatusOK
	d := pageData{R: r, Digest: i.Digest, Intact: i.Intact(), Claimed: claim != "", SupersededBy: i.SupersededBy,
		JSONURL: "/api/v1/impact-receipts/" + i.ID.String()}
	if err := CheckClaim(i, claim); err != nil {
		d.ClaimRefused, status = true, http.StatusConflict
		if apperr.Is(err, apperr.KindInvalid) {
			status = http.StatusUnprocessableEntity
		}
	}
	if i.SupersededBy != "" {
		next, err := h.svc.Next(c.Request.Context(), i)
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		d.NextVersion, d.NextURL = next.Version, PublicPath+next.ID.String()+"?digest="+next.Digest
	}
	var b bytes.Buffer
	if err := receiptPage.Execute(&b, d); err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	// As the scan page: the page needs nothing but its inline style (no script, no outside request).
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	c.Data(status, "text/html; charset=utf-8", b.Bytes())
}

const pageHead = `<!doctype html><html lang="zh-CN"><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`

const notFoundPage = pageHead + `<title>查无此凭证</title><body style="font-family:system-ui,sans-serif;max-width:40em;margin:2em auto;padding:0 1em">` +
	`<h1>⚠ 查无此凭证</h1><p>No impact receipt has this id: check the link or QR code.</p></body></html>`

const brokenLinkPage = pageHead + `<title>链接不完整</title><body style="font-family:system-ui,sans-serif;max-width:40em;margin:2em auto;padding:0 1em">` +
	`<h1>⚠ 链接不完整</h1><p>凭证编号不对：请重新扫描凭证上的二维码。<br>The receipt id in this link is malformed: scan the QR code again.</p></body></html>`

//go:embed templates/receipt.html
var templates embed.FS

var receiptPage = template.Must(template.New("receipt.html").Funcs(template.FuncMap{
	"yuan":  func(fen int64) string { return money.Money(fen).String() },
	"china": chinaTime,
	"kind":  kindName,
}).ParseFS(templates, "templates/receipt.html"))

// chinaTime shows an RFC 3339 instant in China Standard Time, to the minute.
func chinaTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.In(civil.China).Format("2006-01-02 15:04")
}

func kindName(k string) string {
	switch k {
	case "sale":
		return "销售入账 sale"
	case "rebate":
		return "二次返利 rebate"
	case "refund":
		return "退款冲减 refund"
	}
	return k
}

func (h *Handler) pdf(c *gin.Context, filename string, doc trace.Document) {
	var b bytes.Buffer
	if err := trace.WriteDocumentPDF(&b, h.fontPath, doc, h.log); err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+filename+`"`)
	c.Data(http.StatusOK, "application/pdf", b.Bytes())
}
