package ledger

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/money"
)

// PostSale attributes a completed order inside the caller's transaction tx: it reads the order's
// lines and their products' current supplier shares, builds the sale entry (SaleEntry) and posts
// it. The attribution rule lives here, in the ledger, so that callers only say "this order is
// complete". Errors: as SaleEntry and Post.
func (s *Service) PostSale(ctx context.Context, tx *gorm.DB, orderID, unitID uuid.UUID, at time.Time) (uuid.UUID, error) {
	var rows []struct {
		OrderLineID uuid.UUID
		AmountFen   money.Money
		HouseholdID uuid.UUID
		ShareBP     int32
	}
	err := tx.WithContext(ctx).Raw(`
		SELECT l.id AS order_line_id, l.amount_fen, ps.household_id, ps.share_bp
		FROM order_lines l JOIN product_suppliers ps ON ps.product_id = l.product_id
		WHERE l.order_id = ? ORDER BY l.line_no, ps.household_id`, orderID).Scan(&rows).Error
	if err != nil {
		return uuid.Nil, err
	}
	var lines []SaleLine
	for _, r := range rows {
		if len(lines) == 0 || lines[len(lines)-1].OrderLineID != r.OrderLineID {
			lines = append(lines, SaleLine{OrderLineID: r.OrderLineID, Amount: r.AmountFen})
		}
		last := &lines[len(lines)-1]
		last.Suppliers = append(last.Suppliers, Supplier{HouseholdID: r.HouseholdID, ShareBP: r.ShareBP})
	}
	e, err := SaleEntry(orderID, unitID, lines, at)
	if err != nil {
		return uuid.Nil, err
	}
	id, _, err := s.Post(ctx, tx, e)
	return id, err
}

// PostPayment posts the entry of a confirmed payment inside the caller's transaction tx.
func (s *Service) PostPayment(ctx context.Context, tx *gorm.DB, orderID, unitID uuid.UUID, amount money.Money, providerRef string, at time.Time) (uuid.UUID, error) {
	id, _, err := s.Post(ctx, tx, PaymentEntry(orderID, unitID, amount, providerRef, at))
	return id, err
}
