package procurement

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
)

// expiryBatch bounds the orders one pass looks at, so a pass stays short after a long outage;
// the next pass takes the rest.
const expiryBatch = 200

// ExpireUnpaid is one pass of the unpaid-order expiry: every order still placed (unpaid) whose
// placed_at is older than timeout is cancelled and its stock released, each in its own
// transaction (the same as Cancel). It returns how many it cancelled. It keeps no state of its
// own, so it is safe to run after a restart, on several replicas at once (the order row is locked
// and its status re-checked, and an order paid meanwhile is left alone) or by hand.
func (s *Orders) ExpireUnpaid(ctx context.Context, timeout time.Duration) (int, error) {
	cutoff := s.now().Add(-timeout)
	admin := auth.Principal{Role: auth.RoleAdmin}
	n := 0
	for {
		var ids []uuid.UUID
		err := s.db.WithContext(ctx).Model(&Order{}).Where("status = ? AND placed_at < ?", StatusPlaced, cutoff).
			Order("placed_at").Limit(expiryBatch).Pluck("id", &ids).Error
		if err != nil {
			return n, apperr.DB(err, "order")
		}
		for _, id := range ids {
			_, err := s.update(ctx, admin, id, func(u *orderTx, o *Order) error {
				if o.May(ActExpire) != nil {
					return errReplay // paid or cancelled since we looked: nothing to do
				}
				return s.cancel(ctx, u, o, ActExpire)
			})
			switch {
			case err == nil:
				n++
			case errors.Is(err, errReplay):
			default:
				return n, err
			}
		}
		if len(ids) < expiryBatch {
			return n, nil
		}
	}
}

// RunExpiry runs ExpireUnpaid every interval until ctx ends, logging what it cancels and any
// failure (a failed pass is retried at the next tick: the truth is in the database).
func (s *Orders) RunExpiry(ctx context.Context, timeout, interval time.Duration, log *slog.Logger) {
	every(ctx, interval, func() {
		n, err := s.ExpireUnpaid(ctx, timeout)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("order expiry pass failed", "err", err)
		case n > 0:
			log.Info("cancelled unpaid orders", "count", n, "older_than", timeout.String())
		}
	})
}
