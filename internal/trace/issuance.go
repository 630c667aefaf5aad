package trace

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/idempotency"
)

// IssueCheck is asked, inside the transaction that reserves codes for a batch (the batch row locked
// FOR UPDATE), whether the batch may have `after` codes issued and reserved in all (those issued,
// those of jobs not yet done, and this request's). It returns nil to allow, or a problem
// (apperr: Conflict or Invalid naming the field) to refuse; the request is then not recorded.
// Other features' rules register here (internal/app wires them): a covered product's batch needs
// its 承诺达标合格证, codes never exceed what was delivered into the batch.
type IssueCheck func(ctx context.Context, tx *gorm.DB, batchID, productID uuid.UUID, after int) error

// AddIssueCheck registers a check asked by every RequestIssue. Call it while wiring, before serving.
func (s *Service) AddIssueCheck(c IssueCheck) { s.issueChecks = append(s.issueChecks, c) }

// IssuanceStatus is where an issuance job is: pending → running → done, or failed.
type IssuanceStatus string

// Issuance statuses.
const (
	IssuancePending IssuanceStatus = "pending"
	IssuanceRunning IssuanceStatus = "running"
	IssuanceDone    IssuanceStatus = "done"
	IssuanceFailed  IssuanceStatus = "failed"
)

// Issuance is one request to issue Count codes for a batch. Progress counts rows sent to
// PostgreSQL by the running COPY (0 … Count); the codes become visible only when Status is done,
// all at once. Error says why a failed job failed.
type Issuance struct {
	ID             uuid.UUID      `gorm:"primaryKey" json:"id"`
	BatchID        uuid.UUID      `json:"batch_id"`
	IdempotencyKey *string        `json:"idempotency_key,omitempty"`
	RequestHash    string         `json:"-"`
	Count          int            `json:"count"`
	Status         IssuanceStatus `json:"status"`
	Progress       int            `json:"progress"`
	Error          *string        `json:"error,omitempty"`
	Attempts       int            `json:"attempts"`
	LeaseUntil     *time.Time     `json:"-"`
	RequestedBy    *uuid.UUID     `json:"-"`
	CreatedAt      time.Time      `json:"created_at"`
	FinishedAt     *time.Time     `json:"finished_at,omitempty"`
}

// TableName maps Issuance to its table.
func (Issuance) TableName() string { return "code_issuances" }

// issueLease is how long a running job is left to its runner before another may take it over.
// The runner extends it as it reports progress; a runner that died (crash, restart) lets it lapse,
// and its transaction has been rolled back by PostgreSQL, so the job restarts from nothing.
const issueLease = 2 * time.Minute

// leaseInterval is issueLease as a PostgreSQL interval: leases are set and compared on the
// database's clock, never the app's, and set from clock_timestamp(), not now(): now() is when the
// transaction began, and a request's transaction may first wait minutes for a batch a large job's
// COPY holds, then commit a lease already lapsed for the issuer to take.
var leaseInterval = fmt.Sprintf("%d seconds", int(issueLease.Seconds()))

// progressEvery is how many rows pass between progress reports.
const progressEvery = 50_000

// RequestIssue records a request to issue count codes for a batch of the caller's station and
// reserves them against the batch's quantity. key is the Idempotency-Key (may be empty): the same
// key with the same count returns the first job (replayed = true); with another count it is a
// Conflict naming Idempotency-Key.
// A new job of at most ISSUE_SYNC_MAX codes is for the caller to run at once (runClaimed): it is
// recorded already claimed (running, attempts 1, leased), so that the background issuer, which
// takes pending jobs, cannot take it from under the request (it did, between the two
// transactions: a request for one code was answered 202 without its codes). A larger one is
// recorded pending, for the background.
// Errors: Invalid (count, key), NotFound (batch out of scope), Conflict (beyond the quantity, key reuse),
// and whatever a registered IssueCheck returns.
func (s *Service) RequestIssue(ctx context.Context, p auth.Principal, batchID uuid.UUID, count int, key string) (job Issuance, replayed bool, err error) {
	return s.requestIssue(ctx, p, batchID, count, key, count <= s.cfg.IssueSyncMax)
}

