package procurement

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/trace"
)

// twoStations is a paid order of three lines: two of station A (2 and 1 items), one of station B.
func twoStations() (Order, uuid.UUID, uuid.UUID) {
	a, b := uuid.New(), uuid.New()
	o := Order{ID: uuid.New(), Status: StatusPaid, Lines: []Line{
		{ID: uuid.New(), LineNo: 1, StationID: a, Quantity: 2},
		{ID: uuid.New(), LineNo: 2, StationID: a, Quantity: 1},
		{ID: uuid.New(), LineNo: 3, StationID: b, Quantity: 1},
	}, Shipments: []Shipment{{StationID: a, Status: ShipmentPending}, {StationID: b, Status: ShipmentPending}}}
	return o, a, b
}

func kindOf(err error) apperr.Kind {
	if e, ok := apperr.As(err); ok {
		return e.Kind
	}
	return 0
}

// A station's shipment ships when all its lines have, the order when every line has; each line
// ships once, by its own station, with one code per item.
func TestOrderShip(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	o, a, b := twoStations()
	opA := auth.Principal{Role: auth.RoleStation, StationID: a}
	line := func(i int, codes ...string) ShipLine { return ShipLine{LineID: o.Lines[i].ID, Codes: codes} }
	X, Y, Z, W := trace.NewCode(), trace.NewCode(), trace.NewCode(), trace.NewCode()

	for _, bad := range []struct {
		req  []ShipLine
		kind apperr.Kind
	}{
		{[]ShipLine{line(2, X)}, apperr.KindInvalid},                               // station B's line
		{[]ShipLine{line(0, X)}, apperr.KindInvalid},                               // 2 items, 1 code
		{[]ShipLine{line(1, X), line(1, Y)}, apperr.KindInvalid},                   // listed twice
		{[]ShipLine{{LineID: uuid.New(), Codes: []string{X}}}, apperr.KindInvalid}, // not a line of o
		{[]ShipLine{line(1, "X")}, apperr.KindInvalid},                             // not a code
		{[]ShipLine{line(0, X, Y), line(1, Y)}, apperr.KindInvalid},                // a code twice
	} {
		c := o.clone()
		if _, err := c.ship(opA, ShipRequest{Lines: bad.req}, now); kindOf(err) != bad.kind {
			t.Errorf("ship %+v: %v, want kind %d", bad.req, err, bad.kind)
		}
	}

	shipped, err := o.ship(opA, ShipRequest{Lines: []ShipLine{line(0, X, Y)}}, now)
	if err != nil || len(shipped) != 1 || shipped[0].field != "lines[0].codes" || o.Lines[0].ShippedAt == nil {
		t.Fatalf("ship line 1: %+v, %v", shipped, err)
	}
	if o.Shipments[0].Status != ShipmentPending || o.Status != StatusPaid {
		t.Fatalf("one of station A's two lines shipped: shipment %s, order %s; want pending, paid", o.Shipments[0].Status, o.Status)
	}
	if _, err := o.ship(opA, ShipRequest{Lines: []ShipLine{line(0, X, Y)}}, now); kindOf(err) != apperr.KindConflict {
		t.Fatalf("line 1 again: %v, want a Conflict", err)
	}
	if _, err := o.ship(opA, ShipRequest{Lines: []ShipLine{line(1, Z)}}, now); err != nil {
		t.Fatal(err)
	}
	if o.Shipments[0].Status != ShipmentShipped || o.Shipments[1].Status != ShipmentPending || o.Status != StatusPaid {
		t.Fatalf("station A's lines shipped: %+v, order %s", o.Shipments, o.Status)
	}
	admin := auth.Principal{Role: auth.RoleAdmin}
	if _, err := o.ship(admin, ShipRequest{Lines: []ShipLine{line(2, W)}}, now); err != nil {
		t.Fatal(err)
	}
	if o.Status != StatusShipped || o.ShippedAt == nil || o.Shipments[1].Status != ShipmentShipped || o.Shipments[1].StationID != b {
		t.Fatalf("every line shipped: %+v", o)
	}
}

