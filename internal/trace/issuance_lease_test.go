package trace_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/trace"
)

// A run whose lease lapsed while it waited (for the batch, or for a connection to write its
// progress on, the pool taken) and a run that took the job over meanwhile issue its codes once,
// not twice: whichever gets the batch second finds the job finished or no longer its own.
func TestIssueJobTakenOverWhileWaitingIssuesOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fx := newStation(t, e.a, "")
	p := fx.product(t, e.a, "租约测试椪柑")
	const n = 10
	b := fx.batch(t, e.a, p.ID, 2*n) // room for the job twice: a second run would not be refused
	job, _, err := e.a.Trace.RequestIssue(ctx, fx.Operator, b.ID, n, "lease-1")
	if err != nil {
		t.Fatal(err)
	}
	hold := e.a.DB.Begin() // the batch, held as another transaction (a COPY of another job) would
	if err := hold.Exec(`SELECT 1 FROM batches WHERE id = ? FOR UPDATE`, b.ID).Error; err != nil {
		t.Fatal(err)
	}
	claimed := func(attempts int) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			var got int
			e.a.DB.Raw(`SELECT attempts FROM code_issuances WHERE id = ? AND status = 'running'`, job.ID).Scan(&got)
			if got == attempts {
				return
			}
			if time.Now().After(deadline) {
				hold.Rollback()
				t.Fatalf("the job was not claimed a %dth time", attempts)
			}
		}
	}
	errs := make(chan error, 2)
	// The job is small: RequestIssue recorded it claimed, for its caller to run (as a POST …/codes does).
	claimed(1)
	go func() { _, err := trace.RunClaimed(e.a.Trace, ctx, job, false); errs <- err }()
	// Its run waits for the batch; its lease lapses; the issuer takes it over.
	e.a.DB.Exec(`UPDATE code_issuances SET lease_until = now() - interval '1 second' WHERE id = ?`, job.ID)
	go func() { _, err := e.a.Trace.RunIssue(ctx, job.ID, false); errs <- err }()
	claimed(2) // taken over; the second run waits for the batch too
	if err := hold.Rollback().Error; err != nil {
		t.Fatal(err)
	}
	var ok, busy int
	for range 2 {
		switch err := <-errs; err {
		case nil:
			ok++
		case trace.ErrJobBusy:
			busy++
		default:
			t.Errorf("a run ended with %v", err)
		}
	}
	if ok != 1 || busy != 1 {
		t.Errorf("%d runs issued the job and %d found it not theirs; want 1 and 1", ok, busy)
	}
	if cnt, issued := codeRows(t, e.a.DB, b.ID); cnt != n || issued != n {
		t.Fatalf("%d codes, codes_issued %d, want the job's %d once", cnt, issued, n)
	}
	if got := waitIssuance(t, e.a, fx.Operator, job.ID); got.Status != trace.IssuanceDone {
		t.Fatalf("job %+v, want done", got)
	}
}

// A synchronous issue (POST …/codes) whose run was taken over by another runner (ErrJobBusy)
// answers the job as it stands: with its codes once the other run is done, never an error (a 500
// would have the client issue again under a new key).
func TestSyncIssueTakenOverAnswersTheJob(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fx := newStation(t, e.a, "")
	p := fx.product(t, e.a, "租约同步测试椪柑")
	b := fx.batch(t, e.a, p.ID, 10)
	job, _, err := e.a.Trace.RequestIssue(ctx, fx.Operator, b.ID, 10, "sync-lease-1")
	if err != nil {
		t.Fatal(err)
	}
	// Not yet run: the job is answered as pending, no codes, no error.
	got, codes, err := trace.AfterSyncRun(e.a.Trace, ctx, fx.Operator, job, nil, trace.ErrJobBusy)
	if err != nil || got.Status == trace.IssuanceDone || codes != nil {
		t.Fatalf("taken over, not done yet: %+v %d codes, %v; want the job as it stands", got, len(codes), err)
	}
	// The other run (the request's lease lapsed) issued them: the job is done, with its codes.
	e.a.DB.Exec(`UPDATE code_issuances SET lease_until = now() - interval '1 second' WHERE id = ?`, job.ID)
	if _, err := e.a.Trace.RunIssue(ctx, job.ID, false); err != nil {
		t.Fatal(err)
	}
	got, codes, err = trace.AfterSyncRun(e.a.Trace, ctx, fx.Operator, job, nil, trace.ErrJobBusy)
	if err != nil || got.Status != trace.IssuanceDone || len(codes) != 10 {
		t.Fatalf("taken over and done: %+v %d codes, %v; want done with its 10 codes", got, len(codes), err)
	}
}

