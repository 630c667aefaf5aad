package demo

import (
	"context"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/app"
	"github.com/fupinmarket/fupin/internal/impact"
	"github.com/fupinmarket/fupin/internal/platform/auth"
)

// impactReceipt issues (the first time) the impact receipt of the demo's first completed order
// and returns its public page, digest included, as the QR on its PDF holds it (docs/impact.md).
func impactReceipt(ctx context.Context, a *app.App) (string, error) {
	var first struct{ ID uuid.UUID }
	if err := a.DB.WithContext(ctx).Raw(`SELECT id FROM orders_view WHERE status = 'completed' ORDER BY completed_at, id LIMIT 1`).
		Scan(&first).Error; err != nil {
		return "", err
	}
	if first.ID == uuid.Nil {
		return "", ErrPartial
	}
	i, err := a.Impact.Current(ctx, auth.Principal{Role: auth.RoleAdmin}, first.ID)
	if err != nil {
		return "", err
	}
	return impact.PublicURL(a.Config.PublicBaseURL, i), nil
}
