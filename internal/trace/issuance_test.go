package trace_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/app"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/trace"
)

// bearer is an Authorization header value for a new session of p (an existing account).
func bearer(t *testing.T, a *app.App, p auth.Principal) string {
	t.Helper()
	tok, _, err := a.Users.Start(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + tok
}

// send sends a request with a JSON body through the router.
func send(t *testing.T, h http.Handler, method, target, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

type issuanceResp struct {
	BatchID  uuid.UUID `json:"batch_id"`
	Count    int       `json:"count"`
	Codes    []struct{ Code, Display, URL string }
	Issuance struct {
		ID        uuid.UUID `json:"id"`
		Status    string    `json:"status"`
		Progress  int       `json:"progress"`
		Count     int       `json:"count"`
		CodesURL  string    `json:"codes_url"`
		StatusURL string    `json:"status_url"`
	} `json:"issuance"`
}

func TestIssueIdempotencyKey(t *testing.T) {
	e := newEnv(t)
	fx := newStation(t, e.a, "")
	p := fx.product(t, e.a, "幂等测试椪柑")
	b := fx.batch(t, e.a, p.ID, 100)
	authz := bearer(t, e.a, fx.Operator)
	path := "/api/v1/batches/" + b.ID.String() + "/codes"

	first := send(t, e.a.Router, http.MethodPost, path, `{"count":30}`, "Authorization", authz, "Idempotency-Key", "k-1")
	if first.Code != http.StatusCreated {
		t.Fatalf("first issue: %d %s", first.Code, first.Body)
	}
	again := send(t, e.a.Router, http.MethodPost, path, `{"count":30}`, "Authorization", authz, "Idempotency-Key", "k-1")
	if again.Code != http.StatusCreated {
		t.Fatalf("repeat: %d %s", again.Code, again.Body)
	}
	var r1, r2 issuanceResp
	_ = json.Unmarshal(first.Body.Bytes(), &r1)
	_ = json.Unmarshal(again.Body.Bytes(), &r2)
	if len(r1.Codes) != 30 || r1.Issuance.ID != r2.Issuance.ID || len(r2.Codes) != 30 {
		t.Fatalf("first %d codes (job %s), repeat %d codes (job %s)", len(r1.Codes), r1.Issuance.ID, len(r2.Codes), r2.Issuance.ID)
	}
	for i := range r1.Codes {
		if r1.Codes[i].Code != r2.Codes[i].Code {
			t.Fatalf("repeat returned other codes: %v vs %v", r1.Codes[i], r2.Codes[i])
		}
		if r1.Codes[i].URL != e.a.ScanURL(r1.Codes[i].Code) {
			t.Errorf("code URL %q", r1.Codes[i].URL)
		}
	}
	if n, issued := codeRows(t, e.a.DB, b.ID); n != 30 || issued != 30 {
		t.Fatalf("after a repeated request: %d codes, codes_issued %d, want 30", n, issued)
	}

	// The same key for another request is a conflict naming the header; nothing is issued.
	rec := send(t, e.a.Router, http.MethodPost, path, `{"count":31}`, "Authorization", authz, "Idempotency-Key", "k-1")
	pd := decodeProblem(t, rec.Body.Bytes(), rec.Header(), http.StatusConflict)
	if len(pd.Errors) != 1 || pd.Errors[0].Field != "Idempotency-Key" {
		t.Errorf("key reuse: errors %+v", pd.Errors)
	}
	// Beyond the quantity: 409 naming count, with the batch's figures.
	rec = send(t, e.a.Router, http.MethodPost, path, `{"count":71}`, "Authorization", authz, "Idempotency-Key", "k-2")
	var doc map[string]any
	pd = decodeProblem(t, rec.Body.Bytes(), rec.Header(), http.StatusConflict)
	_ = json.Unmarshal(rec.Body.Bytes(), &doc)
	if len(pd.Errors) != 1 || pd.Errors[0].Field != "count" || !strings.Contains(pd.Errors[0].Reason, "at most 70 more") ||
		doc["quantity"] != float64(100) || doc["codes_issued"] != float64(30) {
		t.Errorf("beyond quantity: %s", rec.Body)
	}
	if n, issued := codeRows(t, e.a.DB, b.ID); n != 30 || issued != 30 {
		t.Fatalf("after refused requests: %d codes, codes_issued %d, want 30", n, issued)
	}
	// Bad bodies name the field.
	for _, body := range []string{`{"count":0}`, `{"count":-5}`, `{"count":"ten"}`, `{}`} {
		rec := send(t, e.a.Router, http.MethodPost, path, body, "Authorization", authz)
		if rec.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s", body, rec.Code, rec.Body)
		}
	}
	// Another station sees neither the job nor its codes.
	other := newStation(t, e.a, "")
	rec = get(t, e.a.Router, r1.Issuance.StatusURL, "Authorization", bearer(t, e.a, other.Operator))
	if rec.Code != http.StatusNotFound {
		t.Errorf("another station reads the job: %d", rec.Code)
	}
}

// waitIssuance polls the job until it leaves pending/running (no timing is asserted: the deadline
// only keeps a broken runner from hanging the test).
func waitIssuance(t *testing.T, a *app.App, p auth.Principal, id uuid.UUID) trace.Issuance {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		job, err := a.Trace.Issuance(context.Background(), p, id)
		if err != nil {
			t.Fatal(err)
		}
		if job.Status == trace.IssuanceDone || job.Status == trace.IssuanceFailed {
			return job
		}
		if time.Now().After(deadline) {
			t.Fatalf("issuance %s still %s at %d/%d", id, job.Status, job.Progress, job.Count)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A count above ISSUE_SYNC_MAX becomes a job: 202, progress, then every code at once, fetched as CSV.
func TestIssueLargeAsJobWithCSV(t *testing.T) {
	e := newEnv(t)
	fx := newStation(t, e.a, "")
	p := fx.product(t, e.a, "批量测试椪柑")
	const n = 25_000 // above the default ISSUE_SYNC_MAX of 10000
	b := fx.batch(t, e.a, p.ID, n)
	authz := bearer(t, e.a, fx.Operator)
	rec := send(t, e.a.Router, http.MethodPost, "/api/v1/batches/"+b.ID.String()+"/codes", `{"count":25000}`,
		"Authorization", authz, "Idempotency-Key", "big-1")
	if rec.Code != http.StatusAccepted {
		t.Fatalf("large issue: %d %s", rec.Code, rec.Body)
	}
	var r issuanceResp
	_ = json.Unmarshal(rec.Body.Bytes(), &r)
	if r.Issuance.Count != n || len(r.Codes) != 0 || rec.Header().Get("Location") != r.Issuance.StatusURL {
		t.Fatalf("accepted body %s", rec.Body)
	}
	job := waitIssuance(t, e.a, fx.Operator, r.Issuance.ID)
	if job.Status != trace.IssuanceDone || job.Progress != n {
		t.Fatalf("job %+v", job)
	}
	// Repeating the request after it is done returns the job, issues nothing.
	rec = send(t, e.a.Router, http.MethodPost, "/api/v1/batches/"+b.ID.String()+"/codes", `{"count":25000}`,
		"Authorization", authz, "Idempotency-Key", "big-1")
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), r.Issuance.ID.String()) {
		t.Fatalf("repeat of a done job: %d %.300s", rec.Code, rec.Body)
	}
	if cnt, issued := codeRows(t, e.a.DB, b.ID); cnt != n || issued != n {
		t.Fatalf("%d codes, codes_issued %d, want %d", cnt, issued, n)
	}
	rec = get(t, e.a.Router, r.Issuance.CodesURL, "Authorization", authz)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV: %d %s", rec.Code, rec.Header())
	}
	sc := bufio.NewScanner(bytes.NewReader(rec.Body.Bytes()))
	sc.Scan()
	if sc.Text() != "code,display,url" {
		t.Fatalf("CSV header %q", sc.Text())
	}
	seen := map[string]bool{}
	for sc.Scan() {
		f := strings.Split(sc.Text(), ",")
		code, ok := trace.ParseCode(f[0])
		if len(f) != 3 || !ok || f[1] != trace.FormatCode(code) || f[2] != e.a.ScanURL(code) || seen[code] {
			t.Fatalf("CSV row %q", sc.Text())
		}
		seen[code] = true
	}
	if len(seen) != n {
		t.Fatalf("CSV has %d codes, want %d", len(seen), n)
	}
	var inDB int64
	e.a.DB.Raw(`SELECT count(*) FROM trace_codes WHERE issuance_id = ?`, r.Issuance.ID).Scan(&inDB)
	if inDB != n {
		t.Fatalf("%d codes carry the job id, want %d", inDB, n)
	}
}

