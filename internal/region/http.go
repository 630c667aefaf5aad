package region

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

// Handler serves the public region lookups.
type Handler struct{ store *Store }

// NewHandler returns a Handler reading from store.
func NewHandler(store *Store) *Handler { return &Handler{store: store} }

// Register adds GET /api/v1/regions/:code (public: divisions are published data).
func (h *Handler) Register(r gin.IRoutes) {
	r.GET("/api/v1/regions/:code", h.get)
}

// RegionResponse is one region in a response.
type RegionResponse struct {
	Code       string  `json:"code"`
	Name       string  `json:"name"`
	Level      int     `json:"level"`
	ParentCode *string `json:"parent_code"`
	// Set for a region with a beginning or an end (see Region).
	ValidFrom     *civil.Date `json:"valid_from,omitempty"`
	ValidTo       *civil.Date `json:"valid_to,omitempty"`
	SuccessorCode *string     `json:"successor_code,omitempty"`
}

// LookupResponse is the body of GET /api/v1/regions/:code: the region, its path from the province
// down to it (inclusive), its full name as people write it, and the regions directly under it.
type LookupResponse struct {
	Region   RegionResponse   `json:"region"`
	Path     []RegionResponse `json:"path"`
	FullName string           `json:"full_name"`
	Children []RegionResponse `json:"children"`
}

// ToResponse converts a stored region to its response shape.
func ToResponse(r Region) RegionResponse {
	return RegionResponse{Code: r.Code, Name: r.Name, Level: r.Level, ParentCode: r.ParentCode,
		ValidFrom: r.ValidFrom, ValidTo: r.ValidTo, SuccessorCode: r.SuccessorCode}
}

func toResponses(rs []Region) []RegionResponse {
	out := make([]RegionResponse, len(rs))
	for i, r := range rs {
		out[i] = ToResponse(r)
	}
	return out
}

func (h *Handler) get(c *gin.Context) {
	code := c.Param("code")
	if !ValidCode(code) {
		httpx.Fail(c, apperr.Invalid(apperr.Field("code", "must be 2, 4, 6, 9 or 12 digits")))
		return
	}
	path, err := h.store.Path(c.Request.Context(), code)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	children, err := h.store.Children(c.Request.Context(), code)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, LookupResponse{
		Region:   ToResponse(path[len(path)-1]),
		Path:     toResponses(path),
		FullName: FullName(path),
		Children: toResponses(children),
	})
}

// MergeHandler serves POST /api/v1/regions/merges (the county office).
type MergeHandler struct{ m *Merger }

// NewMergeHandler returns a MergeHandler over m.
func NewMergeHandler(m *Merger) *MergeHandler { return &MergeHandler{m: m} }

// MergeResponse is the body of a merge's 201: Merge with the successor in its response shape.
type MergeResponse struct {
	ID              string         `json:"id"`
	Successor       RegionResponse `json:"successor"`
	Created         bool           `json:"created"`
	MergedCodes     []string       `json:"merged_codes"`
	EffectiveOn     string         `json:"effective_on"`
	HouseholdsMoved int            `json:"households_moved"`
}

// Register adds POST /api/v1/regions/merges behind authentication (api), for admins only.
func (h *MergeHandler) Register(api gin.IRoutes) {
	api.POST("/api/v1/regions/merges", auth.Require(auth.RoleAdmin), h.merge)
}

func (h *MergeHandler) merge(c *gin.Context) {
	var req MergeRequest
	if err := httpx.Bind(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	m, err := h.m.Merge(c.Request.Context(), auth.MustFrom(c), req)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	httpx.Created(c, MergeResponse{ID: m.ID.String(), Successor: ToResponse(m.Successor), Created: m.Created,
		MergedCodes: m.MergedCodes, EffectiveOn: m.EffectiveOn, HouseholdsMoved: m.HouseholdsMoved})
}
