package trace

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// The lifecycle of a code (一物一码):
//
//	issued ──activate (packing)──▶ activated ──ship on an order line──▶ sold
//	   └──────────────┴───────────────void (damaged, recalled, lost, other)──────┴──▶ void
//
// Every change is one transaction that updates the code and appends its EPCIS 2.0 event (CBV
// bizStep and disposition, the time it happened, the place — the station, or the origin region —
// and who recorded it). Events are never edited: a mistake is answered by an error declaration
// (EPCIS 2.0 §7.4.1.4 errorDeclaration), itself a new event naming the one it corrects.

// More CBV 2.0 business steps and dispositions.
const (
	StepPacking         = "packing"
	StepDecommissioning = "decommissioning"
	StepHolding         = "holding"
	DispInProgress      = "in_progress"
	DispRecalled        = "recalled"
	DispDamaged         = "damaged"
	DispInactive        = "inactive"
)

// VoidReason says why a code was voided.
type VoidReason string

// Void reasons.
const (
	VoidDamaged  VoidReason = "damaged"
	VoidRecalled VoidReason = "recalled"
	VoidLost     VoidReason = "lost"
	VoidOther    VoidReason = "other"
)

// VoidRequest voids a code: Reason is damaged, recalled, lost or other; Note (at most 500
// characters) is shown on the scan page with the verdict.
type VoidRequest struct {
	Reason VoidReason `json:"reason"`
	Note   string     `json:"note"`
}

// RecallRequest recalls a whole batch; Note (1 to 500 characters) says why.
type RecallRequest struct {
	Note string `json:"note"`
}

// CodeState is a code's state after a transition.
type CodeState struct {
	Code       string      `json:"code"`
	Status     CodeStatus  `json:"status"`
	VoidReason *VoidReason `json:"void_reason,omitempty"`
	EventID    uuid.UUID   `json:"event_id"`
}

// codeRef is a code with what its transitions need to know.
type codeRef struct {
	Code      string
	Status    CodeStatus
	BatchID   uuid.UUID
	StationID uuid.UUID
}

// lockCode reads a code of the caller's scope FOR UPDATE inside tx. Errors: NotFound.
func lockCode(ctx context.Context, tx *gorm.DB, p auth.Principal, code string) (codeRef, error) {
	var r codeRef
	err := productScope(tx.WithContext(ctx).Table("trace_codes c").
		Select("c.code, c.status, c.batch_id, products.station_id").
		Joins("JOIN batches b ON b.id = c.batch_id JOIN products_view products ON products.id = b.product_id"), p).
		Where("c.code = ?", code).Clauses(forUpdateOf("c")).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, apperr.NotFound("traceability code")
	}
	return r, err
}

func invalidTransition(code string, from CodeStatus, to string) error {
	return apperr.Conflict("code %s is %s: it cannot become %s", FormatCode(code), from, to).With("current_status", from)
}

func cleanNote(f *apperr.Fields, field, note string, required bool) string {
	clean, ok := text.Optional(note, 500)
	switch {
	case !ok:
		f.Add(field, "%s", text.HiddenOr(note, "must be at most 500 characters"))
	case required && clean == "":
		f.Add(field, "is required: say what happened")
	}
	return clean
}

// Activate marks an issued code as packed (EPCIS packing, in_progress): the label is on an item.
// Errors: Invalid (code), NotFound (out of scope), Conflict (not issued; carries status).
func (s *Service) Activate(ctx context.Context, p auth.Principal, code string) (CodeState, error) {
	st := CodeState{Code: code, Status: StatusActivated, EventID: uuid.Must(uuid.NewV7())}
	err := database.Tx(ctx, s.db, func(tx *gorm.DB) error {
		r, err := lockCode(ctx, tx, p, code)
		if err != nil {
			return err
		}
		if r.Status != StatusIssued {
			return invalidTransition(code, r.Status, string(StatusActivated))
		}
		now := time.Now().UTC()
		if err := tx.Exec(`UPDATE trace_codes SET status = 'activated', activated_at = ? WHERE code = ?`, now, code).Error; err != nil {
			return err
		}
		return insertEvent(tx, st.EventID, StepPacking, DispInProgress, eventSubject{Code: code}, r.StationID, "", p.UserID, now, "")
	})
	if err != nil {
		return CodeState{}, apperr.DB(err, "code")
	}
	s.Forget(ctx, []string{code})
	return st, nil
}

