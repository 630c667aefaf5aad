package catalog

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// Handler serves /api/v1/products.
type Handler struct{ svc *Service }

// NewHandler builds the catalog handler.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// Register adds the product routes. Stations list and change their own products; buyers read
// listed ones; admins everything.
func (h *Handler) Register(api gin.IRoutes) {
	staff := auth.Require(auth.RoleAdmin, auth.RoleStation)
	anyone := auth.Require(auth.RoleAdmin, auth.RoleStation, auth.RoleBuyer)
	api.POST("/api/v1/products", staff, h.create)
	api.GET("/api/v1/products", anyone, h.list)
	api.GET("/api/v1/products/:id", anyone, h.get)
	api.PATCH("/api/v1/products/:id", staff, h.update)
}

func (h *Handler) create(c *gin.Context) {
	var req NewProduct
	if err := httpx.Bind(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	p, err := h.svc.Create(c.Request.Context(), auth.MustFrom(c), req)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/products/"+p.ID.String())
	httpx.Created(c, p)
}

func (h *Handler) list(c *gin.Context) {
	f := ListFilter{Query: c.Query("q")}
	for name, dst := range map[string]*uuid.UUID{"station_id": &f.StationID, "after": &f.After} {
		if v := c.Query(name); v != "" {
			id, err := text.UUID(v)
			if err != nil {
				httpx.Fail(c, httpx.BadParam(name, "a UUID"))
				return
			}
			*dst = id
		}
	}
	limit, ok := httpx.QueryInt(c, "limit", 1, 200)
	if !ok {
		return
	}
	f.Limit = limit
	list, err := h.svc.List(c.Request.Context(), auth.MustFrom(c), f)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"products": list})
}

func (h *Handler) get(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	p, err := h.svc.Get(c.Request.Context(), auth.MustFrom(c), id)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

func (h *Handler) update(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	var patch Patch
	if err := httpx.Bind(c, &patch); err != nil {
		httpx.Fail(c, err)
		return
	}
	p, err := h.svc.Update(c.Request.Context(), auth.MustFrom(c), id, patch)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

// RegisterSearch adds GET /api/v1/catalog/products and the certification routes.
func (h *Handler) RegisterSearch(api gin.IRoutes) {
	anyone := auth.Require(auth.RoleAdmin, auth.RoleStation, auth.RoleBuyer)
	api.GET("/api/v1/catalog/products", anyone, h.search)
	api.POST("/api/v1/products/:id/certifications", auth.Require(auth.RoleAdmin), h.certify)
	api.GET("/api/v1/products/:id/certifications", anyone, h.certifications)
}

func (h *Handler) search(c *gin.Context) {
	page, err := h.svc.Search(c.Request.Context(), SearchRequest{Query: c.Query("q"), Category: c.Query("category"),
		Region: c.Query("region"), StationID: c.Query("station_id"), Certified: c.Query("certified"), InStock: c.Query("in_stock"),
		MinPrice: c.Query("min_price"), MaxPrice: c.Query("max_price"), Sort: c.Query("sort"), Cursor: c.Query("cursor"),
		Limit: c.Query("limit")})
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, page)
}

func (h *Handler) certify(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	var req CertificationRequest
	if err := httpx.Bind(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	out, err := h.svc.Certify(c.Request.Context(), auth.MustFrom(c), id, req)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	httpx.Created(c, out)
}

func (h *Handler) certifications(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	list, err := h.svc.Certifications(c.Request.Context(), auth.MustFrom(c), id)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"certifications": list})
}