// A request with several bad lines is refused naming every bad field of every line, in one 422;
// lines shipped already are a 409 naming each, once nothing is Invalid; nothing is marked shipped.
func TestOrderShipNamesEveryBadLine(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	o, a, _ := twoStations()
	opA := auth.Principal{Role: auth.RoleStation, StationID: a}
	X, Y := trace.NewCode(), trace.NewCode()
	other := ShipLine{LineID: uuid.New(), Codes: []string{trace.NewCode()}} // of another order
	_, err := o.ship(opA, ShipRequest{Lines: []ShipLine{
		other,
		{LineID: o.Lines[0].ID, Codes: []string{"AAAA", "AAAA"}},
		{LineID: o.Lines[1].ID, Codes: []string{X}}, // good
		{LineID: o.Lines[0].ID, Codes: []string{}},
		{LineID: o.Lines[2].ID, Codes: []string{Y}},    // station B's
		{LineID: o.Lines[1].ID, Codes: []string{X, Y}}, // twice, a code again, one code too many
	}}, now)
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.KindInvalid {
		t.Fatalf("%v, want Invalid", err)
	}
	var got []string
	for _, f := range e.Fields {
		got = append(got, f.Field+": "+f.Reason)
	}
	want := []string{
		"lines[0].line_id: is not a line of this order that your station ships",
		"lines[1].codes[0]: is not a valid traceability code (14 characters, check character wrong?)",
		"lines[1].codes[1]: is not a valid traceability code (14 characters, check character wrong?)",
		"lines[3].line_id: is listed twice",
		"lines[3].codes: must hold exactly 2 codes, one per item of the line (got 0)",
		"lines[4].line_id: is not a line of this order that your station ships",
		"lines[5].line_id: is listed twice",
		"lines[5].codes: must hold exactly 1 codes, one per item of the line (got 2)",
		"lines[5].codes[0]: repeats a code listed before",
		"lines[5].codes[1]: repeats a code listed before",
	}
	if !slices.Equal(got, want) {
		t.Errorf("fields:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, l := range o.Lines {
		if l.ShippedAt != nil {
			t.Fatalf("a refused request marked line %d shipped", l.LineNo)
		}
	}

	// Two lines shipped before, one not: a 409 naming both, and the third is not marked either.
	if _, err := o.ship(opA, ShipRequest{Lines: []ShipLine{{LineID: o.Lines[0].ID, Codes: []string{X, Y}}, {LineID: o.Lines[1].ID, Codes: []string{trace.NewCode()}}}}, now); err != nil {
		t.Fatal(err)
	}
	admin := auth.Principal{Role: auth.RoleAdmin}
	_, err = o.ship(admin, ShipRequest{Lines: []ShipLine{
		{LineID: o.Lines[2].ID, Codes: []string{trace.NewCode()}},
		{LineID: o.Lines[1].ID, Codes: []string{trace.NewCode()}},
		{LineID: o.Lines[0].ID, Codes: []string{trace.NewCode(), trace.NewCode()}},
	}}, now)
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindConflict || len(e.Fields) != 2 ||
		e.Fields[0].Field != "lines[1].line_id" || e.Fields[1] != apperr.Field("lines[2].line_id", "line 1 has already shipped") {
		t.Fatalf("%+v, want a Conflict naming lines[1] and lines[2]", err)
	}
	if o.Lines[2].ShippedAt != nil {
		t.Fatal("a refused request marked line 3 shipped")
	}
}

// Receipt of one station's shipment needs it shipped; the order completes when every shipment is
// received, by shipment or all at once.
func TestOrderReceive(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	o, a, _ := twoStations()
	if _, err := o.receive(&a, now); kindOf(err) != apperr.KindConflict {
		t.Fatalf("receive a pending shipment: %v, want a Conflict", err)
	}
	if _, err := o.receive(nil, now); kindOf(err) != apperr.KindConflict {
		t.Fatalf("receive all of a paid order: %v, want a Conflict (it must be shipped)", err)
	}
	if other := uuid.New(); kindOf(func() error { _, err := o.receive(&other, now); return err }()) != apperr.KindNotFound {
		t.Fatal("receive a shipment of a station without one: want NotFound")
	}
	o.Shipments[0].Status = ShipmentShipped
	got, err := o.receive(&a, now)
	if err != nil || len(got) != 1 || got[0] != 0 || o.Shipments[0].Status != ShipmentReceived || o.Status != StatusPaid {
		t.Fatalf("receive A: %v %v, %+v", got, err, o)
	}
	o.Shipments[1].Status, o.Status = ShipmentShipped, StatusShipped
	got, err = o.receive(nil, now)
	if err != nil || len(got) != 1 || got[0] != 1 || o.Status != StatusCompleted || o.CompletedAt == nil {
		t.Fatalf("receive the rest: %v %v, %+v", got, err, o)
	}
}

// A placed order cancels with its shipments; a paid one too until a shipment has shipped, and its
// payment is then owed back; the expiry cancels only placed orders.
func TestOrderCancel(t *testing.T) {
	now := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	o, _, _ := twoStations()
	o.Status = StatusPlaced
	if paid, err := o.cancel(ActCancel, now); err != nil || paid || o.Status != StatusCancelled || o.Shipments[1].Status != ShipmentCancelled {
		t.Fatalf("cancel a placed order: %v %v %+v", paid, err, o)
	}
	o, _, _ = twoStations()
	if _, err := o.cancel(ActExpire, now); kindOf(err) != apperr.KindConflict {
		t.Fatalf("expire a paid order: %v, want a Conflict", err)
	}
	if paid, err := o.cancel(ActCancel, now); err != nil || !paid || o.CancelledAt == nil {
		t.Fatalf("cancel a paid order: %v %v", paid, err)
	}
	o, _, _ = twoStations()
	o.Shipments[1].Status = ShipmentShipped
	if _, err := o.cancel(ActCancel, now); kindOf(err) != apperr.KindConflict || o.Status != StatusPaid {
		t.Fatalf("cancel with a shipment shipped: %v, status %s", err, o.Status)
	}
}

// Refunds are for received lines: all of them when none is named, and nothing is a Conflict.
func TestOrderRefundable(t *testing.T) {
	o, _, _ := twoStations()
	o.Status = StatusCompleted
	if _, _, err := o.refundable(nil); kindOf(err) != apperr.KindConflict {
		t.Fatalf("nothing received: %v, want a Conflict", err)
	}
	o.Shipments[0].Status = ShipmentReceived
	o.Lines[1].RefundedQuantity = 1
	items, lines, err := o.refundable(nil)
	if err != nil || len(items) != 1 || items[0].Quantity != 2 || lines[0].LineNo != 1 {
		t.Fatalf("the whole order: %+v %+v %v; want line 1's 2 items (line 2 is refunded, line 3 not received)", items, lines, err)
	}
	if _, _, err := o.refundable([]RefundItem{{LineID: o.Lines[2].ID, Quantity: 1}}); kindOf(err) != apperr.KindConflict {
		t.Fatalf("a line not received: %v, want a Conflict", err)
	}
	if _, _, err := o.refundable([]RefundItem{{LineID: uuid.New(), Quantity: 1}}); kindOf(err) != apperr.KindInvalid {
		t.Fatalf("not a line of the order: %v, want Invalid", err)
	}
	// Every offending line is named in one error, not only the first.
	wantFields := func(err error, kind apperr.Kind, fields ...string) {
		t.Helper()
		e, ok := apperr.As(err)
		if !ok || e.Kind != kind || len(e.Fields) != len(fields) {
			t.Fatalf("%v: want kind %d naming %v", err, kind, fields)
		}
		for i, f := range fields {
			if e.Fields[i].Field != f {
				t.Fatalf("%v: field %d is %q, want %q", err, i, e.Fields[i].Field, f)
			}
		}
	}
	_, _, err = o.refundable([]RefundItem{{LineID: uuid.New(), Quantity: 1}, {LineID: o.Lines[0].ID, Quantity: 1}, {LineID: uuid.New(), Quantity: 1}})
	wantFields(err, apperr.KindInvalid, "lines[0].line_id", "lines[2].line_id")
	o.Lines = append(o.Lines, Line{ID: uuid.New(), LineNo: 4, StationID: o.Lines[2].StationID, Quantity: 1})
	_, _, err = o.refundable([]RefundItem{{LineID: o.Lines[2].ID, Quantity: 1}, {LineID: o.Lines[0].ID, Quantity: 1}, {LineID: o.Lines[3].ID, Quantity: 1}})
	wantFields(err, apperr.KindConflict, "lines[0].line_id", "lines[2].line_id")
	_, _, err = o.refundable([]RefundItem{{LineID: o.Lines[0].ID, Quantity: 3}, {LineID: o.Lines[1].ID, Quantity: 1}})
	wantFields(err, apperr.KindConflict, "lines[0].quantity", "lines[1].quantity")
	if e, _ := apperr.As(err); e.Extra["refundable_quantity"] != 2 {
		t.Fatalf("refundable_quantity %v, want 2 (line 1's)", e.Extra["refundable_quantity"])
	}
	o.Status = StatusPlaced
	if _, _, err := o.refundable(nil); kindOf(err) != apperr.KindConflict {
		t.Fatalf("refund a placed order: %v, want a Conflict", err)
	}
}

// A station sees its own lines, shipments and their total only.
func TestOrderSeenBy(t *testing.T) {
	o, a, _ := twoStations()
	o.Lines[0].AmountFen, o.Lines[1].AmountFen, o.Lines[2].AmountFen = 200, 100, 50
	o.TotalFen = 350
	seen := o.seenBy(auth.Principal{Role: auth.RoleStation, StationID: a})
	if len(seen.Lines) != 2 || len(seen.Shipments) != 1 || seen.TotalFen != 300 || len(o.Lines) != 3 {
		t.Fatalf("station A sees %+v (the order itself: %d lines)", seen, len(o.Lines))
	}
	if all := o.seenBy(auth.Principal{Role: auth.RoleBuyer}); len(all.Lines) != 3 || all.TotalFen != 350 {
		t.Fatalf("the buyer sees %+v", all)
	}
}