// Void takes a code out of use for good (EPCIS decommissioning with disposition damaged,
// recalled or inactive). Any state but void may be voided, sold included (a damaged delivery).
// Errors: Invalid (reason, note), NotFound, Conflict (already void; carries status).
func (s *Service) Void(ctx context.Context, p auth.Principal, code string, req VoidRequest) (CodeState, error) {
	var f apperr.Fields
	disp := map[VoidReason]string{VoidDamaged: DispDamaged, VoidRecalled: DispRecalled, VoidLost: DispInactive, VoidOther: DispInactive}[req.Reason]
	if disp == "" {
		f.Add("reason", "must be one of damaged, recalled, lost, other")
	}
	note := cleanNote(&f, "note", req.Note, req.Reason == VoidOther)
	if err := f.Err(); err != nil {
		return CodeState{}, err
	}
	reason := req.Reason
	st := CodeState{Code: code, Status: StatusVoid, VoidReason: &reason, EventID: uuid.Must(uuid.NewV7())}
	err := database.Tx(ctx, s.db, func(tx *gorm.DB) error {
		r, err := lockCode(ctx, tx, p, code)
		if err != nil {
			return err
		}
		if r.Status == StatusVoid {
			return invalidTransition(code, r.Status, string(StatusVoid))
		}
		now := time.Now().UTC()
		if err := tx.Exec(`UPDATE trace_codes SET status = 'void', void_reason = ?, voided_at = ? WHERE code = ?`,
			string(reason), now, code).Error; err != nil {
			return err
		}
		step := StepDecommissioning
		if reason == VoidRecalled {
			step = StepHolding
		}
		return insertEvent(tx, st.EventID, step, disp, eventSubject{Code: code}, r.StationID, "", p.UserID, now,
			strings.TrimSpace(string(reason)+": "+note))
	})
	if err != nil {
		return CodeState{}, apperr.DB(err, "code")
	}
	s.Forget(ctx, []string{code})
	return st, nil
}

// RecallResult says what a batch recall did.
type RecallResult struct {
	BatchID uuid.UUID `json:"batch_id"`
	Voided  int64     `json:"voided"` // codes voided now (codes already void keep their reason)
	EventID uuid.UUID `json:"event_id"`
}

