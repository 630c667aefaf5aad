package household

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
	"github.com/fupinmarket/fupin/internal/platform/pii"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// View is a household as every response shows it: personal data masked.
type View struct {
	ID          uuid.UUID `json:"id"`
	ArchiveNo   string    `json:"archive_no"`
	HeadName    string    `json:"head_name"` // masked: 张*三
	IDNumber    string    `json:"id_number"` // masked: 433124********1234
	Phone       string    `json:"phone"`     // masked: 138****1234, or ""
	VillageCode string    `json:"village_code"`
	CountyCode  string    `json:"county_code"`
	Members     int       `json:"members"`
	Status      Status    `json:"status"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ToView masks a household for output.
func ToView(h Household) View {
	v := View{ID: h.ID, ArchiveNo: h.ArchiveNo, HeadName: pii.MaskName(h.HeadName), IDNumber: pii.MaskIDNumber(h.IDNumber),
		VillageCode: h.VillageCode, CountyCode: h.CountyCode, Members: h.Members, Status: h.Status,
		CreatedAt: h.CreatedAt, UpdatedAt: h.UpdatedAt}
	if h.Phone != "" {
		v.Phone = pii.MaskPhone(h.Phone)
	}
	return v
}

// Handler serves /api/v1/households.
type Handler struct{ svc *Service }

// NewHandler builds the household handler.
func NewHandler(svc *Service) *Handler { return &Handler{svc: svc} }

// Register adds the household routes; admins and station operators only, scoped in the queries.
func (h *Handler) Register(api gin.IRoutes) {
	staff := auth.Require(auth.RoleAdmin, auth.RoleStation)
	api.POST("/api/v1/households", staff, h.create)
	api.POST("/api/v1/households/import", staff, h.importFile)
	api.GET("/api/v1/households", staff, h.list)
	api.GET("/api/v1/households/:id", staff, h.get)
	api.PATCH("/api/v1/households/:id", staff, h.update)
	api.GET("/api/v1/households/:id/audit", staff, h.audit)
	api.GET("/api/v1/households/:id/history", staff, h.history)
	api.POST("/api/v1/cooperatives", staff, h.createCooperative)
	api.GET("/api/v1/cooperatives/:id", staff, h.getCooperative)
	api.GET("/api/v1/audit", auth.Require(auth.RoleAdmin), h.auditLog)
}

func (h *Handler) create(c *gin.Context) {
	var req NewHousehold
	if err := httpx.Bind(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	hh, err := h.svc.Register(c.Request.Context(), auth.MustFrom(c), req)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/households/"+hh.ID.String())
	httpx.Created(c, ToView(hh))
}

func (h *Handler) list(c *gin.Context) {
	f := ListFilter{VillageCode: c.Query("village_code"), Status: Status(c.Query("status"))}
	if n := len(f.VillageCode); n > 0 && (n > 12 || strings.Trim(f.VillageCode, "0123456789") != "") {
		httpx.Fail(c, httpx.BadParam("village_code", "a region code (digits) or a prefix of one, such as 433124110"))
		return
	}
	if f.Status != "" && !f.Status.Valid() {
		httpx.Fail(c, httpx.BadParam("status", "one of poor, lifted, monitored_unstable, monitored_marginal, monitored_hardship"))
		return
	}
	if v := c.Query("after"); v != "" {
		id, err := text.UUID(v)
		if err != nil {
			httpx.Fail(c, httpx.BadParam("after", "the id of the last household of the previous page"))
			return
		}
		f.After = id
	}
	limit, ok := httpx.QueryInt(c, "limit", 1, 500)
	if !ok {
		return
	}
	f.Limit = limit
	list, err := h.svc.List(c.Request.Context(), auth.MustFrom(c), f)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	out := make([]View, len(list))
	for i, hh := range list {
		out[i] = ToView(hh)
	}
	c.JSON(http.StatusOK, gin.H{"households": out})
}

func (h *Handler) get(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	hh, err := h.svc.Get(c.Request.Context(), auth.MustFrom(c), id)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ToView(hh))
}

func (h *Handler) update(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	var p Patch
	if err := httpx.Bind(c, &p); err != nil {
		httpx.Fail(c, err)
		return
	}
	hh, err := h.svc.Update(c.Request.Context(), auth.MustFrom(c), id, p)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ToView(hh))
}

func (h *Handler) audit(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	entries, err := h.svc.Audit(c.Request.Context(), auth.MustFrom(c), id)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"audit": entries})
}

func (h *Handler) history(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	entries, err := h.svc.History(c.Request.Context(), auth.MustFrom(c), id)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"history": entries})
}

func (h *Handler) createCooperative(c *gin.Context) {
	var req NewCooperative
	if err := httpx.Bind(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	coop, err := h.svc.RegisterCooperative(c.Request.Context(), auth.MustFrom(c), req)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/cooperatives/"+coop.ID.String())
	httpx.Created(c, coop)
}

func (h *Handler) getCooperative(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	coop, err := h.svc.GetCooperative(c.Request.Context(), auth.MustFrom(c), id)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, coop)
}

// MaxImportBytes bounds an uploaded roster (a 100,000-row XLSX is about 6 MB); the app lifts the
// general body limit to this for the import route only.
const MaxImportBytes = 64 << 20

// importFile answers POST /api/v1/households/import: a multipart upload (field "file"), with
// skip_bad_rows=true to import the good rows of a file with bad ones and county=<6 digits> to
// narrow village names. 200 with the report when applied; 422 naming rows and columns (and the
// report under "report") when refused.
func (h *Handler) importFile(c *gin.Context) {
	var f apperr.Fields
	opts := ImportOptions{County: c.Query("county")}
	switch c.Query("skip_bad_rows") {
	case "", "false":
	case "true":
		opts.SkipBadRows = true
	default:
		f.Add("skip_bad_rows", "must be true or false")
	}
	if opts.County != "" && (len(opts.County) != 6 || !allDigits(opts.County)) {
		f.Add("county", "must be a 6-digit county code")
	}
	fh, err := c.FormFile("file")
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			httpx.Fail(c, err)
			return
		}
		f.Add("file", "upload the roster (XLSX or CSV) as multipart/form-data field \"file\"")
	}
	if err := f.Err(); err != nil {
		httpx.Fail(c, err)
		return
	}
	file, err := fh.Open()
	if err != nil {
		httpx.Fail(c, apperr.Invalid(apperr.Field("file", "cannot be read: %v", err)))
		return
	}
	defer file.Close()
	rep, err := h.svc.Import(c.Request.Context(), auth.MustFrom(c), file, opts)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, rep)
}
