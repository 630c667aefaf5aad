package procurement

import (
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/trace"
)

// The order's own decisions: each method checks Life (May) and what depends on more than the
// status, then changes the order in memory; the repository (update) writes what changed. None of
// them touches the database, so the rules are tested without one (order_life_test.go).

// shipping is a line a ShipRequest ships, with its codes and the request field that names them.
type shipping struct {
	line  Line
	field string
	codes []string
}

// ship marks the lines of req shipped at now by p (a station ships its own lines, an admin any),
// a station's shipment shipped when all its lines are and o shipped when every line is. It
// returns the lines shipped, for their codes to be bound and their shipping events recorded.
// Every line of req is checked before any is marked, and each error names every offending field
// of every line at once (as refunds do), the 422s before the 409s.
// Errors: Conflict (o not paid, with current_status; else, when nothing is Invalid, each line
// shipped already, naming lines[i].line_id); Invalid (lines[i].line_id not a line of o that p
// ships, or listed twice; lines[i].codes not one per item; lines[i].codes[k] not a code, or a code
// listed before in the request). Whether the codes are issued, of the line's product and free is
// the database's to say (trace.BindCodes).
func (o *Order) ship(p auth.Principal, req ShipRequest, now time.Time) ([]shipping, error) {
	if err := o.May(ActShip); err != nil {
		return nil, err
	}
	index := make(map[uuid.UUID]int, len(o.Lines))
	for i, l := range o.Lines {
		index[l.ID] = i
	}
	var bad apperr.Fields
	var shippedBefore []apperr.FieldError
	todo := make([]int, 0, len(req.Lines)) // of o.Lines, in the order of req.Lines
	out := make([]shipping, 0, len(req.Lines))
	seen := map[uuid.UUID]bool{}
	codes := map[string]bool{} // every code of the request, parsed
	for i, sl := range req.Lines {
		field := fmt.Sprintf("lines[%d]", i)
		j, ok := index[sl.LineID]
		var l *Line // nil when the line is not one p ships: its quantity is not p's business
		switch {
		case !ok || p.Role == auth.RoleStation && o.Lines[j].StationID != p.StationID:
			bad.Add(field+".line_id", "is not a line of this order that your station ships")
		case seen[sl.LineID]:
			bad.Add(field+".line_id", "is listed twice")
			l = &o.Lines[j]
		default:
			l = &o.Lines[j]
			seen[sl.LineID] = true
			if l.ShippedAt != nil {
				shippedBefore = append(shippedBefore, apperr.Field(field+".line_id", "line %d has already shipped", l.LineNo))
			}
			todo = append(todo, j)
			out = append(out, shipping{field: field + ".codes", codes: sl.Codes})
		}
		if l != nil && len(sl.Codes) != l.Quantity {
			bad.Add(field+".codes", "must hold exactly %d codes, one per item of the line (got %d)", l.Quantity, len(sl.Codes))
		}
		trace.CheckCodes(&bad, field+".codes", sl.Codes, codes)
	}
	if len(bad) > 0 {
		return nil, bad.Err()
	}
	if len(shippedBefore) > 0 {
		e := apperr.Conflict("%s", shippedBefore[0].Reason)
		e.Fields = shippedBefore
		return nil, e
	}
	for i, j := range todo {
		o.Lines[j].ShippedAt = &now
		out[i].line = o.Lines[j]
	}
	pending := map[uuid.UUID]bool{}
	for _, l := range o.Lines {
		if l.ShippedAt == nil {
			pending[l.StationID] = true
		}
	}
	for i := range o.Shipments {
		if sh := &o.Shipments[i]; sh.Status == ShipmentPending && !pending[sh.StationID] {
			sh.Status, sh.ShippedAt = ShipmentShipped, &now
		}
	}
	if len(pending) == 0 {
		o.enter(ActShip, now)
	}
	return out, nil
}

// receive marks shipments received at now: station's, which must be shipped, or every shipped one
// when station is nil; o is completed when every shipment is received. It returns the indexes in
// o.Shipments of those it received, whose sales the caller posts (and sets SaleEntryID).
// Errors: Conflict (o not paid or shipped; station's shipment not shipped: current_status and
// shipment_status); NotFound (no shipment of station).
func (o *Order) receive(station *uuid.UUID, now time.Time) ([]int, error) {
	act := ActReceive
	if station != nil {
		act = ActReceiveShipment
	}
	if err := o.May(act); err != nil {
		return nil, err
	}
	var todo []int
	for i, sh := range o.Shipments {
		switch {
		case station != nil && sh.StationID != *station:
		case station != nil && sh.Status != ShipmentShipped:
			return nil, apperr.Conflict("cannot confirm receipt of a shipment that is %s (it must be shipped)", sh.Status).
				With("current_status", o.Status).With("shipment_status", sh.Status)
		case sh.Status == ShipmentShipped:
			todo = append(todo, i)
		}
	}
	if station != nil && len(todo) == 0 {
		return nil, apperr.NotFound("shipment of that station in this order")
	}
	for _, i := range todo {
		o.Shipments[i].Status, o.Shipments[i].ReceivedAt = ShipmentReceived, &now
	}
	if !slices.ContainsFunc(o.Shipments, func(sh Shipment) bool { return sh.Status != ShipmentReceived }) {
		o.enter(act, now)
	}
	return todo, nil
}

