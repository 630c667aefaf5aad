package ledger

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/money"
)

// Tx is the ledger bound to a transaction of the caller's (Service.WithTx), or to the pool, where
// each statement is a transaction of its own: the postings another feature's business event makes
// (procurement's order repository), without a *gorm.DB passed to each call. Each method is the
// Service method of the same name, with the same errors.
type Tx struct {
	s  *Service
	tx *gorm.DB
}

// WithTx binds the ledger to tx.
func (s *Service) WithTx(tx *gorm.DB) Tx { return Tx{s: s, tx: tx} }

// PostPayment is Service.PostPayment in t's transaction.
func (t Tx) PostPayment(ctx context.Context, guard Guard, orderID, unitID uuid.UUID, amount money.Money, providerRef string, at time.Time) (bool, error) {
	return t.s.PostPayment(ctx, t.tx, guard, orderID, unitID, amount, providerRef, at)
}

// PostShipmentSale is Service.PostShipmentSale in t's transaction.
func (t Tx) PostShipmentSale(ctx context.Context, guard Guard, entryID, orderID, unitID, stationID uuid.UUID, lines []SaleLine, at time.Time) error {
	return t.s.PostShipmentSale(ctx, t.tx, guard, entryID, orderID, unitID, stationID, lines, at)
}

// PostRefund is Service.PostRefund in t's transaction.
func (t Tx) PostRefund(ctx context.Context, orderID, unitID uuid.UUID, key string, lines []RefundLine, at time.Time) (uuid.UUID, []RefundedLine, error) {
	return t.s.PostRefund(ctx, t.tx, orderID, unitID, key, lines, at)
}

// ReversePayment is Service.ReversePayment in t's transaction.
func (t Tx) ReversePayment(ctx context.Context, orderID uuid.UUID, at time.Time) (uuid.UUID, error) {
	return t.s.ReversePayment(ctx, t.tx, orderID, at)
}

// PostRefundPayment is Service.PostRefundPayment in t's transaction.
func (t Tx) PostRefundPayment(ctx context.Context, refundID, orderID, unitID uuid.UUID, amount money.Money, providerRef string, at time.Time) (uuid.UUID, error) {
	return t.s.PostRefundPayment(ctx, t.tx, refundID, orderID, unitID, amount, providerRef, at)
}

// PostDoubleCharge is Service.PostDoubleCharge in t's transaction.
func (t Tx) PostDoubleCharge(ctx context.Context, guard Guard, chargeID, orderID, unitID uuid.UUID, amount money.Money, providerRef string, at time.Time) (bool, error) {
	return t.s.PostDoubleCharge(ctx, t.tx, guard, chargeID, orderID, unitID, amount, providerRef, at)
}

// ReverseDoubleCharge is Service.ReverseDoubleCharge in t's transaction.
func (t Tx) ReverseDoubleCharge(ctx context.Context, chargeID uuid.UUID, at time.Time) (uuid.UUID, error) {
	return t.s.ReverseDoubleCharge(ctx, t.tx, chargeID, at)
}
