package demo

import (
	"context"
	"fmt"
	"strconv"

	"github.com/fupinmarket/fupin/internal/app"
	"github.com/fupinmarket/fupin/internal/certificate"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/trace"
)

// certify issues the batch's 承诺达标合格证 when its product's category is covered (the demo's
// kiwifruit, 椪柑, 稻花鱼 and 土鸡蛋: 农业农村部令2025年第4号), as its station must before codes, so
// that their scan pages show it. The station's contact is the demo's own (a 0743 landline: 湘西).
func certify(ctx context.Context, a *app.App, admin auth.Principal, b trace.Batch) error {
	list, err := a.Certificates.ForBatch(ctx, admin, b.ID)
	if err != nil || !list.Covered || len(list.Certificates) > 0 {
		return err
	}
	p, err := a.Catalog.Get(ctx, admin, b.ProductID)
	if err != nil {
		return err
	}
	_, err = a.Certificates.Issue(ctx, admin, b.ID, certificate.IssueRequest{
		Quantity: certificate.Quantity(strconv.Itoa(b.Quantity)), QuantityUnit: p.Unit, ContactName: "石站长", ContactPhone: "0743-7221234",
		Commitments: []certificate.Commitment{certificate.NoBannedInputs, certificate.ResiduesWithinLimits, certificate.Truthful},
		Basis:       []certificate.Basis{certificate.SelfTest, certificate.InternalControl}})
	if err != nil {
		return fmt.Errorf("certificate of batch %s: %w", b.BatchNo, err)
	}
	return nil
}
