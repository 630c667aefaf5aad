package trace_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/trace"
)

type eventDoc struct {
	ID              string `json:"id"`
	BizStep         string `json:"biz_step"`
	Disposition     string `json:"disposition"`
	Place           string `json:"place"`
	Reason          string `json:"reason"`
	DeclaredInError bool   `json:"declared_in_error"`
}

type lifeDoc struct {
	Verdict    string     `json:"verdict"`
	Status     string     `json:"status"`
	VoidReason string     `json:"void_reason"`
	Events     []eventDoc `json:"events"`
}

func scanDoc(t *testing.T, e env, code string) lifeDoc {
	t.Helper()
	rec := get(t, e.a.Router, "/api/v1/trace/"+code)
	if rec.Code != http.StatusOK {
		t.Fatalf("scan %s: %d %s", code, rec.Code, rec.Body)
	}
	var d lifeDoc
	if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestLifecycleTransitions(t *testing.T) {
	e := newEnv(t)
	fx, code := issuedCode(t, e.a, "生命周期测试腊肉")
	authz := bearer(t, e.a, fx.Operator)
	post := func(path, body string) (int, map[string]any) {
		rec := send(t, e.a.Router, http.MethodPost, path, body, "Authorization", authz)
		var m map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &m)
		return rec.Code, m
	}
	if d := scanDoc(t, e, code); d.Status != "issued" || d.Verdict != "genuine" {
		t.Fatalf("fresh code: %+v", d)
	}
	if st, m := post("/api/v1/codes/"+code+"/activate", ""); st != http.StatusOK || m["status"] != "activated" {
		t.Fatalf("activate: %d %v", st, m)
	}
	// The cached view was dropped: the scan shows the new state and the packing event.
	d := scanDoc(t, e, code)
	if d.Status != "activated" || d.Events[len(d.Events)-1].BizStep != "packing" || d.Events[len(d.Events)-1].Place != fx.Name {
		t.Fatalf("after activation: %+v", d)
	}
	if st, m := post("/api/v1/codes/"+code+"/activate", ""); st != http.StatusConflict || m["current_status"] != "activated" {
		t.Fatalf("activate twice: %d %v, want 409 carrying the status", st, m)
	}
	for _, body := range []string{`{"reason":"broken"}`, `{}`, `{"reason":"other"}`, `{"reason":"damaged","note":"` + strings.Repeat("坏", 501) + `"}`} {
		if st, m := post("/api/v1/codes/"+code+"/void", body); st != http.StatusUnprocessableEntity {
			t.Errorf("void %s: %d %v, want 422", body, st, m)
		}
	}
	if d := scanDoc(t, e, code); d.Status != "activated" {
		t.Fatalf("refused voids changed the code: %+v", d)
	}
	// Another station cannot touch it.
	other := newStation(t, e.a, "")
	rec := send(t, e.a.Router, http.MethodPost, "/api/v1/codes/"+code+"/void", `{"reason":"damaged"}`,
		"Authorization", bearer(t, e.a, other.Operator))
	if rec.Code != http.StatusNotFound {
		t.Errorf("another station voids: %d", rec.Code)
	}
	st, m := post("/api/v1/codes/"+code+"/void", `{"reason":"damaged","note":"<b>箱子压坏</b>"}`)
	if st != http.StatusOK || m["status"] != "void" || m["void_reason"] != "damaged" {
		t.Fatalf("void: %d %v", st, m)
	}
	d = scanDoc(t, e, code)
	last := d.Events[len(d.Events)-1]
	if d.Verdict != "void" || d.VoidReason != "damaged" || last.BizStep != "decommissioning" || last.Disposition != "damaged" ||
		!strings.Contains(last.Reason, "箱子压坏") {
		t.Fatalf("after void: %+v", d)
	}
	page := get(t, e.a.Router, "/t/"+code).Body.String()
	if !strings.Contains(page, `data-verdict="void"`) || strings.Contains(page, "<b>箱子") {
		t.Errorf("void page: verdict missing or the note not escaped")
	}
	for _, path := range []string{"/activate", "/void"} {
		st, m := post("/api/v1/codes/"+code+path, `{"reason":"lost"}`)
		if path == "/activate" {
			st, m = post("/api/v1/codes/"+code+path, "")
		}
		if st != http.StatusConflict || m["current_status"] != "void" {
			t.Errorf("%s of a void code: %d %v, want 409 with status void", path, st, m)
		}
	}
	if st, _ := post("/api/v1/codes/"+trace.NewCode()+"/activate", ""); st != http.StatusNotFound {
		t.Errorf("activate an unknown code: %d", st)
	}
	if st, _ := post("/api/v1/codes/NOPE/activate", ""); st != http.StatusUnprocessableEntity {
		t.Errorf("activate a malformed code: %d", st)
	}

	// Corrections are new events: declare the void event in error.
	voidEvent := last.ID
	st, m = post("/api/v1/trace-events/"+voidEvent+"/error-declaration", `{"reason":"录错了批次"}`)
	if st != http.StatusCreated || m["corrects"] != voidEvent {
		t.Fatalf("error declaration: %d %v", st, m)
	}
	d = scanDoc(t, e, code)
	last = d.Events[len(d.Events)-1]
	if last.ID != voidEvent || !last.DeclaredInError || last.Reason != "录错了批次" {
		t.Fatalf("timeline after the declaration: %+v", d.Events)
	}
	if st, _ := post("/api/v1/trace-events/"+voidEvent+"/error-declaration", `{"reason":"again"}`); st != http.StatusConflict {
		t.Errorf("second declaration: %d, want 409", st)
	}
	if st, _ := post("/api/v1/trace-events/"+m["id"].(string)+"/error-declaration", `{"reason":"x"}`); st != http.StatusConflict {
		t.Errorf("declaring a declaration: %d, want 409", st)
	}
	if st, _ := post("/api/v1/trace-events/"+voidEvent+"/error-declaration", `{"reason":""}`); st != http.StatusUnprocessableEntity {
		t.Errorf("declaration without a reason: %d, want 422", st)
	}
	// Events are append-only in the database itself.
	if err := e.a.DB.Exec(`UPDATE trace_events SET reason = 'edited' WHERE id = ?`, voidEvent).Error; err == nil {
		t.Error("an event was edited")
	}
	if err := e.a.DB.Exec(`DELETE FROM trace_events WHERE id = ?`, voidEvent).Error; err == nil {
		t.Error("an event was deleted")
	}
}

