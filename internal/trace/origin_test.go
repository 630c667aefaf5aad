package trace_test

import (
	"context"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/certificate"
	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/region"
	"github.com/fupinmarket/fupin/internal/trace"
)

// An unsold item of a batch made before its village was merged away keeps that village, named as
// on the day the batch was made, on its scan page and its label, although the product's origin
// moved to the successor and the township was renamed since; a batch made afterwards says the
// successor, by today's names. Before the batch fixed its origin, both pages read the successor.
func TestUnsoldItemKeepsItsBatchsOrigin(t *testing.T) {
	ctx := context.Background()
	rdb, prefix := dbtest.Redis(t)
	a := newAppOn(t, dbtest.Fresh(t), cache.New(rdb, prefix, 50*time.Millisecond)) // a merge of its own
	fixture.LoadRegions(t, a.DB)
	fx := stationIn(t, a, "")
	p := fx.product(t, a, "猕猴桃")
	old := fx.batch(t, a, p.ID, 10)
	codes, err := a.Trace.IssueCodes(ctx, fx.Operator, old.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := a.Trace.Scan(ctx, codes[0]); err != nil || v.Origin.Code != village { // cached before the merge
		t.Fatalf("scan before the merge: %+v %v", v.Origin, err)
	}

	const successor = "433124110999"
	if _, err := region.NewMerger(a.DB).Merge(ctx, fx.Admin, region.MergeRequest{Villages: []string{village},
		SuccessorCode: successor, SuccessorName: "新十八洞村"}); err != nil {
		t.Fatalf("merge: %v", err)
	}
	dbtest.Exec(t, a.DB, `UPDATE regions SET name = '双龙新镇' WHERE code = '433124110'`)
	var now string
	if err := a.DB.Raw(`SELECT origin_code FROM products WHERE id = ?`, p.ID).Scan(&now).Error; err != nil || now != successor {
		t.Fatalf("the product's origin after the merge is %q (%v), want the successor %s", now, err, successor)
	}

	wantOld := trace.OriginView{Code: village, FullName: "湖南省湘西土家族苗族自治州花垣县双龙镇十八洞村"}
	for _, code := range codes { // one cached before the merge, one never scanned
		v, err := a.Trace.Scan(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		if v.Origin.Code != wantOld.Code || v.Origin.FullName != wantOld.FullName || len(v.Origin.Path) != 5 ||
			v.Origin.Path[4] != (trace.RegionName{Code: village, Name: "十八洞村", Level: 5}) {
			t.Errorf("unsold %s of the batch made before the merge shows origin %+v, want %s %s", code, v.Origin, wantOld.Code, wantOld.FullName)
		}
	}
	if got := labelOrigins(t, a.Trace, fx.Operator, old); len(got) != 2 || got[0] != "花垣县双龙镇十八洞村" || got[1] != got[0] {
		t.Errorf("labels of the batch made before the merge say %q, want 花垣县双龙镇十八洞村", got)
	}

	// A certificate correcting the batch's, issued after the merge, names the batch's village too.
	var serial string
	if err := a.DB.Raw(`SELECT serial FROM certificates WHERE batch_id = ?`, old.ID).Scan(&serial).Error; err != nil || serial == "" {
		t.Fatalf("the batch's certificate: %q %v", serial, err)
	}
	fixed, err := a.Certificates.Issue(ctx, fx.Operator, old.ID, certificate.IssueRequest{Quantity: "10", QuantityUnit: "箱",
		ContactName: "石站长", ContactPhone: "0743-7221234", Basis: []certificate.Basis{certificate.SelfTest},
		Commitments: []certificate.Commitment{certificate.NoBannedInputs, certificate.ResiduesWithinLimits, certificate.Truthful},
		Supersedes:  serial, Reason: "更正联系人"})
	if err != nil || fixed.OriginCode != village || fixed.OriginName != wantOld.FullName {
		t.Errorf("certificate issued after the merge: origin %s %s (%v), want %s %s", fixed.OriginCode, fixed.OriginName, err,
			village, wantOld.FullName)
	}

	later := fx.batch(t, a, p.ID, 5)
	laterCodes, err := a.Trace.IssueCodes(ctx, fx.Operator, later.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := a.Trace.Scan(ctx, laterCodes[0]); err != nil || v.Origin.Code != successor ||
		v.Origin.FullName != "湖南省湘西土家族苗族自治州花垣县双龙新镇新十八洞村" {
		t.Errorf("a batch made after the merge shows %+v (%v), want the successor by today's names", v.Origin, err)
	}
	if got := labelOrigins(t, a.Trace, fx.Operator, later); len(got) != 1 || got[0] != "花垣县双龙新镇新十八洞村" {
		t.Errorf("labels of the batch made after the merge say %q", got)
	}

	// History never moves: the database refuses to change a batch's origin.
	if err := a.DB.Exec(`UPDATE batches SET origin_code = ? WHERE id = ?`, successor, old.ID).Error; err == nil {
		t.Error("a batch's origin was changed")
	}
}

// labelOrigins is the origin printed on each label of a batch, in code order.
func labelOrigins(t *testing.T, svc *trace.Service, p auth.Principal, b trace.Batch) []string {
	t.Helper()
	var out []string
	err := svc.LabelItems(context.Background(), p, b.ID, nil, func(next func() (trace.LabelItem, bool, error)) error {
		for {
			it, ok, err := next()
			if err != nil || !ok {
				return err
			}
			out = append(out, it.Origin)
		}
	})
	if err != nil {
		t.Fatalf("label items: %v", err)
	}
	return out
}