// A runner that dies mid-COPY (its context cancelled, as in a restart) leaves no code behind; the
// job is taken over once its lease lapses and issues exactly its count.
func TestIssueJobRestartLeavesNoPartialBatch(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fx := newStation(t, e.a, "")
	p := fx.product(t, e.a, "重启测试椪柑")
	const n = 120_000
	b := fx.batch(t, e.a, p.ID, n)
	job, _, err := e.a.Trace.RequestIssue(ctx, fx.Operator, b.ID, n, "restart-1")
	if err != nil {
		t.Fatal(err)
	}
	// While the job is open its count is reserved: another request cannot overbook the batch.
	_, _, err = e.a.Trace.RequestIssue(ctx, fx.Operator, b.ID, 1, "")
	wantKind(t, err, apperr.KindConflict, "one code beyond an open job's reservation")
	// Cancel the run once it has reported progress (rows are flowing into the COPY).
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { _, err := e.a.Trace.RunIssue(runCtx, job.ID, false); done <- err }()
	for {
		var progress int
		e.a.DB.Raw(`SELECT progress FROM code_issuances WHERE id = ?`, job.ID).Scan(&progress)
		if progress > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the job ended before it could be interrupted: %v", err)
		default:
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the interrupted run reports success")
	}
	if cnt, issued := codeRows(t, e.a.DB, b.ID); cnt != 0 || issued != 0 {
		t.Fatalf("after an interrupted run: %d codes, codes_issued %d, want none", cnt, issued)
	}
	// A crash releases nothing: the job stays leased by its dead runner, and nobody else may run it yet.
	e.a.DB.Exec(`UPDATE code_issuances SET status = 'running', lease_until = now() + interval '2 minutes' WHERE id = ?`, job.ID)
	if _, err := e.a.Trace.RunIssue(ctx, job.ID, false); err != trace.ErrJobBusy {
		t.Fatalf("run of a leased job: %v, want ErrJobBusy", err)
	}
	// The lease lapses; the issuer takes it over.
	e.a.DB.Exec(`UPDATE code_issuances SET lease_until = now() - interval '1 second' WHERE id = ?`, job.ID)
	if _, err := e.a.Trace.RunIssue(ctx, job.ID, false); err != nil {
		t.Fatal(err)
	}
	got := waitIssuance(t, e.a, fx.Operator, job.ID)
	if got.Status != trace.IssuanceDone || got.Attempts != 2 {
		t.Fatalf("job %+v, want done after 2 attempts", got)
	}
	if cnt, issued := codeRows(t, e.a.DB, b.ID); cnt != n || issued != n {
		t.Fatalf("%d codes, codes_issued %d, want %d", cnt, issued, n)
	}
	_, _, err = e.a.Trace.RequestIssue(ctx, fx.Operator, b.ID, 1, "")
	wantKind(t, err, apperr.KindConflict, "one code beyond a full batch")
}

