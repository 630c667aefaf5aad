package ledger

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
	"github.com/fupinmarket/fupin/internal/platform/idempotency"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// PayoutBody is the request to record a transfer to a household: amount_fen (> 0, at most what is
// owed), reference (the bank's transfer reference, 1 to 64 characters; a retry with the same
// reference replays), paid_at (RFC 3339).
type PayoutBody struct {
	AmountFen int64      `json:"amount_fen"`
	Reference string     `json:"reference"`
	PaidAt    *time.Time `json:"paid_at"`
}

// PayoutResponse is a recorded payout with what is still owed after it.
type PayoutResponse struct {
	ID            uuid.UUID `json:"id"`
	HouseholdID   uuid.UUID `json:"household_id"`
	AmountFen     int64     `json:"amount_fen"`
	AmountYuan    string    `json:"amount_yuan"`
	Reference     string    `json:"reference"`
	EntryID       uuid.UUID `json:"entry_id"`
	PaidAt        time.Time `json:"paid_at"`
	OwedAfterFen  int64     `json:"owed_after_fen"`
	OwedAfterYuan string    `json:"owed_after_yuan"`
}

func (h *Handler) payout(c *gin.Context) {
	id, ok := httpx.PathUUID(c, "id")
	if !ok {
		return
	}
	var body PayoutBody
	if err := httpx.Bind(c, &body); err != nil {
		httpx.Fail(c, err)
		return
	}
	p := auth.MustFrom(c)
	if err := h.households.CheckVisible(c.Request.Context(), p, id); err != nil {
		httpx.Fail(c, err)
		return
	}
	req := PayoutRequest{HouseholdID: id, Amount: money.Money(body.AmountFen), Reference: body.Reference, CreatedBy: p.UserID}
	if body.PaidAt != nil {
		req.PaidAt = *body.PaidAt
	}
	po, err := h.svc.PayOut(c.Request.Context(), req)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	resp := PayoutResponse{ID: po.ID, HouseholdID: po.HouseholdID, AmountFen: int64(po.Amount), AmountYuan: po.Amount.String(),
		Reference: po.Reference, EntryID: po.EntryID, PaidAt: po.PaidAt, OwedAfterFen: int64(po.OwedAfter),
		OwedAfterYuan: po.OwedAfter.String()}
	httpx.CreatedOrReplayed(c, resp, po.Replayed)
}

// stationScope is nil for admins (every village) and the station's id for operators.
func stationScope(p auth.Principal) *uuid.UUID {
	if p.Role == auth.RoleStation {
		id := p.StationID
		return &id
	}
	return nil
}

// WaitingResponse lists households owed money for longer than `days` days at `as_of`.
type WaitingResponse struct {
	Days       int                `json:"days"`
	AsOf       time.Time          `json:"as_of"`
	Households []WaitingHousehold `json:"households"`
}

// WaitingHousehold is one household still waiting: owed_fen and since (the unit's payment behind
// the oldest fen not yet paid out, first in first out).
type WaitingHousehold struct {
	HouseholdID uuid.UUID `json:"household_id"`
	ArchiveNo   string    `json:"archive_no"`
	VillageCode string    `json:"village_code"`
	OwedFen     int64     `json:"owed_fen"`
	OwedYuan    string    `json:"owed_yuan"`
	Since       time.Time `json:"since"`
	WaitingDays int       `json:"waiting_days"`
}

// waiting answers GET /api/v1/payouts/waiting?days=N (default 30, 0..3650)&limit=L (1..1000, default 500).
func (h *Handler) waiting(c *gin.Context) {
	days, ok := httpx.QueryInt(c, "days", 0, 3650)
	if !ok {
		return
	}
	if c.Query("days") == "" {
		days = 30
	}
	limit, ok := httpx.QueryInt(c, "limit", 1, 1000)
	if !ok {
		return
	}
	if limit == 0 {
		limit = 500
	}
	now := time.Now().UTC()
	ws, err := h.svc.WaitingHouseholds(c.Request.Context(), stationScope(auth.MustFrom(c)), days, now, limit)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	resp := WaitingResponse{Days: days, AsOf: now, Households: make([]WaitingHousehold, len(ws))}
	for i, w := range ws {
		resp.Households[i] = WaitingHousehold{HouseholdID: w.HouseholdID, ArchiveNo: w.ArchiveNo, VillageCode: w.VillageCode,
			OwedFen: int64(w.Owed), OwedYuan: w.Owed.String(), Since: w.Since, WaitingDays: w.WaitingDays}
	}
	c.JSON(http.StatusOK, resp)
}

