package ledger

import (
	"bytes"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

// VerifyReport is the answer of GET /api/v1/ledger/verify: Verify's count and its report's lines.
type VerifyReport struct {
	Mismatches int       `json:"mismatches"` // 0: the ledger is consistent
	Lines      []string  `json:"lines"`
	CheckedAt  time.Time `json:"checked_at"`
}

// VerifyHandler lets the county office run `fupin verify` from the console: the routine run
// (VerifyRoutine, from the newest checkpoint), or with ?full=true the full one (Verify). Both write a
// checkpoint when they find no mismatch.
type VerifyHandler struct{ db *gorm.DB }

// NewVerifyHandler builds the handler over the database Verify reads.
func NewVerifyHandler(db *gorm.DB) *VerifyHandler { return &VerifyHandler{db: db} }

// Register adds GET /api/v1/ledger/verify[?full=true] (admin).
func (h *VerifyHandler) Register(api gin.IRoutes) {
	api.GET("/api/v1/ledger/verify", auth.Require(auth.RoleAdmin), h.verify)
}

func (h *VerifyHandler) verify(c *gin.Context) {
	check := VerifyRoutine
	switch c.Query("full") {
	case "", "false":
	case "true":
		check = Verify
	default:
		httpx.Fail(c, httpx.BadParam("full", "true or false"))
		return
	}
	var buf bytes.Buffer
	n, err := check(c.Request.Context(), h.db, &buf)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	c.JSON(http.StatusOK, VerifyReport{Mismatches: n, Lines: lines, CheckedAt: time.Now().UTC()})
}