// A registered IssueCheck sees the batch, its product and the total after the request, inside the
// reserving transaction; its refusal is the caller's answer and no job is recorded.
func TestIssueCheckRefusesAndRecordsNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fx := newStation(t, e.a, "")
	p := fx.product(t, e.a, "检查测试椪柑")
	b := fx.batch(t, e.a, p.ID, 10)
	if _, err := e.a.Trace.IssueCodes(ctx, fx.Operator, b.ID, 3); err != nil {
		t.Fatal(err)
	}
	type seen struct {
		batch, product uuid.UUID
		after          int
	}
	var got []seen
	e.a.Trace.AddIssueCheck(func(_ context.Context, tx *gorm.DB, batchID, productID uuid.UUID, after int) error {
		got = append(got, seen{batchID, productID, after})
		if after > 5 {
			return apperr.ConflictField("count", "at most 5 in this test")
		}
		return nil
	})
	_, _, err := e.a.Trace.RequestIssue(ctx, fx.Operator, b.ID, 4, "check-1")
	wantKind(t, err, apperr.KindConflict, "a request the check refuses")
	var jobs int64
	e.a.DB.Raw(`SELECT count(*) FROM code_issuances WHERE batch_id = ?`, b.ID).Scan(&jobs)
	if jobs != 1 { // the first IssueCodes' job only
		t.Fatalf("%d jobs recorded, want 1: a refused request left a job", jobs)
	}
	if _, err := e.a.Trace.IssueCodes(ctx, fx.Operator, b.ID, 2); err != nil {
		t.Fatalf("a request the check allows: %v", err)
	}
	want := []seen{{b.ID, p.ID, 7}, {b.ID, p.ID, 5}}
	if !slices.Equal(got, want) {
		t.Fatalf("checks saw %+v, want %+v", got, want)
	}
}
