package procurement

import (
	"strings"
	"time"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// Action is something done to an order; its text completes "cannot … an order".
type Action string

// The actions of an order's life.
const (
	ActPay             Action = "pay"
	ActRecordPayment   Action = "record a payment for"
	ActShip            Action = "ship"
	ActReceive         Action = "confirm receipt of"
	ActReceiveShipment Action = "confirm receipt of a shipment of"
	ActCancel          Action = "cancel"
	ActExpire          Action = "expire"
	ActRefund          Action = "refund"
)

// Transition is one row of the order's life: the statuses an action may start from and the status
// it leads to (Then says when the move is not immediate).
type Transition struct {
	Action Action
	From   []Status
	To     Status
	Then   string
}

// Life is the order's whole life, the one place that says what may happen next. docs/ledger.md
// quotes it (a test keeps the two equal). Every action goes through the order repository
// (Orders.update: lock, load, decide, persist), whose decision asks Order.May; the checks that
// depend on more than the status (a shipment shipped, a line received) follow in the order's
// method of the action (order_events.go).
var Life = []Transition{
	{ActPay, []Status{StatusPlaced}, StatusPaid, "the provider has charged the unit"},
	{ActRecordPayment, []Status{StatusPlaced}, StatusPaid, "the provider's callback reports a charge"},
	{ActShip, []Status{StatusPaid}, StatusShipped, "when every line has shipped; a station's shipment when all its lines have"},
	{ActReceiveShipment, []Status{StatusPaid, StatusShipped}, StatusCompleted, "when every shipment is received; each receipt posts its sale"},
	{ActReceive, []Status{StatusShipped}, StatusCompleted, "every shipped shipment received at once"},
	{ActCancel, []Status{StatusPlaced, StatusPaid}, StatusCancelled, "a paid order only while no shipment has shipped; its payment is owed back"},
	{ActExpire, []Status{StatusPlaced}, StatusCancelled, "unpaid past ORDER_PAY_TIMEOUT"},
	{ActRefund, []Status{StatusPaid, StatusShipped, StatusCompleted}, "", "the status stays; refunds are for items of received shipments"},
}

// transition finds the row of action a (every Action has one; a missing row is a programming error).
func transition(a Action) Transition {
	for _, t := range Life {
		if t.Action == a {
			return t
		}
	}
	panic("procurement: no transition for action " + string(a))
}

// May returns nil when action a may start from o's status, else refuse(a).
func (o Order) May(a Action) error {
	for _, s := range transition(a).From {
		if o.Status == s {
			return nil
		}
	}
	return o.refuse(a)
}

// refuse is the Conflict, carrying current_status, of action a on o in its status: "cannot pay an
// order that is cancelled (it must be placed)".
func (o Order) refuse(a Action) error {
	t := transition(a)
	if a == ActRefund {
		return apperr.Conflict("cannot refund an order that is %s: refunds are for items of received shipments", o.Status).
			With("current_status", o.Status)
	}
	want := make([]string, len(t.From))
	for i, s := range t.From {
		want[i] = string(s)
	}
	return apperr.Conflict("cannot %s an order that is %s (it must be %s)", a, o.Status, strings.Join(want, " or ")).
		With("current_status", o.Status)
}

// enter moves o to action a's status at time at, setting the matching timestamp. It does not
// check May: the caller has, under the order's lock. The repository writes the change
// (statusColumns).
func (o *Order) enter(a Action, at time.Time) {
	to := transition(a).To
	switch to {
	case StatusPaid:
		o.PaidAt = &at
	case StatusShipped:
		o.ShippedAt = &at
	case StatusCompleted:
		o.CompletedAt = &at
	case StatusCancelled:
		o.CancelledAt = &at
	default:
		panic("procurement: action " + string(a) + " does not change the status")
	}
	o.Status = to
}

// statusColumns are the columns of o's status and the timestamp that goes with it, as enter set
// them.
func (o Order) statusColumns() map[string]any {
	cols := map[string]any{"status": o.Status}
	switch o.Status {
	case StatusPaid:
		cols["paid_at"] = o.PaidAt
	case StatusShipped:
		cols["shipped_at"] = o.ShippedAt
	case StatusCompleted:
		cols["completed_at"] = o.CompletedAt
	case StatusCancelled:
		cols["cancelled_at"] = o.CancelledAt
	}
	return cols
}
