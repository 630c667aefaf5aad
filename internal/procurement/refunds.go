package procurement

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/idempotency"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// RefundItem asks to refund Quantity items of one order line.
type RefundItem struct {
	LineID   uuid.UUID `json:"line_id"`
	Quantity int       `json:"quantity"`
}

// RefundRequest refunds items of received lines. No lines (absent or null) means the whole
// order: every item of every received line not refunded yet; an empty list is refused.
type RefundRequest struct {
	Lines  []RefundItem `json:"lines"`
	Reason string       `json:"reason"`
}

// validate names the fields of req that must be fixed (every field of every line), and returns
// its reason trimmed.
func (req RefundRequest) validate() (string, apperr.Fields) {
	var f apperr.Fields
	reason, ok := text.Name(req.Reason, 200)
	if !ok && req.Reason != "" {
		f.Add("reason", "%s", text.HiddenOr(req.Reason, "must be at most 200 characters"))
	}
	if req.Lines != nil && len(req.Lines) == 0 {
		// "lines": [] is most likely a selection that came out empty, not a wish to refund the
		// whole order, which leaving lines out asks for.
		f.Add("lines", "must list at least one line; leave lines out to refund everything received")
	}
	if len(req.Lines) > MaxLines {
		f.Add("lines", "must list at most %d lines", MaxLines)
	}
	seen := map[uuid.UUID]bool{}
	for i, l := range req.Lines {
		if l.LineID == uuid.Nil || seen[l.LineID] {
			f.Add(fmt.Sprintf("lines[%d].line_id", i), "must name a distinct line of the order")
		}
		seen[l.LineID] = true
		if l.Quantity < 1 || l.Quantity > MaxQuantity {
			f.Add(fmt.Sprintf("lines[%d].quantity", i), "must be a whole number from 1 to %d", MaxQuantity)
		}
	}
	return reason, f
}

// Refund gives money back for received items of an order, in one transaction: a guarded update
// of each line's refunded_quantity (never beyond its quantity), the refund and its lines, one
// ledger entry of kind refund mirroring the lines' sale postings (ledger.PostRefund), exact to the
// fen. Then, after that commit, the money is paid back to the unit through the payment provider
// with its refund_payment entry (giveBack, refundBack); if the provider fails the refund is still made and
// its money owed (returned_at null) until a retry of the same request or the background pass
// (ReturnOwed) returns it. key makes it idempotent per order: the same key and request return the
// first refund (replayed=true), the same key with another request is a Conflict.
// Errors: Forbidden (not the unit's buyer or an admin); NotFound; Invalid naming every bad field
// of every line in one problem (lines[i].line_id: nil, repeated or not a line of the order;
// lines[i].quantity out of range) and reason; Conflict when the order has nothing received
// (current_status), or naming every line whose shipment is not received (lines[i].line_id), else
// every line asking more than is left to refund (lines[i].quantity, with refundable_quantity: what
// is left of the first such line).
func (s *Orders) Refund(ctx context.Context, p auth.Principal, id uuid.UUID, key string, req RefundRequest) (Refund, bool, error) {
	if p.Role != auth.RoleBuyer && p.Role != auth.RoleAdmin {
		return Refund{}, false, apperr.Forbidden("only the ordering unit's buyers or the county office refund an order")
	}
	reason, bad := req.validate()
	if len(bad) > 0 {
		// One answer for every bad field: add the lines that are not the order's, read without the
		// lock (refundable checks them again under it). An order out of scope adds nothing, so a
		// caller learns no more than from the 404 it will get once the rest is fixed.
		if o, err := s.Get(ctx, p, id); err == nil {
			bad = append(bad, o.unknownLines(req.Lines)...)
		}
		return Refund{}, false, bad.Err()
	}
	hash := refundHash(req.Lines, reason)
	var out Refund
	replayed := false
	scope := idempotency.Scope{Name: "refund", Within: id}
	_, err := s.update(ctx, p, id, func(u *orderTx, o *Order) error {
		ref, again, err := idempotency.Do(ctx, u.tx, scope, key, hash, func() (string, error) {
			r, err := s.makeRefund(ctx, u, p, *o, reason, req.Lines)
			out = r
			return r.ID.String(), err
		})
		if replayed = again; err != nil {
			return err
		}
		if again {
			var prior Refund // not out: gorm would add the id out may hold to the condition
			if err := u.tx.Take(&prior, "id = ?", ref).Error; err != nil {
				return err
			}
			out = prior
			if err := u.tx.Where("refund_id = ?", out.ID).Order("order_line_id").Find(&out.Lines).Error; err != nil {
				return err
			}
		}
		// The scan views of the order's codes show their lines' refunded counts (and a line refunded
		// whole as returned): drop them from the cache once the refund has committed.
		u.afterCommit(func(ctx context.Context) { s.forgetLines(ctx, id) })
		// Owed: return it once the refund has committed; if that fails, the background pass will.
		u.afterCommit(func(ctx context.Context) {
			if out.ReturnedAt != nil {
				return
			}
			if m, _, err := s.giveBack(ctx, refundBack, out.ID); err == nil && m.returnedAt != nil {
				out.ReturnedAt, out.ReturnRef = m.returnedAt, m.returnRef
			}
		})
		return nil
	})
	if err != nil {
		return Refund{}, false, err
	}
	return out, replayed, nil
}