// cancel cancels o at now by action a (ActCancel, or ActExpire for an unpaid order past its
// time) with its shipments, and says whether o was paid: its payment is then owed back. A paid
// order is cancelled only while none of its shipments has shipped.
// Errors: Conflict (the state, with current_status; a shipment has shipped).
func (o *Order) cancel(a Action, now time.Time) (paid bool, err error) {
	if err := o.May(a); err != nil {
		return false, err
	}
	paid = o.Status == StatusPaid
	if paid && slices.ContainsFunc(o.Shipments, func(sh Shipment) bool { return sh.Status != ShipmentPending }) {
		return false, apperr.Conflict("cannot cancel an order once a shipment has shipped; receive it, then ask for a refund").
			With("current_status", o.Status)
	}
	for i := range o.Shipments {
		o.Shipments[i].Status = ShipmentCancelled
	}
	o.enter(a, now)
	return paid, nil
}

// refundable resolves a refund request against o: the items asked, or, when none are, every
// received line's items not refunded yet, each with its line. It checks what o knows (the status,
// lines of o, received, the quantity left on o as locked), naming every offending line at once;
// the guarded update that takes the quantity checks it again.
// Errors: Conflict (o not paid, shipped or completed; nothing left to refund; lines not received,
// naming each lines[i].line_id; else more asked than is left, naming each lines[i].quantity, with
// refundable_quantity of the first); Invalid (each lines[i].line_id that is not a line of o).
func (o Order) refundable(asked []RefundItem) ([]RefundItem, []Line, error) {
	if err := o.May(ActRefund); err != nil {
		return nil, nil, err
	}
	received := map[uuid.UUID]bool{}
	for _, sh := range o.Shipments {
		received[sh.StationID] = sh.Status == ShipmentReceived
	}
	items := asked
	if len(items) == 0 { // the whole order: what is received and not refunded yet
		for _, l := range o.Lines {
			if received[l.StationID] && l.RefundedQuantity < l.Quantity {
				items = append(items, RefundItem{LineID: l.ID, Quantity: l.Quantity - l.RefundedQuantity})
			}
		}
		if len(items) == 0 {
			return nil, nil, apperr.Conflict("nothing of this order is left to refund: no received line has unrefunded items").
				With("current_status", o.Status)
		}
	}
	if bad := o.unknownLines(items); len(bad) > 0 {
		return nil, nil, bad.Err()
	}
	lines := make([]Line, len(items))
	var unreceived, tooMany []apperr.FieldError
	left := -1 // of the first line asking too much
	for i, it := range items {
		l := o.Lines[slices.IndexFunc(o.Lines, func(l Line) bool { return l.ID == it.LineID })]
		lines[i] = l
		switch rest := l.Quantity - l.RefundedQuantity; {
		case !received[l.StationID]:
			unreceived = append(unreceived, apperr.Field(fmt.Sprintf("lines[%d].line_id", i),
				"line %d has not been received; refunds come after receipt", l.LineNo))
		case it.Quantity > rest:
			tooMany = append(tooMany, apperr.Field(fmt.Sprintf("lines[%d].quantity", i),
				"only %d of line %d are left to refund, %d asked", rest, l.LineNo, it.Quantity))
			if left < 0 {
				left = rest
			}
		}
	}
	switch {
	case len(unreceived) > 0:
		e := apperr.Conflict("%s", unreceived[0].Reason).With("current_status", o.Status)
		e.Fields = unreceived
		return nil, nil, e
	case len(tooMany) > 0:
		e := apperr.Conflict("%s", tooMany[0].Reason).With("refundable_quantity", left)
		e.Fields = tooMany
		return nil, nil, e
	}
	return items, lines, nil
}

// unknownLines names each lines[i].line_id of asked that is not a line of o (the nil UUID is
// left to RefundRequest.validate).
func (o Order) unknownLines(asked []RefundItem) apperr.Fields {
	var f apperr.Fields
	for i, it := range asked {
		if it.LineID != uuid.Nil && !slices.ContainsFunc(o.Lines, func(l Line) bool { return l.ID == it.LineID }) {
			f.Add(fmt.Sprintf("lines[%d].line_id", i), "is not a line of this order")
		}
	}
	return f
}

// seenBy is o as p sees it: a station its own lines and shipments only (another station's
// products and prices are not its business), the total of those lines.
func (o Order) seenBy(p auth.Principal) Order {
	if p.Role != auth.RoleStation {
		return o
	}
	var own []Line
	o.TotalFen = 0
	for _, l := range o.Lines {
		if l.StationID == p.StationID {
			own = append(own, l)
			o.TotalFen += l.AmountFen
		}
	}
	var mine []Shipment
	for _, sh := range o.Shipments {
		if sh.StationID == p.StationID {
			mine = append(mine, sh)
		}
	}
	o.Lines, o.Shipments = own, mine
	return o
}
