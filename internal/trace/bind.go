package trace

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// CheckCodes parses codes as people type them (ParseCode) and returns them normalised, adding to f
// a problem at field[i] for each one that is not a code or repeats one in seen; seen gains every
// code, so that one map can span the codes of several lines of a request.
func CheckCodes(f *apperr.Fields, field string, codes []string, seen map[string]bool) []string {
	parsed := make([]string, len(codes))
	for i, raw := range codes {
		c, ok := ParseCode(raw)
		switch {
		case !ok:
			f.Add(fmt.Sprintf("%s[%d]", field, i), "is not a valid traceability code (14 characters, check character wrong?)")
		case seen[c]:
			f.Add(fmt.Sprintf("%s[%d]", field, i), "repeats a code listed before")
		}
		seen[c] = true
		parsed[i] = c
	}
	return parsed
}

// BindCodes marks codes as sold on an order line inside the caller's transaction tx (the shipment).
// Each code must belong to a batch of productID and be issued or activated. field names the
// request field for errors (for example "lines[0].codes").
// Errors: Invalid (malformed or repeated code, wrong product), Conflict (code already sold or void).
func BindCodes(ctx context.Context, tx *gorm.DB, field string, lineID, productID uuid.UUID, codes []string) error {
	var f apperr.Fields
	parsed := CheckCodes(&f, field, codes, make(map[string]bool, len(codes)))
	if err := f.Err(); err != nil {
		return err
	}
	// The codes go as one text array: a line holds up to 100,000 items, and a list of
	// placeholders stops at PostgreSQL's 65,535 parameters (codes are letters and digits only).
	codeArray := textArray(parsed)
	res := tx.WithContext(ctx).Exec(`UPDATE trace_codes c SET status = 'sold', order_line_id = ?
		FROM batches b WHERE b.id = c.batch_id AND b.product_id = ? AND c.code = ANY(?::text[]) AND c.status IN ('issued', 'activated')`,
		lineID, productID, codeArray)
	if res.Error != nil {
		return res.Error
	}
	if int(res.RowsAffected) == len(parsed) {
		return nil
	}
	// The UPDATE above already marked the good codes sold on this line; those are not the culprits.
	var rows []struct {
		Code        string
		Status      CodeStatus
		ProductID   uuid.UUID
		OrderLineID *uuid.UUID
	}
	if err := tx.WithContext(ctx).Raw(`SELECT c.code, c.status, b.product_id, c.order_line_id FROM trace_codes c
		JOIN batches b ON b.id = c.batch_id WHERE c.code = ANY(?::text[])`, codeArray).Scan(&rows).Error; err != nil {
		return err
	}
	found := make(map[string]int, len(rows))
	for i, r := range rows {
		found[r.Code] = i
	}
	for i, c := range parsed {
		j, ok := found[c]
		name := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case !ok:
			return apperr.Invalid(apperr.Field(name, "is not a code issued by this system"))
		case rows[j].ProductID != productID:
			return apperr.Invalid(apperr.Field(name, "belongs to another product"))
		case rows[j].OrderLineID != nil && *rows[j].OrderLineID == lineID:
			continue
		case rows[j].Status == StatusSold || rows[j].Status == StatusVoid:
			return apperr.ConflictField(name, "code %s is already %s", FormatCode(c), rows[j].Status).With("current_status", rows[j].Status)
		}
	}
	return apperr.Conflict("some codes changed while shipping; retry")
}

// LineEvent names an order line and the station that handled it, for RecordLineEvents.
type LineEvent struct {
	LineID    uuid.UUID
	StationID uuid.UUID
}

// RecordLineEvents appends one trace event (EPCIS bizStep and disposition, recorded by userID at
// at) for each of lines, inside the caller's transaction, in one statement whatever their number:
// a receipt of a 5-line shipment took five round trips before. The ids go as one text array each
// (pgbouncer's simple protocol has no encoding for []uuid.UUID).
func RecordLineEvents(ctx context.Context, tx *gorm.DB, lines []LineEvent, bizStep, disposition string,
	userID uuid.UUID, at time.Time) error {
	if len(lines) == 0 {
		return nil
	}
	sql, args := LineEvents(lines, bizStep, disposition, userID, at)
	return tx.WithContext(ctx).Exec(sql, args...).Error
}

// LineEvents is RecordLineEvents' INSERT with its parameters, for the caller to run as a CTE of
// its own statement (a receipt writes its events, order, shipments and sale entry in one): the
// statement, not this package, decides when it runs. No lines insert nothing.
func LineEvents(lines []LineEvent, bizStep, disposition string, userID uuid.UUID, at time.Time) (string, []any) {
	ids, lineIDs, stations := make([]string, len(lines)), make([]string, len(lines)), make([]string, len(lines))
	for i, l := range lines {
		ids[i], lineIDs[i], stations[i] = uuid.Must(uuid.NewV7()).String(), l.LineID.String(), l.StationID.String()
	}
	return `INSERT INTO trace_events (id, biz_step, disposition, order_line_id, station_id, recorded_by, occurred_at)
		SELECT e.id::uuid, ?, ?, e.line::uuid, e.station::uuid, ?, ?
		FROM unnest(?::text[], ?::text[], ?::text[]) AS e(id, line, station)`,
		[]any{bizStep, disposition, userID, at, textArray(ids), textArray(lineIDs), textArray(stations)}
}