// DelayResponse is one payout with the days from the unit's payment of the oldest fen it settled.
type DelayResponse struct {
	PayoutID    uuid.UUID `json:"payout_id"`
	HouseholdID uuid.UUID `json:"household_id"`
	AmountFen   int64     `json:"amount_fen"`
	Reference   string    `json:"reference"`
	PaidAt      time.Time `json:"paid_at"`
	OldestSince time.Time `json:"oldest_since"`
	DelayDays   int       `json:"delay_days"`
}

// delays answers GET /api/v1/payouts/delays?from=YYYY-MM-DD&to=YYYY-MM-DD (China Standard Time days,
// to inclusive; default the last 30 days) with at most 1000 payouts, newest first.
func (h *Handler) delays(c *gin.Context) {
	now := time.Now().In(civil.China)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, civil.China)
	from, to := today.AddDate(0, 0, -29), today.AddDate(0, 0, 1)
	var f apperr.Fields
	for name, dst := range map[string]*time.Time{"from": &from, "to": &to} {
		if v := c.Query(name); v != "" {
			d, err := civil.ParseDate(v)
			if err != nil {
				f.Add(name, "%s", err)
				continue
			}
			*dst = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, civil.China)
			if name == "to" {
				*dst = dst.AddDate(0, 0, 1)
			}
		}
	}
	if len(f) == 0 && !from.Before(to) {
		f.Add("to", "must not be before from")
	}
	if err := f.Err(); err != nil {
		httpx.Fail(c, err)
		return
	}
	ds, err := h.svc.PayoutDelays(c.Request.Context(), stationScope(auth.MustFrom(c)), from, to, 1000)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	out := make([]DelayResponse, len(ds))
	for i, d := range ds {
		out[i] = DelayResponse{PayoutID: d.PayoutID, HouseholdID: d.HouseholdID, AmountFen: int64(d.Amount),
			Reference: d.Reference, PaidAt: d.PaidAt, OldestSince: d.OldestSince, DelayDays: d.DelayDays}
	}
	c.JSON(http.StatusOK, gin.H{"payouts": out})
}

// WorkBody records paid work (就业帮扶): station_id is required for admins and must be omitted or
// equal to the operator's own station for station operators; task one of picking, sorting,
// packing, delivery, other; work_date YYYY-MM-DD; minutes 1..1440; pay_fen > 0.
type WorkBody struct {
	StationID   *uuid.UUID `json:"station_id"`
	HouseholdID uuid.UUID  `json:"household_id"`
	Task        string     `json:"task"`
	WorkDate    civil.Date `json:"work_date"`
	Minutes     int        `json:"minutes"`
	PayFen      int64      `json:"pay_fen"`
}

// WorkResponse is a recorded piece of work and the entry that posted its wage.
type WorkResponse struct {
	ID          uuid.UUID  `json:"id"`
	StationID   uuid.UUID  `json:"station_id"`
	HouseholdID uuid.UUID  `json:"household_id"`
	Task        string     `json:"task"`
	WorkDate    civil.Date `json:"work_date"`
	Minutes     int        `json:"minutes"`
	PayFen      int64      `json:"pay_fen"`
	PayYuan     string     `json:"pay_yuan"`
	EntryID     uuid.UUID  `json:"entry_id"`
}

func (h *Handler) recordWork(c *gin.Context) {
	key, err := idempotency.Key(c.Request.Header)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	var body WorkBody
	if err := httpx.Bind(c, &body); err != nil {
		httpx.Fail(c, err)
		return
	}
	p := auth.MustFrom(c)
	var station uuid.UUID
	switch {
	case p.Role == auth.RoleStation && (body.StationID == nil || *body.StationID == p.StationID):
		station = p.StationID
	case p.Role == auth.RoleStation:
		httpx.Fail(c, apperr.Invalid(apperr.Field("station_id", "must be your own station or omitted")))
		return
	case body.StationID == nil:
		httpx.Fail(c, apperr.Invalid(apperr.Field("station_id", "is required for an admin")))
		return
	default:
		station = *body.StationID
	}
	rec, err := h.svc.RecordWork(c.Request.Context(), WorkRequest{StationID: station, HouseholdID: body.HouseholdID,
		Task: body.Task, WorkDate: body.WorkDate, Minutes: body.Minutes, Pay: money.Money(body.PayFen), Key: key, RecordedBy: p.UserID})
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	resp := WorkResponse{ID: rec.ID, StationID: rec.StationID, HouseholdID: rec.HouseholdID, Task: rec.Task, WorkDate: rec.WorkDate,
		Minutes: rec.Minutes, PayFen: int64(rec.Pay), PayYuan: rec.Pay.String(), EntryID: rec.EntryID}
	httpx.CreatedOrReplayed(c, resp, rec.Replayed)
}