func TestRecallBatch(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fx := newStation(t, e.a, "")
	p := fx.product(t, e.a, "召回测试蜂蜜")
	b := fx.batch(t, e.a, p.ID, 10)
	codes, err := e.a.Trace.IssueCodes(ctx, fx.Operator, b.ID, 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.Trace.Void(ctx, fx.Operator, codes[0], trace.VoidRequest{Reason: trace.VoidDamaged}); err != nil {
		t.Fatal(err)
	}
	// A second replica on the same Redis, with views cached before the recall.
	replica := trace.NewService(e.a.DB, e.a.Cache, e.a.Households, e.a.ItemShares, trace.Config{CacheTTL: time.Minute, MaxIssue: 10})
	for _, c := range codes {
		if _, err := replica.Resolve(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	_, err = e.a.Trace.RecallBatch(ctx, fx.Operator, b.ID, trace.RecallRequest{})
	wantKind(t, err, apperr.KindInvalid, "recall without a note")
	_, err = e.a.Trace.RecallBatch(ctx, newStation(t, e.a, "").Operator, b.ID, trace.RecallRequest{Note: "x"})
	wantKind(t, err, apperr.KindNotFound, "recall by another station")

	res, err := e.a.Trace.RecallBatch(ctx, fx.Operator, b.ID, trace.RecallRequest{Note: "农残抽检不合格"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Voided != 3 {
		t.Errorf("voided %d, want 3 (one was void already)", res.Voided)
	}
	var reasons []string
	e.a.DB.Raw(`SELECT void_reason FROM trace_codes WHERE batch_id = ? ORDER BY void_reason`, b.ID).Scan(&reasons)
	if strings.Join(reasons, ",") != "damaged,recalled,recalled,recalled" {
		t.Errorf("void reasons %v", reasons)
	}
	// This replica sees it at once; the other once it refreshes the epoch (every flush interval).
	for _, c := range codes[1:] {
		v, err := e.a.Trace.Resolve(ctx, c)
		if err != nil || v.Verdict != trace.VerdictVoid || v.VoidReason != "recalled" {
			t.Fatalf("after recall: %+v %v", v, err)
		}
		found := false
		for _, ev := range v.Events {
			found = found || (ev.BizStep == trace.StepHolding && ev.Disposition == trace.DispRecalled && strings.Contains(ev.Reason, "农残"))
		}
		if !found {
			t.Errorf("timeline lacks the recall: %+v", v.Events)
		}
	}
	if _, err := replica.RefreshEpoch(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range codes {
		if v, err := replica.Resolve(ctx, c); err != nil || v.Verdict != trace.VerdictVoid {
			t.Fatalf("replica after refresh: %+v %v", v.Verdict, err)
		}
	}
	_, err = e.a.Trace.RecallBatch(ctx, fx.Operator, b.ID, trace.RecallRequest{Note: "again"})
	wantKind(t, err, apperr.KindConflict, "recall twice")
}

// A change made while Redis is down must not leave a stale view behind once Redis returns.
func TestChangeWhileRedisDownInvalidates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fx, code := issuedCode(t, e.a, "断缓存测试猕猴桃")
	if _, err := e.a.Trace.Resolve(ctx, code); err != nil { // cached in the live Redis
		t.Fatal(err)
	}
	dead := dbtest.DeadRedis(t)
	down := newApp(t, dead)
	if _, err := down.Trace.Activate(ctx, fx.Operator, code); err != nil {
		t.Fatal(err)
	}
	// The first app (Redis fine all along) refreshes its epoch as its background loop would.
	if _, err := e.a.Trace.RefreshEpoch(ctx); err != nil {
		t.Fatal(err)
	}
	v, err := e.a.Trace.Resolve(ctx, code)
	if err != nil || v.Status != trace.StatusActivated {
		t.Fatalf("after a change made with Redis down: status %s, %v; want activated", v.Status, err)
	}

	// A product renamed by another feature (a plain UPDATE) bumps the epoch through the trigger.
	if err := e.a.DB.Exec(`UPDATE products SET name = '改名猕猴桃' WHERE station_id = ?`, fx.ID).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.Trace.RefreshEpoch(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _ := e.a.Trace.Resolve(ctx, code); v.Product.Name != "改名猕猴桃" {
		t.Errorf("after a rename: %q", v.Product.Name)
	}
	// Stock moves (every order) do not.
	before, _ := e.a.Trace.RefreshEpoch(ctx)
	e.a.DB.Exec(`UPDATE products SET stock = stock + 1 WHERE station_id = ?`, fx.ID)
	if after, _ := e.a.Trace.RefreshEpoch(ctx); after != before {
		t.Errorf("a stock change bumped the epoch %d → %d", before, after)
	}
}
