package procurement

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// SignatureHeader carries the provider's signature of a callback: "sha256=" followed by the hex
// HMAC-SHA256 of the raw request body under PAYMENT_CALLBACK_SECRET.
const SignatureHeader = "X-Payment-Signature"

// Callback is the provider's notice that an order was paid.
type Callback struct {
	OrderID     uuid.UUID   `json:"order_id"`
	ProviderRef string      `json:"provider_ref"` // the provider's unique payment reference
	AmountFen   money.Money `json:"amount_fen"`
	Status      string      `json:"status"` // "succeeded" (anything else changes nothing)
}

// Callback outcomes.
const (
	CallbackPaid      = "paid"      // the order is now paid
	CallbackDuplicate = "duplicate" // already paid with this reference: nothing changed
	CallbackIgnored   = "ignored"   // not a success: nothing changed
)

// Sign returns the SignatureHeader value of body under secret (what the provider sends).
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// validate names the fields of cb that must be fixed.
func (cb Callback) validate() error {
	var f apperr.Fields
	if cb.OrderID == uuid.Nil {
		f.Add("order_id", "is required")
	}
	// Compared and shown as sent (the payment view): refused, never cleaned, when it holds a
	// hidden character or blanks around it.
	if reason := text.VerbatimReason(cb.ProviderRef, 200); reason != "" {
		f.Add("provider_ref", "%s", reason)
	}
	if cb.Status == "succeeded" && cb.AmountFen <= 0 {
		f.Add("amount_fen", "must be a positive amount in fen")
	}
	return f.Err()
}

// PaymentCallback applies a verified callback: a placed order becomes paid (payment row, status,
// payment entry: the same transaction as Pay); a repeat of the callback that paid it changes
// nothing (CallbackDuplicate). Refused callbacks are also written to payment_callbacks. A
// callback for an order cancelled before it came is refused, but the money it reports was taken
// from the unit: it is recorded as a payment owed back and returned (oweLateCharge). One with
// another provider_ref for an order that already has a payment (paid, shipped, completed or
// cancelled) is refused too, but the unit was charged twice: the second charge is recorded as a
// double charge owed back to the unit and returned (oweDoubleCharge; the same reference again
// records nothing more). One of another amount than a placed order's total is refused and kept in
// payment_callbacks for the operators, nothing owed: its reference may be the very charge that
// later pays the order (a corrected callback, or Pay's own charge), and one reference must never be
// both a payment and a charge owed back.
// Errors: Invalid (order_id, provider_ref, amount_fen); NotFound (unknown order); Conflict
// (cancelled order, amount not the order total, or paid under another reference, with
// current_status; provider_ref already the reference of another order's payment).
func (s *Orders) PaymentCallback(ctx context.Context, cb Callback) (string, error) {
	if err := cb.validate(); err != nil {
		return "", err
	}
	if cb.Status != "succeeded" {
		return CallbackIgnored, nil
	}
	outcome := CallbackPaid
	var late *Order   // cancelled before the callback came, and no payment recorded
	var second *Order // already has a payment under another reference: charged twice
	_, err := s.update(ctx, auth.Principal{Role: auth.RoleAdmin}, cb.OrderID, func(u *orderTx, o *Order) error {
		outcome, late, second = CallbackPaid, nil, nil // a retried attempt starts again
		if o.May(ActRecordPayment) != nil {
			var pay Payment
			err := u.tx.Where("order_id = ?", o.ID).Take(&pay).Error
			switch {
			case err == nil && pay.ProviderRef == cb.ProviderRef:
				outcome = CallbackDuplicate
				return nil
			case err == nil:
				charged := *o
				second = &charged
			case !errors.Is(err, gorm.ErrRecordNotFound):
				return err
			case o.Status == StatusCancelled:
				cancelled := *o
				late = &cancelled
			}
			return o.refuse(ActRecordPayment)
		}
		if cb.AmountFen != o.TotalFen {
			return apperr.ConflictField("amount_fen", "the order total is %d fen, the callback says %d fen", int64(o.TotalFen), int64(cb.AmountFen)).
				With("current_status", o.Status)
		}
		pay := Payment{ID: uuid.Must(uuid.NewV7()), OrderID: o.ID, AmountFen: cb.AmountFen, Provider: s.payments.Name(),
			ProviderRef: cb.ProviderRef, PaidAt: s.now()}
		// The guarded statement of markPaid moves the order to paid itself (as Pay's does); o is
		// left as loaded, so the repository writes nothing more.
		return s.markPaid(ctx, u.ledger, *o, &pay, "callback:"+cb.ProviderRef)
	})
	if isOtherOrdersRef(err) {
		err = otherOrdersRef()
	}
	if err != nil {
		err = apperr.DB(err, "order")
		s.recordRefused(ctx, cb, err)
		if late != nil { // refused, but the unit's money was taken: it is owed back (or a double charge)
			pay := Payment{ID: uuid.Must(uuid.NewV7()), OrderID: late.ID, AmountFen: cb.AmountFen, Provider: s.payments.Name(),
				ProviderRef: cb.ProviderRef, PaidAt: s.now()}
			if lerr := s.oweLateCharge(ctx, *late, pay); isOtherOrdersRef(lerr) {
				return "", otherOrdersRef()
			} else if lerr != nil {
				return "", lerr // not recorded: a 5xx, so that the provider sends the callback again
			}
		}
		if second != nil { // refused, but the unit was charged twice: the second charge is owed back
			if derr := s.oweDoubleCharge(ctx, *second, cb.ProviderRef, cb.AmountFen); derr != nil {
				return "", derr // not recorded: a 5xx, so that the provider sends the callback again
			}
		}
		return "", err
	}
	return outcome, nil
}

// isOtherOrdersRef tells a payment refused because its provider_ref is already another order's
// (payments.provider_ref is unique): a provider's error or a replay, never a new charge to record.
func isOtherOrdersRef(err error) bool { return apperr.PgConstraint(err) == "payments_provider_ref_key" }

func otherOrdersRef() error {
	return apperr.ConflictField("provider_ref", "already pays another order: a provider reference pays one order")
}

// recordRefused keeps a refused callback for the operators (best effort: the log has it too).
func (s *Orders) recordRefused(ctx context.Context, cb Callback, why error) {
	// PostgreSQL text holds neither NUL nor invalid UTF-8: a hostile reference must not keep its
	// refusal out of the record.
	storable := func(s string, n int) string {
		s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\\0")
		if len(s) > n {
			s = strings.ToValidUTF8(s[:n], "")
		}
		return s
	}
	s.db.WithContext(ctx).Exec(`INSERT INTO payment_callbacks (id, order_id, provider_ref, outcome) VALUES (?, ?, ?, ?)`,
		uuid.Must(uuid.NewV7()), cb.OrderID, storable(cb.ProviderRef, 200), storable(why.Error(), 500))
}
