package procurement

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

var allStatuses = []Status{StatusPlaced, StatusPaid, StatusShipped, StatusCompleted, StatusCancelled}

// Every action is allowed from exactly the statuses of its row in Life, and refused from the others
// with a Conflict that carries the current status.
func TestOrderMayFollowsLife(t *testing.T) {
	for _, tr := range Life {
		for _, st := range allStatuses {
			err := Order{Status: st}.May(tr.Action)
			if slices.Contains(tr.From, st) {
				if err != nil {
					t.Errorf("%s from %s: refused (%v), Life allows it", tr.Action, st, err)
				}
				continue
			}
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Kind != apperr.KindConflict || ae.Extra["current_status"] != st {
				t.Errorf("%s from %s: got %v, want a 409 carrying current_status %s", tr.Action, st, err, st)
			}
		}
	}
	err := Order{Status: StatusCancelled}.May(ActPay)
	if want := "cannot pay an order that is cancelled (it must be placed)"; err == nil || err.Error() != want {
		t.Errorf("pay a cancelled order: %v, want %q", err, want)
	}
}

// Entering a status sets it and its own timestamp, and the columns written say the same.
func TestOrderEnterSetsStatusAndTime(t *testing.T) {
	at := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	for _, a := range []Action{ActPay, ActShip, ActReceive, ActCancel} {
		var o Order
		o.enter(a, at)
		cols := o.statusColumns()
		to := transition(a).To
		if o.Status != to || cols["status"] != to {
			t.Errorf("%s: status %s, columns %v; want %s", a, o.Status, cols, to)
		}
		stamp := map[Status]*time.Time{StatusPaid: o.PaidAt, StatusShipped: o.ShippedAt,
			StatusCompleted: o.CompletedAt, StatusCancelled: o.CancelledAt}[to]
		if stamp == nil || !stamp.Equal(at) || len(cols) != 2 {
			t.Errorf("%s: timestamp %v, columns %v; want %s at %v", a, stamp, cols, to, at)
		}
	}
}

// docs/architecture.md quotes Life as a table; the two stay equal.
func TestOrderLifeIsQuotedInDocs(t *testing.T) {
	b, err := os.ReadFile("../../docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	if doc := string(b); !strings.Contains(doc, LifeTable()) {
		t.Errorf("docs/architecture.md must quote the order's life exactly as the code has it:\n%s", LifeTable())
	}
}

// LifeTable renders Life as the Markdown table the docs quote.
func LifeTable() string {
	var b strings.Builder
	b.WriteString("| Action | From | To | When |\n|---|---|---|---|\n")
	for _, tr := range Life {
		from := make([]string, len(tr.From))
		for i, s := range tr.From {
			from[i] = string(s)
		}
		to := string(tr.To)
		if to == "" {
			to = "(unchanged)"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", tr.Action, strings.Join(from, ", "), to, tr.Then)
	}
	return b.String()
}
