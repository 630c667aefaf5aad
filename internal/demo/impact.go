package demo

import (
	"context"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/app"
	"github.com/fupinmarket/fupin/internal/impact"
	"github.com/fupinmarket/fupin/internal/platform/auth"
)

// impactReceipt issues (the first time) the impact receipts of the demo's completed orders, the
// purchase-model rice order's among them, so that `fupin verify` checks every kind, and returns
// the public page of the first one's, digest included, as the QR on its PDF holds it
// (docs/impact.md).
func impactReceipt(ctx context.Context, a *app.App) (string, error) {
	var completed []uuid.UUID
	if err := a.DB.WithContext(ctx).Raw(`SELECT id FROM orders_view WHERE status = 'completed' ORDER BY completed_at, id`).
		Scan(&completed).Error; err != nil {
		return "", err
	}
	if len(completed) == 0 {
		return "", ErrPartial
	}
	var first impact.Issued
	for n, id := range completed {
		i, err := a.Impact.Current(ctx, auth.Principal{Role: auth.RoleAdmin}, id)
		if err != nil {
			return "", err
		}
		if n == 0 {
			first = i
		}
	}
	return impact.PublicURL(a.Config.PublicBaseURL, first), nil
}
