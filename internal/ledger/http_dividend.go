package ledger

import (
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
	"github.com/fupinmarket/fupin/internal/platform/idempotency"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// DividendBody records a dividend (财产性收入) paid to a household: payer_kind cooperative or
// collective, payer_name, paid_on YYYY-MM-DD (an open month, not the future), amount_fen > 0.
type DividendBody struct {
	HouseholdID uuid.UUID  `json:"household_id"`
	PayerKind   string     `json:"payer_kind"`
	PayerName   string     `json:"payer_name"`
	PaidOn      civil.Date `json:"paid_on"`
	AmountFen   int64      `json:"amount_fen"`
}

// DividendResponse is a recorded dividend and the entry that posted it.
type DividendResponse struct {
	ID          uuid.UUID  `json:"id"`
	HouseholdID uuid.UUID  `json:"household_id"`
	PayerKind   string     `json:"payer_kind"`
	PayerName   string     `json:"payer_name"`
	PaidOn      civil.Date `json:"paid_on"`
	AmountFen   int64      `json:"amount_fen"`
	AmountYuan  string     `json:"amount_yuan"`
	EntryID     uuid.UUID  `json:"entry_id"`
}

// recordDividend: the county office for any household, a station for its villages' households.
func (h *Handler) recordDividend(c *gin.Context) {
	key, err := idempotency.Key(c.Request.Header)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	var body DividendBody
	if err := httpx.Bind(c, &body); err != nil {
		httpx.Fail(c, err)
		return
	}
	p := auth.MustFrom(c)
	var station uuid.UUID
	if p.Role == auth.RoleStation {
		station = p.StationID
	}
	d, err := h.svc.RecordDividend(c.Request.Context(), DividendRequest{StationID: station, HouseholdID: body.HouseholdID,
		PayerKind: body.PayerKind, PayerName: body.PayerName, PaidOn: body.PaidOn, Amount: money.Money(body.AmountFen),
		Key: key, RecordedBy: p.UserID})
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	resp := DividendResponse{ID: d.ID, HouseholdID: d.HouseholdID, PayerKind: d.PayerKind, PayerName: d.PayerName,
		PaidOn: d.PaidOn, AmountFen: int64(d.Amount), AmountYuan: d.Amount.String(), EntryID: d.EntryID}
	httpx.CreatedOrReplayed(c, resp, d.Replayed)
}
