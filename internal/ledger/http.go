package ledger

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// HouseholdScope decides whether a caller may see a household (the household package implements
// it): nil if so, apperr.NotFound otherwise, so that a household outside the caller's villages is
// indistinguishable from one that does not exist.
type HouseholdScope interface {
	CheckVisible(ctx context.Context, p auth.Principal, householdID uuid.UUID) error
}

// Handler serves the ledger's read API.
type Handler struct {
	svc        *Service
	households HouseholdScope
}

// NewHandler builds the ledger handler.
func NewHandler(svc *Service, scope HouseholdScope) *Handler {
	return &Handler{svc: svc, households: scope}
}

// Register adds the ledger's routes: statements, payouts, the payout waiting list and delays
// (admins and station operators, scoped to their villages), and work records (stations).
func (h *Handler) Register(api gin.IRoutes) {
	both := auth.Require(auth.RoleAdmin, auth.RoleStation)
	api.GET("/api/v1/households/:id/ledger", both, h.householdLedger)
	api.POST("/api/v1/households/:id/payouts", auth.Require(auth.RoleAdmin), h.payout)
	api.GET("/api/v1/payouts/waiting", both, h.waiting)
	api.GET("/api/v1/payouts/delays", both, h.delays)
	api.POST("/api/v1/work-records", both, h.recordWork)
	api.POST("/api/v1/dividends", both, h.recordDividend)
}

// StatementResponse is a household's income statement as the API shows it. Money is in fen
// (`*_fen`, integers) with a formatted copy for people (`*_yuan`, "¥12.30"). Lines are the newest
// 500 postings, newest first; truncated says there are more (postings counts them all).
type StatementResponse struct {
	HouseholdID  uuid.UUID      `json:"household_id"`
	IncomeFen    int64          `json:"income_fen"`
	IncomeYuan   string         `json:"income_yuan"`
	WageFen      int64          `json:"wage_income_fen"`
	WageYuan     string         `json:"wage_income_yuan"`
	PropertyFen  int64          `json:"property_income_fen"`
	PropertyYuan string         `json:"property_income_yuan"`
	OwedFen      int64          `json:"owed_fen"`
	OwedYuan     string         `json:"owed_yuan"`
	Entries      int            `json:"entries"`
	Postings     int            `json:"postings"`
	Truncated    bool           `json:"truncated"`
	Lines        []LineResponse `json:"lines"`
}

// LineResponse is one posting to the household's income: amount_fen is positive for income and
// negative when a reversal takes it back. Order and product fields are null or empty for postings
// not tied to an order line.
type LineResponse struct {
	EntryID     uuid.UUID  `json:"entry_id"`
	Kind        string     `json:"kind"`
	OccurredAt  time.Time  `json:"occurred_at"`
	OrderID     *uuid.UUID `json:"order_id"`
	OrderLineID *uuid.UUID `json:"order_line_id"`
	ProductID   *uuid.UUID `json:"product_id"`
	ProductName string     `json:"product_name"`
	Quantity    int        `json:"quantity"`
	AmountFen   int64      `json:"amount_fen"`
	AmountYuan  string     `json:"amount_yuan"`
}

// ToStatementResponse converts a Statement for output.
func ToStatementResponse(st Statement) StatementResponse {
	r := StatementResponse{HouseholdID: st.HouseholdID, IncomeFen: int64(st.IncomeFen), IncomeYuan: st.IncomeFen.String(),
		WageFen: int64(st.WageIncomeFen), WageYuan: st.WageIncomeFen.String(),
		PropertyFen: int64(st.PropertyIncomeFen), PropertyYuan: st.PropertyIncomeFen.String(), OwedFen: int64(st.OwedFen), OwedYuan: st.OwedFen.String(),
		Entries: st.Entries, Postings: st.Postings, Truncated: st.Truncated, Lines: make([]LineResponse, len(st.Lines))}
	for i, l := range st.Lines {
		r.Lines[i] = LineResponse{EntryID: l.EntryID, Kind: l.Kind, OccurredAt: l.OccurredAt, OrderID: l.OrderID,
			OrderLineID: l.OrderLineID, ProductID: l.ProductID, ProductName: l.ProductName, Quantity: l.Quantity,
			AmountFen: int64(l.AmountFen), AmountYuan: l.AmountFen.String()}
	}
	return r
}

func (h *Handler) householdLedger(c *gin.Context) {
	id, err := text.UUID(c.Param("id"))
	if err != nil {
		httpx.Fail(c, httpx.BadParam("id", "a household id (UUID)"))
		return
	}
	if err := h.households.CheckVisible(c.Request.Context(), auth.MustFrom(c), id); err != nil {
		httpx.Fail(c, err)
		return
	}
	st, err := h.svc.HouseholdIncome(c.Request.Context(), id)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, ToStatementResponse(st))
}