// requestIssue is RequestIssue; claim records the new job claimed by the caller.
func (s *Service) requestIssue(ctx context.Context, p auth.Principal, batchID uuid.UUID, count int, key string, claim bool) (job Issuance, replayed bool, err error) {
	var f apperr.Fields
	if count < 1 || count > s.cfg.MaxIssue {
		f.Add("count", "must be from 1 to %d per request", s.cfg.MaxIssue)
	}
	if key != "" && !idempotency.ValidKey(key) {
		f.Add(idempotency.Header, idempotency.ReasonMalformed)
	}
	if err := f.Err(); err != nil {
		return Issuance{}, false, err
	}
	if _, err := s.st.batch(ctx, p, batchID); err != nil {
		return Issuance{}, false, err
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "issue count=%d", count))
	hash := hex.EncodeToString(sum[:])
	job = Issuance{ID: uuid.Must(uuid.NewV7()), BatchID: batchID, RequestHash: hash, Count: count,
		Status: IssuancePending, CreatedAt: time.Now().UTC()}
	if key != "" {
		job.IdempotencyKey = &key
	}
	if p.UserID != uuid.Nil {
		job.RequestedBy = &p.UserID
	}
	// The key is recorded first (idempotency.Do), before the batch lock: a replay is answered from
	// the job as it stands, and a running job's COPY holds that lock for as long as it runs.
	reserve := func(tx *gorm.DB) error {
		var b struct {
			Quantity, CodesIssued int
			ProductID             uuid.UUID
		}
		if err := tx.Raw(`SELECT quantity, codes_issued, product_id FROM batches WHERE id = ? FOR UPDATE`, batchID).Scan(&b).Error; err != nil {
			return err
		}
		// Codes of jobs not yet done are reserved, so that two large jobs cannot both pass the
		// check and one of them fail after minutes of work.
		var reserved int
		if err := tx.Raw(`SELECT coalesce(sum(count), 0) FROM code_issuances WHERE batch_id = ? AND status IN ('pending', 'running')`,
			batchID).Scan(&reserved).Error; err != nil {
			return err
		}
		if b.CodesIssued+reserved+count > b.Quantity {
			left := max(b.Quantity-b.CodesIssued-reserved, 0)
			return apperr.ConflictField("count", "the batch declares %d items and already has %d codes (%d more being issued): at most %d more can be issued",
				b.Quantity, b.CodesIssued, reserved, left).With("quantity", b.Quantity).With("codes_issued", b.CodesIssued)
		}
		for _, check := range s.issueChecks {
			if err := check(ctx, tx, batchID, b.ProductID, b.CodesIssued+reserved+count); err != nil {
				return err
			}
		}
		if claim {
			job.Status, job.Attempts = IssuanceRunning, 1
		}
		if err := tx.Create(&job).Error; err != nil || !claim {
			return err
		}
		return tx.Exec(`UPDATE code_issuances SET lease_until = clock_timestamp() + ?::interval WHERE id = ?`, leaseInterval, job.ID).Error
	}
	err = database.Tx(ctx, s.db, func(tx *gorm.DB) error {
		tx = tx.WithContext(ctx)
		if key == "" {
			return reserve(tx)
		}
		scope := idempotency.Scope{Name: "issuance", Within: batchID}
		ref, again, err := idempotency.Do(ctx, tx, scope, key, sum[:], func() (string, error) {
			return job.ID.String(), reserve(tx)
		})
		if replayed = again; err != nil || !again {
			return err
		}
		var prior Issuance // not job: gorm would add job's own id to the condition
		err = tx.Where("id = ?", ref).Take(&prior).Error
		job = prior
		return err
	})
	return job, replayed, apperr.DB(err, "batch")
}

