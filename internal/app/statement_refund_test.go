package app

import "testing"

// A household's ledger shows a refund with the items it took back, not the whole line's (the
// reviewer saw quantity 7 on the refund of 1 item of a 7-item line).
func TestLedgerRefundLineShowsRefundedItems(t *testing.T) {
	w := newWorld(t)
	o, _ := w.ReceivedOrder(t) // one line of 2 items
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "quantity": 1}}},
		"Idempotency-Key", "statement-refund").Want(201)
	var st struct {
		Lines []struct {
			Kind        string
			OrderLineID string `json:"order_line_id"`
			Quantity    int
			AmountFen   int64 `json:"amount_fen"`
		}
	}
	w.Admin.Do("GET", "/api/v1/households/"+w.Households[0]+"/ledger", nil).Want(200).JSON(&st)
	got := map[string]int{}
	for _, l := range st.Lines {
		if l.OrderLineID == o.Lines[0].ID {
			got[l.Kind] = l.Quantity
		}
	}
	if got["sale"] != 2 || got["refund"] != 1 {
		t.Errorf("quantities on the household's ledger %v, want sale 2 and refund 1 (lines %+v)", got, st.Lines)
	}
}