// A small issue is recorded claimed by its request: the background issuer, looking for pending
// jobs between the request's two transactions, cannot take it (it did: a POST for one code was
// answered 202 without its codes, CI's failure of 6 December). Through HTTP, with the issuer
// polling every millisecond, every small issue answers 201 with its codes.
func TestSmallIssueIsNeverTakenByTheIssuer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fx := newStation(t, e.a, "")
	b := fx.batch(t, e.a, fx.product(t, e.a, "认领测试椪柑").ID, 100)
	job, _, err := e.a.Trace.RequestIssue(ctx, fx.Operator, b.ID, 1, "")
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != trace.IssuanceRunning || job.Attempts != 1 {
		t.Fatalf("a small job is recorded %s after %d attempts; want running (claimed), 1", job.Status, job.Attempts)
	}
	if _, err := e.a.Trace.RunIssue(ctx, job.ID, false); err != trace.ErrJobBusy {
		t.Fatalf("the issuer's run of a claimed job: %v, want ErrJobBusy", err)
	}
	if codes, err := trace.RunClaimed(e.a.Trace, ctx, job, true); err != nil || len(codes) != 1 {
		t.Fatalf("the request's run: %v %v", codes, err)
	}

	issuerCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); e.a.Trace.RunIssuer(issuerCtx, time.Millisecond) }()
	defer func() { stop(); <-done }()
	authz := bearer(t, e.a, fx.Operator)
	for i := range 40 {
		rec := send(t, e.a.Router, http.MethodPost, "/api/v1/batches/"+b.ID.String()+"/codes", `{"count":2}`, "Authorization", authz)
		var r issuanceResp
		_ = json.Unmarshal(rec.Body.Bytes(), &r)
		if rec.Code != http.StatusCreated || len(r.Codes) != 2 {
			t.Fatalf("issue %d: %d with %d codes, want 201 with 2: %s", i, rec.Code, len(r.Codes), rec.Body)
		}
	}
	if cnt, issued := codeRows(t, e.a.DB, b.ID); cnt != 81 || issued != 81 {
		t.Fatalf("%d codes, codes_issued %d, want 81", cnt, issued)
	}
}

// A run interrupted (a graceful stop, its client gone) after another runner took its job over
// leaves the job to that runner: it hands back only its own claim. It handed back any, so the
// job went pending while the second run still held it, for a third runner to take.
func TestInterruptedRunKeepsTheTakeover(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	fx := newStation(t, e.a, "")
	b := fx.batch(t, e.a, fx.product(t, e.a, "中断测试椪柑").ID, 10)
	job, _, err := e.a.Trace.RequestIssue(ctx, fx.Operator, b.ID, 10, "interrupted-1")
	if err != nil {
		t.Fatal(err)
	}
	hold := e.a.DB.Begin() // the batch, held as another job's COPY would: the run waits for it
	defer hold.Rollback()
	if err := hold.Exec(`SELECT 1 FROM batches WHERE id = ? FOR UPDATE`, b.ID).Error; err != nil {
		t.Fatal(err)
	}
	runCtx, interrupt := context.WithCancel(ctx)
	errs := make(chan error, 1)
	go func() { _, err := trace.RunClaimed(e.a.Trace, runCtx, job, false); errs <- err }()
	waitBlocked(t, e.a.DB)
	// Its lease lapsed while it waited, and another runner claimed the job (RunIssue's claim).
	dbtest.Exec(t, e.a.DB, `UPDATE code_issuances SET attempts = attempts + 1, lease_until = now() + interval '2 minutes'
		WHERE id = ? AND attempts = 1`, job.ID)
	interrupt()
	if err := <-errs; err == nil {
		t.Fatal("the interrupted run succeeded")
	}
	var j struct {
		Status     string
		Attempts   int
		LeaseUntil *time.Time
	}
	e.a.DB.Raw(`SELECT status, attempts, lease_until FROM code_issuances WHERE id = ?`, job.ID).Scan(&j)
	if j.Status != string(trace.IssuanceRunning) || j.Attempts != 2 || j.LeaseUntil == nil {
		t.Errorf("after the first run's interruption the job is %s, attempts %d, lease %v; want the second run's: running, 2, leased",
			j.Status, j.Attempts, j.LeaseUntil)
	}
}

// waitBlocked waits until a session of this database waits for a batch's lock (a run's
// SELECT … FOR UPDATE behind another transaction's).
func waitBlocked(t *testing.T, db *gorm.DB) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var n int
		db.Raw(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
			AND query LIKE '%FROM batches%FOR UPDATE%'`).Scan(&n)
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no run waited for a batch within 30 s")
		}
	}
}
