package procurement

import (
	"context"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/money"
)

// SimulatedProvider stands in for a payment provider: every charge succeeds at once. Its
// reference is derived from the order id, so a repeated charge of one order gives one reference.
type SimulatedProvider struct{}

// Name is recorded on each payment.
func (SimulatedProvider) Name() string { return "simulated" }

// Charge returns "SIM-<order id>".
func (SimulatedProvider) Charge(_ context.Context, orderID uuid.UUID, _ money.Money) (string, error) {
	return "SIM-" + orderID.String(), nil
}

// Return returns "SIM-RETURN-<return id>".
func (SimulatedProvider) Return(_ context.Context, returnID uuid.UUID, _ string, _ money.Money) (string, error) {
	return "SIM-RETURN-" + returnID.String(), nil
}