// RecallBatch voids every code of a batch that is not void yet (reason recalled) and records one
// EPCIS event on the batch (holding, recalled), in one transaction; then every cached view is
// invalidated through the epoch (a batch may have a million codes: no per-code deletes).
// Errors: Invalid (note), NotFound (batch out of scope), Conflict (already recalled).
func (s *Service) RecallBatch(ctx context.Context, p auth.Principal, batchID uuid.UUID, req RecallRequest) (RecallResult, error) {
	var f apperr.Fields
	note := cleanNote(&f, "note", req.Note, true)
	if err := f.Err(); err != nil {
		return RecallResult{}, err
	}
	b, err := s.st.batch(ctx, p, batchID)
	if err != nil {
		return RecallResult{}, err
	}
	res := RecallResult{BatchID: b.ID, EventID: uuid.Must(uuid.NewV7())}
	var epoch int64
	err = database.Tx(ctx, s.db, func(tx *gorm.DB) error {
		var prod productRef
		if err := tx.Raw(`SELECT p.id, p.station_id FROM batches b JOIN products_view p ON p.id = b.product_id
			WHERE b.id = ? FOR UPDATE OF b`, b.ID).Scan(&prod).Error; err != nil {
			return err
		}
		var recalled int64
		if err := tx.Raw(`SELECT count(*) FROM trace_events WHERE batch_id = ? AND disposition = 'recalled' AND corrects_event_id IS NULL`,
			b.ID).Scan(&recalled).Error; err != nil {
			return err
		}
		if recalled > 0 {
			return apperr.Conflict("batch %s is already recalled", b.BatchNo).With("current_status", "recalled")
		}
		now := time.Now().UTC()
		r := tx.Exec(`UPDATE trace_codes SET status = 'void', void_reason = 'recalled', voided_at = ?
			WHERE batch_id = ? AND status <> 'void'`, now, b.ID)
		if r.Error != nil {
			return r.Error
		}
		res.Voided = r.RowsAffected
		if err := insertEvent(tx, res.EventID, StepHolding, DispRecalled, eventSubject{BatchID: &b.ID}, prod.StationID, "",
			p.UserID, now, "recalled: "+note); err != nil {
			return err
		}
		return bumpEpoch(tx, &epoch)
	})
	if err != nil {
		return RecallResult{}, apperr.DB(err, "batch")
	}
	s.noteEpoch(epoch)
	return res, nil
}

// DeclareError records an EPCIS 2.0 error declaration for an event: a new event repeating the
// erroneous one, with the declaration's reason and the id it corrects. The scan timeline then shows
// the original as declared in error. A code's state is not rolled back (void stays void): the
// correction is what the record says, the state machine only moves forward.
// Errors: Invalid (reason), NotFound (event out of scope), Conflict (already declared, or a declaration).
func (s *Service) DeclareError(ctx context.Context, p auth.Principal, eventID uuid.UUID, reason string) (EventView, error) {
	var f apperr.Fields
	reason = cleanNote(&f, "reason", reason, true)
	if err := f.Err(); err != nil {
		return EventView{}, err
	}
	decl := uuid.Must(uuid.NewV7())
	var out EventView
	var epoch int64
	err := database.Tx(ctx, s.db, func(tx *gorm.DB) error {
		var ev struct {
			ID              uuid.UUID
			BizStep         string
			Disposition     string
			BatchID         *uuid.UUID
			OrderLineID     *uuid.UUID
			Code            *string
			StationID       *uuid.UUID
			RegionCode      *string
			OccurredAt      time.Time
			CorrectsEventID *uuid.UUID
		}
		// Scope: the event's subject (batch, order line or code) leads to a product of the caller.
		q := productScope(tx.Table("trace_events e").Select("e.id, e.biz_step, e.disposition, e.batch_id, e.order_line_id, e.code, "+
			"e.station_id, e.region_code, e.occurred_at, e.corrects_event_id").
			Joins(`LEFT JOIN trace_codes c ON c.code = e.code
				LEFT JOIN order_lines_view l ON l.id = e.order_line_id
				JOIN products_view products ON products.id = coalesce(l.product_id,
					(SELECT product_id FROM batches WHERE id = coalesce(e.batch_id, c.batch_id)))`), p)
		if err := q.Where("e.id = ?", eventID).Take(&ev).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return apperr.NotFound("trace event")
			}
			return err
		}
		if ev.CorrectsEventID != nil {
			return apperr.Conflict("event %s is itself an error declaration", eventID)
		}
		err := tx.Exec(`INSERT INTO trace_events (id, biz_step, disposition, batch_id, order_line_id, code, station_id, region_code,
			recorded_by, occurred_at, reason, corrects_event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			decl, ev.BizStep, ev.Disposition, ev.BatchID, ev.OrderLineID, ev.Code, ev.StationID, ev.RegionCode, nullUser(p.UserID),
			ev.OccurredAt, reason, ev.ID).Error
		if apperr.PgCode(err) == apperr.PgUniqueViolation {
			return apperr.Conflict("event %s is already declared in error", eventID)
		}
		if err != nil {
			return err
		}
		out = EventView{ID: decl, BizStep: ev.BizStep, Disposition: ev.Disposition, OccurredAt: ev.OccurredAt,
			Reason: reason, Corrects: &ev.ID}
		return bumpEpoch(tx, &epoch)
	})
	if err != nil {
		return EventView{}, apperr.DB(err, "trace event")
	}
	s.noteEpoch(epoch)
	return out, nil
}

// eventSubject is what an event is about: a batch, an order line or one code.
type eventSubject struct {
	BatchID     *uuid.UUID
	OrderLineID *uuid.UUID
	Code        string
}

func nullUser(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

func insertEvent(tx *gorm.DB, id uuid.UUID, step, disp string, subj eventSubject, stationID uuid.UUID, region string,
	userID uuid.UUID, at time.Time, reason string) error {
	var code, reg, rsn *string
	if subj.Code != "" {
		code = &subj.Code
	}
	if region != "" {
		reg = &region
	}
	if reason != "" {
		rsn = &reason
	}
	return tx.Exec(`INSERT INTO trace_events (id, biz_step, disposition, batch_id, order_line_id, code, station_id, region_code,
		recorded_by, occurred_at, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, step, disp, subj.BatchID, subj.OrderLineID, code, stationID, reg, nullUser(userID), at, rsn).Error
}

// bumpEpoch invalidates every cached view, durably: the epoch lives in PostgreSQL and is bumped in
// the caller's transaction, so a view cached before it is never served after it, even if Redis was
// down at the moment of the change (see Resolve). The caller notes *epoch after commit.
func bumpEpoch(tx *gorm.DB, epoch *int64) error {
	if err := tx.Raw(`UPDATE trace_cache_epoch SET epoch = epoch + 1 WHERE id = 1 RETURNING epoch`).Scan(epoch).Error; err != nil {
		return fmt.Errorf("bump cache epoch: %w", err)
	}
	return nil
}

func forUpdateOf(table string) clause.Locking {
	return clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: table}}
}