// Issuance returns a job of a batch in the caller's scope. Errors: NotFound.
func (s *Service) Issuance(ctx context.Context, p auth.Principal, id uuid.UUID) (Issuance, error) {
	var job Issuance
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&job).Error
	if err != nil {
		return job, apperr.DB(err, "issuance")
	}
	if _, err := s.st.batch(ctx, p, job.BatchID); err != nil {
		if apperr.Is(err, apperr.KindNotFound) {
			return Issuance{}, apperr.NotFound("issuance")
		}
		return Issuance{}, err
	}
	return job, nil
}

// RunIssue runs a pending job (or one whose runner's lease lapsed) to the end: one transaction
// locks the batch, re-checks its quantity, COPYs the codes and marks the job done, so the job's
// codes appear all at once or not at all. collect asks for the codes back (small jobs only).
// A job another runner holds is left alone (ErrJobBusy). A job that can never succeed (its batch
// is full) is marked failed.
func (s *Service) RunIssue(ctx context.Context, id uuid.UUID, collect bool) ([]string, error) {
	var job Issuance
	res := s.db.WithContext(ctx).Raw(`UPDATE code_issuances
		SET status = 'running', attempts = attempts + 1, lease_until = clock_timestamp() + ?::interval, progress = 0
		WHERE id = ? AND (status = 'pending' OR (status = 'running' AND lease_until < now()))
		RETURNING *`, leaseInterval, id).Scan(&job)
	if res.Error != nil {
		return nil, apperr.DB(res.Error, "issuance")
	}
	if job.ID == uuid.Nil {
		return nil, ErrJobBusy
	}
	return s.runClaimed(ctx, job, collect)
}

// runClaimed runs a job this caller claimed (RunIssue's claim, or RequestIssue's for a job run at
// once), as RunIssue says.
func (s *Service) runClaimed(ctx context.Context, job Issuance, collect bool) ([]string, error) {
	report, stopReports := s.progressReporter(ctx, job.ID)
	codes, issued, err := s.st.issueJob(ctx, job, collect, report)
	if apperr.PgCode(err) == apperr.PgUniqueViolation {
		// 65 random bits make a collision astronomically unlikely; one retry settles it.
		codes, issued, err = s.st.issueJob(ctx, job, collect, report)
	}
	stopReports()
	if errors.Is(err, ErrJobBusy) {
		return nil, err // another run has it, or finished it
	}
	noteMax(&s.issued, issued)
	if err != nil && ctx.Err() != nil {
		// Interrupted (a graceful stop, a client gone): the COPY rolled back; hand the job back at
		// once rather than leave it to the lease, so that the next start (or another replica) runs
		// it now, not two minutes later.
		s.releaseJob(job)
		return nil, apperr.DB(err, "issuance")
	}
	if e, ok := apperr.As(err); ok && e.Kind == apperr.KindConflict {
		msg := e.Msg
		_ = s.db.WithContext(context.WithoutCancel(ctx)).Exec(`UPDATE code_issuances SET status = 'failed', error = ?, finished_at = now(),
			lease_until = NULL WHERE id = ?`, msg, job.ID).Error
		return nil, err
	}
	return codes, apperr.DB(err, "issuance")
}

// releaseJob makes a running job pending again, lease released (its run was interrupted and rolled
// back), but only while the claim is still this run's (attempts as claimed): a run that waited
// past its lease may have been taken over meanwhile, and releasing that other runner's claim
// would let a third take the job while the second still runs it.
func (s *Service) releaseJob(job Issuance) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.db.WithContext(ctx).Exec(`UPDATE code_issuances SET status = 'pending', lease_until = NULL, progress = 0
		WHERE id = ? AND status = 'running' AND attempts = ?`, job.ID, job.Attempts).Error
	if err != nil {
		s.log.Warn("interrupted issuance not released; it resumes when its lease lapses", "issuance", job.ID, "err", err)
	}
}

