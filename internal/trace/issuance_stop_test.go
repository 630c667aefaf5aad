package trace_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/app"
	"github.com/fupinmarket/fupin/internal/trace"
)

// waitProgress waits until a job has reported progress: its COPY is running, the batch locked.
func waitProgress(t *testing.T, a *app.App, id uuid.UUID) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var j struct {
			Progress int
			Status   string
		}
		a.DB.Raw(`SELECT progress, status FROM code_issuances WHERE id = ?`, id).Scan(&j)
		if j.Status != string(trace.IssuanceRunning) && j.Status != string(trace.IssuancePending) {
			t.Fatalf("the job is %s before it could be caught running", j.Status)
		}
		if j.Progress > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the job reported no progress within a minute")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// A replay of a job's request (same Idempotency-Key) while the job runs answers at once, 202 with
// the job, like the first answer; it does not wait for the job's COPY to end.
func TestIssueReplayWhileJobRuns(t *testing.T) {
	e := newEnv(t)
	fx := newStation(t, e.a, "")
	p := fx.product(t, e.a, "重放测试椪柑")
	const n = 200_000
	b := fx.batch(t, e.a, p.ID, n)
	authz := bearer(t, e.a, fx.Operator)
	path := "/api/v1/batches/" + b.ID.String() + "/codes"
	rec := send(t, e.a.Router, http.MethodPost, path, `{"count":200000}`, "Authorization", authz, "Idempotency-Key", "replay-1")
	if rec.Code != http.StatusAccepted {
		t.Fatalf("first answer: %d %s", rec.Code, rec.Body)
	}
	var first issuanceResp
	_ = json.Unmarshal(rec.Body.Bytes(), &first)
	waitProgress(t, e.a, first.Issuance.ID)
	start := time.Now()
	rec = send(t, e.a.Router, http.MethodPost, path, `{"count":200000}`, "Authorization", authz, "Idempotency-Key", "replay-1")
	took := time.Since(start)
	var again issuanceResp
	_ = json.Unmarshal(rec.Body.Bytes(), &again)
	if rec.Code != http.StatusAccepted || again.Issuance.ID != first.Issuance.ID || rec.Header().Get("Idempotency-Replayed") != "true" ||
		rec.Header().Get("Location") != first.Issuance.StatusURL {
		t.Errorf("replay while the job runs: %d after %v, %.300s; want 202 with job %s", rec.Code, took, rec.Body, first.Issuance.ID)
	}
	t.Logf("replay answered %d in %v", rec.Code, took)
	if job := waitIssuance(t, e.a, fx.Operator, first.Issuance.ID); job.Status != trace.IssuanceDone {
		t.Fatalf("job %+v", job)
	}
}

// A graceful stop interrupting an issuance job releases it: the next start runs it at once (not
// after the two-minute lease), and it issues exactly its count.
func TestStopReleasesIssuanceJob(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fx := newStation(t, e.a, "")
	p := fx.product(t, e.a, "停机发码测试椪柑")
	const n = 200_000
	b := fx.batch(t, e.a, p.ID, n)
	cfg := trace.Config{CacheTTL: time.Minute, MaxIssue: n, Settings: trace.Settings{IssuePoll: time.Hour}}
	before := trace.NewService(e.a.DB, e.a.Cache, e.a.Households, e.a.ItemShares, cfg)
	job, _, err := before.RequestIssue(ctx, fx.Operator, b.ID, n, "stop-1")
	if err != nil {
		t.Fatal(err)
	}
	before.Start()
	before.StartIssue(job.ID)
	waitProgress(t, e.a, job.ID)
	stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := before.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	var j struct {
		Status     string
		LeaseUntil *time.Time
	}
	e.a.DB.Raw(`SELECT status, lease_until FROM code_issuances WHERE id = ?`, job.ID).Scan(&j)
	if j.Status != string(trace.IssuancePending) || j.LeaseUntil != nil {
		t.Errorf("after a graceful stop the job is %s, lease until %v; want pending, no lease", j.Status, j.LeaseUntil)
	}
	if cnt, issued := codeRows(t, e.a.DB, b.ID); cnt != 0 || issued != 0 {
		t.Fatalf("after the stop: %d codes, codes_issued %d, want none", cnt, issued)
	}
	// The next start (its issuer looks at once, then hourly) finishes it well within the lease.
	after := trace.NewService(e.a.DB, e.a.Cache, e.a.Households, e.a.ItemShares, cfg)
	after.Start()
	t.Cleanup(func() { _ = after.Stop(context.Background()) })
	deadline := time.Now().Add(90 * time.Second)
	for {
		e.a.DB.Raw(`SELECT status FROM code_issuances WHERE id = ?`, job.ID).Scan(&j.Status)
		if j.Status == string(trace.IssuanceDone) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("90 s after the restart the job is %s: it waits for its lease", j.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if cnt, issued := codeRows(t, e.a.DB, b.ID); cnt != n || issued != n {
		t.Fatalf("%d codes, codes_issued %d, want %d", cnt, issued, n)
	}
}