// makeRefund is the work of Refund once its key is new, on order o locked in u: the items o says
// may be refunded (Order.refundable), each line's refunded_quantity grown by a guarded update, the
// refund entry and the refund with its lines.
func (s *Orders) makeRefund(ctx context.Context, u *orderTx, p auth.Principal, o Order, reason string, asked []RefundItem) (Refund, error) {
	items, lines, err := o.refundable(asked)
	if err != nil {
		return Refund{}, err
	}
	legs := make([]ledger.RefundLine, 0, len(items))
	for i, it := range items {
		l := lines[i]
		// The guard: refunded_quantity never passes quantity, whatever races.
		res := u.tx.Exec(`UPDATE order_lines SET refunded_quantity = refunded_quantity + ? WHERE id = ? AND refunded_quantity + ? <= quantity`,
			it.Quantity, l.ID, it.Quantity)
		if res.Error != nil {
			return Refund{}, res.Error
		}
		if res.RowsAffected == 0 {
			left := l.Quantity - l.RefundedQuantity
			return Refund{}, apperr.ConflictField(fmt.Sprintf("lines[%d].quantity", i), "only %d of line %d are left to refund, %d asked",
				left, l.LineNo, it.Quantity).With("refundable_quantity", left)
		}
		legs = append(legs, ledger.RefundLine{OrderLineID: l.ID, Quantity: it.Quantity, UnitPrice: l.UnitPriceFen})
	}
	now := s.now()
	r := Refund{ID: uuid.Must(uuid.NewV7()), OrderID: o.ID, Reason: reason, CreatedBy: p.UserID, CreatedAt: now}
	entry, done, err := u.ledger.PostRefund(ctx, o.ID, o.UnitID, "refund:"+r.ID.String(), legs, now)
	if err != nil {
		return Refund{}, err
	}
	r.EntryID = entry
	for _, d := range done {
		r.AmountFen += d.Amount
		r.Lines = append(r.Lines, RefundLine{RefundID: r.ID, OrderLineID: d.OrderLineID, Quantity: d.Quantity, AmountFen: d.Amount})
	}
	if err := u.tx.Omit("Lines").Create(&r).Error; err != nil {
		return Refund{}, err
	}
	return r, u.tx.Create(&r.Lines).Error
}

// Refunds lists an order's refunds, oldest first, with their lines. A station sees only the
// refund lines of its own order lines (amounts summed over those), as it sees only its lines.
// Errors: NotFound.
func (s *Orders) Refunds(ctx context.Context, p auth.Principal, id uuid.UUID) ([]Refund, error) {
	o, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	own := map[uuid.UUID]bool{}
	for _, l := range o.Lines {
		own[l.ID] = true
	}
	var list []Refund
	if err := s.db.WithContext(ctx).Where("order_id = ?", id).Order("created_at, id").Find(&list).Error; err != nil {
		return nil, apperr.DB(err, "refund")
	}
	out := list[:0]
	for _, r := range list {
		if err := s.db.WithContext(ctx).Where("refund_id = ?", r.ID).Order("order_line_id").Find(&r.Lines).Error; err != nil {
			return nil, apperr.DB(err, "refund")
		}
		if p.Role == auth.RoleStation {
			mine := r.Lines[:0]
			r.AmountFen = 0
			for _, l := range r.Lines {
				if own[l.OrderLineID] {
					mine = append(mine, l)
					r.AmountFen += l.AmountFen
				}
			}
			if r.Lines = mine; len(mine) == 0 {
				continue
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// refundHash identifies a refund request by its lines in id order (an empty list: the whole
// order) and its reason, so that a retry replays and another request under the same key is
// refused.
func refundHash(items []RefundItem, reason string) []byte {
	sorted := slices.Clone(items)
	slices.SortFunc(sorted, func(a, b RefundItem) int { return bytes.Compare(a.LineID[:], b.LineID[:]) })
	h := sha256.New()
	h.Write([]byte("refund.v2"))
	binary.Write(h, binary.BigEndian, int64(len(reason)))
	h.Write([]byte(reason))
	for _, it := range sorted {
		h.Write(it.LineID[:])
		binary.Write(h, binary.BigEndian, int64(it.Quantity))
	}
	return h.Sum(nil)
}