// ErrJobBusy says another runner holds the job, or it is finished.
var ErrJobBusy = errors.New("trace: issuance job is held by another runner or finished")

// progressReporter returns report, which hands a row count to a goroutine that writes it with
// reportProgress and never waits for it: each report is its own transaction and commit (a WAL
// flush), and the COPY's rows are generated on the goroutine that calls report, so a report
// written in line stalled the COPY (20 times per million codes). A count arriving while the
// previous one is still being written is dropped; the next one carries the progress and the lease.
// stop waits for the report being written, if any.
func (s *Service) progressReporter(ctx context.Context, id uuid.UUID) (report func(n int), stop func()) {
	counts := make(chan int, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := range counts {
			s.reportProgress(ctx, id, n)
		}
	}()
	report = func(n int) {
		select {
		case counts <- n:
		default:
		}
	}
	return report, func() { close(counts); <-done }
}

// reportProgress writes progress outside the COPY's transaction (so that it is visible while the
// COPY runs) and extends the lease. Failures only cost the progress display.
func (s *Service) reportProgress(ctx context.Context, id uuid.UUID, n int) {
	err := s.db.WithContext(ctx).Exec(`UPDATE code_issuances SET progress = ?, lease_until = clock_timestamp() + ?::interval
		WHERE id = ? AND status = 'running'`, n, leaseInterval, id).Error
	if err != nil {
		s.log.Warn("issuance progress not recorded", "issuance", id, "err", err)
	}
}

// IssueCodes issues count fresh codes for a batch of the caller's station, all or nothing, and
// returns them (sorted). It is RequestIssue and RunIssue in one call, for small counts.
// Errors: Invalid (count), NotFound (batch out of scope), Conflict (beyond the batch quantity).
func (s *Service) IssueCodes(ctx context.Context, p auth.Principal, batchID uuid.UUID, count int) ([]string, error) {
	job, _, err := s.requestIssue(ctx, p, batchID, count, "", true)
	if err != nil {
		return nil, err
	}
	return s.runClaimed(ctx, job, true)
}

// JobCodes lists the codes a done job wrote, in code order. Errors: NotFound, Conflict (not done).
func (s *Service) JobCodes(ctx context.Context, job Issuance) ([]string, error) {
	var codes []string
	err := s.db.WithContext(ctx).Table("trace_codes").Where("batch_id = ? AND issuance_id = ?", job.BatchID, job.ID).
		Order("code").Pluck("code", &codes).Error
	return codes, apperr.DB(err, "code")
}

// StreamJobCodes calls fn for each code of a done job, in code order, reading rows as they come
// (a million codes never sit in memory), in one of the download slots (Config.Downloads).
// Errors: Conflict (job not done), Unavailable (the database), Busy (no download slot free within
// Config.DownloadWait).
func (s *Service) StreamJobCodes(ctx context.Context, job Issuance, fn func(code string) error) error {
	if job.Status != IssuanceDone {
		return apperr.Conflict("the issuance is %s: its codes can be fetched once it is done", job.Status).With("current_status", job.Status)
	}
	release, err := s.downloads.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	rows, err := s.db.WithContext(ctx).Raw(`SELECT code FROM trace_codes WHERE batch_id = ? AND issuance_id = ? ORDER BY code`,
		job.BatchID, job.ID).Rows()
	if err != nil {
		return apperr.DB(err, "code")
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return err
		}
		if err := fn(c); err != nil {
			return err
		}
	}
	return apperr.DB(rows.Err(), "code")
}

