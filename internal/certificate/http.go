package certificate

import (
	"bytes"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
	"github.com/fupinmarket/fupin/internal/web"
)

// Handler serves the certificates: stations issue and print them, anyone reads them by serial
// (the QR on the certificate opens /c/{serial}), the county office decides the coverage.
type Handler struct {
	svc     *Service
	pages   *web.Pages
	baseURL string
}

// NewHandler builds the handler; baseURL is PUBLIC_BASE_URL, which the printed QR holds.
func NewHandler(svc *Service, pages *web.Pages, baseURL string) *Handler {
	return &Handler{svc: svc, pages: pages, baseURL: strings.TrimRight(baseURL, "/")}
}

// Register adds the routes: public ones on public, the others on api (authenticated).
func (h *Handler) Register(public, api gin.IRoutes) {
	staff := auth.Require(auth.RoleAdmin, auth.RoleStation)
	api.POST("/api/v1/batches/:id/certificates", staff, h.issue)
	api.GET("/api/v1/batches/:id/certificates", staff, h.forBatch)
	api.GET("/api/v1/certificates/:serial/certificate.pdf", staff, h.pdf)
	api.GET("/api/v1/certificate-coverage", staff, h.coverage)
	api.PUT("/api/v1/certificate-coverage/:category", auth.Require(auth.RoleAdmin), h.decide)
	public.GET("/api/v1/certificates/:serial", h.publicJSON)
	public.GET(PagePath+":serial", h.page)
}

func (h *Handler) issue(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	var req IssueRequest
	if err := httpx.Bind(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	cert, err := h.svc.Issue(c.Request.Context(), auth.MustFrom(c), id, req)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/certificates/"+cert.Serial)
	httpx.Created(c, cert)
}

func (h *Handler) forBatch(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	list, err := h.svc.ForBatch(c.Request.Context(), auth.MustFrom(c), id)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, list)
}

func (h *Handler) pdf(c *gin.Context) {
	cert, err := h.svc.Staff(c.Request.Context(), auth.MustFrom(c), c.Param("serial"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	var buf bytes.Buffer // one small page: built whole, so that a font error is still a problem+json
	if err := h.svc.WritePDF(&buf, cert, h.baseURL+cert.URL); err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="certificate-`+cert.Serial+`.pdf"`)
	c.Data(http.StatusOK, "application/pdf", buf.Bytes())
}

func (h *Handler) coverage(c *gin.Context) {
	list, err := h.svc.Coverage(c.Request.Context())
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"categories": list})
}

func (h *Handler) decide(c *gin.Context) {
	var d Decision
	if err := httpx.Bind(c, &d); err != nil {
		httpx.Fail(c, err)
		return
	}
	cov, err := h.svc.Decide(c.Request.Context(), auth.MustFrom(c), c.Param("category"), d)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, cov)
}

func (h *Handler) publicJSON(c *gin.Context) {
	cert, err := h.svc.Public(c.Request.Context(), c.Param("serial"))
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, cert)
}

// page is the certificate's public page (what its QR opens): HTML for a phone, Chinese first.
// An unknown serial is a page too (404), since a person reads it.
func (h *Handler) page(c *gin.Context) {
	lang := web.LangOf(c.Request)
	cert, err := h.svc.Public(c.Request.Context(), c.Param("serial"))
	status := http.StatusOK
	switch {
	case apperr.Is(err, apperr.KindNotFound):
		status = http.StatusNotFound
	case err != nil:
		httpx.Fail(c, err)
		return
	}
	var buf bytes.Buffer
	type box struct {
		Text string
		On   bool
	}
	var commitments, bases []box
	for _, cm := range Commitments {
		commitments = append(commitments, box{cm.Text, slices.Contains(cert.Commitments, cm.Code)})
	}
	for _, b := range Bases {
		bases = append(bases, box{b.Text, slices.Contains(cert.Basis, b.Code)})
	}
	data := map[string]any{"Found": err == nil, "C": cert, "Commitments": commitments, "Bases": bases}
	if err := h.pages.Render(&buf, "certificate", lang, data); err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'") // as the scan page: no scripts, no requests
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}