// VoidReasons are the void reasons a code may carry (the scan page shows each through web.Enum).
var VoidReasons = []VoidReason{VoidDamaged, VoidRecalled, VoidLost, VoidOther}

// EventSteps are the business steps events are recorded with (the scan page shows each through web.Enum).
var EventSteps = []string{StepCommissioning, StepPacking, StepShipping, StepReceiving, StepDecommissioning, StepHolding}

// ReasonCode is the void reason a void or recall event was recorded with ("" for other events):
// such events store "<reason>: <note>" (see Void and RecallBatch).
func (e EventView) ReasonCode() string {
	code, _ := e.splitReason()
	return code
}

// Note is an event's free text: the station's note of a void or recall without its reason
// code, or an error declaration's reason.
func (e EventView) Note() string {
	_, note := e.splitReason()
	return note
}

func (e EventView) splitReason() (code, note string) {
	if e.DeclaredInError || (e.BizStep != StepDecommissioning && e.BizStep != StepHolding) {
		return "", e.Reason
	}
	head, rest, ok := strings.Cut(e.Reason, ":")
	if ok {
		for _, r := range VoidReasons {
			if head == string(r) {
				return head, strings.TrimSpace(rest)
			}
		}
	}
	return "", e.Reason
}

// VoidNote is the station's instruction for a void code: the note of the latest event in its
// timeline that voided it for its reason (a code voided as damaged and then in a batch recall keeps
// its own void's note), not declared in error; "" when none, or the code is not void.
func (v View) VoidNote() string {
	if v.Verdict != VerdictVoid {
		return ""
	}
	for i := len(v.Events) - 1; i >= 0; i-- {
		if e := v.Events[i]; e.ReasonCode() == v.VoidReason {
			return e.Note()
		}
	}
	return ""
}