// RunIssuer runs jobs left pending or abandoned (their runner's lease lapsed: a crash or restart)
// until ctx ends, looking every interval. One replica or many: the lease decides who runs a job.
func (s *Service) RunIssuer(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		var ids []uuid.UUID
		err := s.db.WithContext(ctx).Table("code_issuances").
			Where("status = 'pending' OR (status = 'running' AND lease_until < now())").
			Order("created_at").Limit(10).Pluck("id", &ids).Error
		if err != nil && ctx.Err() == nil {
			s.log.Warn("issuer: cannot list open jobs", "err", err)
		}
		for _, id := range ids {
			if _, err := s.RunIssue(ctx, id, false); err != nil && !errors.Is(err, ErrJobBusy) && ctx.Err() == nil {
				s.log.Warn("issuer: job not finished", "issuance", id, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// StartIssue runs a job in the background (bounded by the service's context, see Start).
func (s *Service) StartIssue(id uuid.UUID) {
	s.jobs.Add(1)
	go func() {
		defer s.jobs.Done()
		if _, err := s.RunIssue(s.bg, id, false); err != nil && !errors.Is(err, ErrJobBusy) && s.bg.Err() == nil {
			s.log.Warn("issuance failed", "issuance", id, "err", err)
		}
	}()
}

// issueJob is the one transaction of a job: lock the batch, check its quantity, COPY fresh codes
// generated as they are sent (never all in memory unless collect), bump codes_issued, mark done.
func (st store) issueJob(ctx context.Context, job Issuance, collect bool, progress func(n int)) ([]string, int64, error) {
	var codes []string
	var issuedEpoch int64
	if collect {
		codes = make([]string, 0, job.Count)
	}
	now := time.Now().UTC()
	err := database.PgxTx(ctx, st.db, func(tx pgx.Tx) error {
		var qty, issued int
		if err := tx.QueryRow(ctx, `SELECT quantity, codes_issued FROM batches WHERE id = $1 FOR UPDATE`, job.BatchID).
			Scan(&qty, &issued); err != nil {
			return err
		}
		// The job must still be this run's: its lease may have lapsed while it waited for the batch
		// (another transaction held it) or while its progress, written on a second connection,
		// could not be (every connection of the pool taken), and another runner may have claimed
		// it since (attempts moved) or finished it. Without this both runs issue its codes. Read
		// without a lock: the progress writer updates the row while the COPY runs, and a claim
		// after this read waits for the batch and then finds the job done.
		var status IssuanceStatus
		var attempts int
		if err := tx.QueryRow(ctx, `SELECT status, attempts FROM code_issuances WHERE id = $1`, job.ID).Scan(&status, &attempts); err != nil {
			return err
		}
		if status != IssuanceRunning || attempts != job.Attempts {
			return ErrJobBusy
		}
		if issued+job.Count > qty {
			return apperr.ConflictField("count", "the batch declares %d items and already has %d codes: at most %d more can be issued",
				qty, issued, qty-issued).With("quantity", qty).With("codes_issued", issued)
		}
		src := &codeSource{n: job.Count, row: CopyRow("", job.BatchID, now, job.ID), progress: progress}
		if collect {
			src.keep = &codes
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"trace_codes"}, CopyColumns, src); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE batches SET codes_issued = codes_issued + $1 WHERE id = $2`, job.Count, job.BatchID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE code_issuances SET status = 'done', progress = count, finished_at = now(), lease_until = NULL,
			error = NULL WHERE id = $1`, job.ID); err != nil {
			return err
		}
		// New codes exist: codes remembered as unknown may be among them (see cachedView).
		return tx.QueryRow(ctx, `UPDATE trace_cache_epoch SET issued = issued + 1 WHERE id = 1 RETURNING issued`).Scan(&issuedEpoch)
	})
	if err != nil {
		return nil, 0, err
	}
	slices.Sort(codes)
	return codes, issuedEpoch, nil
}

// CopyColumns are the columns issuance COPYs into trace_codes, in order (the benchmark's raw COPY
// baseline writes the same).
var CopyColumns = []string{"code", "batch_id", "status", "issued_at", "issuance_id"}

// CopyRow is one row of CopyColumns for a new code. The ids are pgtype.UUID, which pgx encodes
// directly; a uuid.UUID goes through its driver.Valuer (formatted as text, then parsed back) for
// every row.
func CopyRow(code string, batchID uuid.UUID, issuedAt time.Time, issuanceID uuid.UUID) []any {
	return []any{code, pgtype.UUID{Bytes: batchID, Valid: true}, "issued", issuedAt, pgtype.UUID{Bytes: issuanceID, Valid: true}}
}

// codeSource is a pgx.CopyFromSource generating one fresh code per row.
type codeSource struct {
	n, i     int
	row      []any
	keep     *[]string
	progress func(n int)
}

func (c *codeSource) Next() bool {
	if c.i >= c.n {
		return false
	}
	if c.i > 0 && c.i%progressEvery == 0 && c.progress != nil {
		c.progress(c.i)
	}
	c.i++
	code := NewCode()
	c.row[0] = code
	if c.keep != nil {
		*c.keep = append(*c.keep, code)
	}
	return true
}

func (c *codeSource) Values() ([]any, error) { return c.row, nil }
func (c *codeSource) Err() error             { return nil }

// Start runs the service's background work until Stop: the issuer (pending and abandoned
// issuance jobs) and the scan flusher (counts to PostgreSQL, cache epoch refresh). `fupin serve`
// calls it; tests and one-shot commands need not.
func (s *Service) Start() {
	s.flusherDone = make(chan struct{})
	s.jobs.Add(1)
	go func() {
		defer s.jobs.Done()
		s.RunIssuer(s.bg, s.cfg.IssuePoll)
	}()
	go func() {
		defer close(s.flusherDone)
		s.RunFlusher(s.bg, s.cfg.ScanFlushInterval)
	}()
}

// Stop ends the background work and flushes the scan counts still pending in Redis (call it after
// the HTTP server has drained, so that no scan comes after the flush). A running issuance is
// cancelled: its transaction rolls back and the job is released, to be run again, from nothing,
// by the next process at once: Stop waits (within ctx) for interrupted jobs to be released. The
// final flush runs whatever became of the periodic one (cut short, its batch is finished here),
// and is retried until it succeeds or ctx ends: a Redis briefly taken for down, or PostgreSQL
// briefly away, does not lose the counts.
func (s *Service) Stop(ctx context.Context) error {
	s.stop()
	jobsDone := make(chan struct{})
	go func() { s.jobs.Wait(); close(jobsDone) }()
	select {
	case <-jobsDone:
	case <-ctx.Done():
	}
	if s.flusherDone != nil {
		<-s.flusherDone
	}
	var total int64
	for {
		n, err := s.FlushScans(ctx)
		total += n
		if err == nil {
			s.log.Info("scan counts flushed at shutdown", "scans", total)
			return nil
		}
		select {
		case <-ctx.Done():
			s.log.Error("scan counts not flushed at shutdown: they stay in Redis for the next start", "scans", total, "err", err)
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// afterSyncRun is the job as a synchronous issue answers it, after its run returned codes and
// err. A run taken over by another runner (ErrJobBusy: its lease lapsed while it waited) is no
// failure: that one issues the codes, and the job is answered as it stands (with its codes once
// done), since a 500 would have the client issue again under a new key.
func (s *Service) afterSyncRun(ctx context.Context, p auth.Principal, job Issuance, codes []string, err error) (Issuance, []string, error) {
	if errors.Is(err, ErrJobBusy) {
		codes, err = nil, nil
	}
	if err != nil {
		return job, nil, err
	}
	if job, err = s.Issuance(ctx, p, job.ID); err != nil {
		return job, nil, err
	}
	if codes == nil && job.Status == IssuanceDone {
		codes, err = s.JobCodes(ctx, job)
	}
	return job, codes, err
}
