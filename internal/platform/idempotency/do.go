package idempotency

import (
	"bytes"
	"context"
	"errors"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// Scope is where a key is unique: one kind of request (Name: order, payment, refund, issuance,
// work_record, payout) within what the key belongs to (Within: the unit, order, batch or station;
// uuid.Nil for keys unique everywhere). Field is the field a reused key is reported under:
// Idempotency-Key unless the key comes from the body (a payout's bank reference).
type Scope struct {
	Name   string
	Within uuid.UUID
	Field  string
}

// String is the scope as stored: "<name>:<within>", or the name alone.
func (s Scope) String() string {
	if s.Within == uuid.Nil {
		return s.Name
	}
	return s.Name + ":" + s.Within.String()
}

// Do runs work once per (scope, key), inside the caller's transaction tx, and keeps what it made.
//   - A new key is recorded with requestHash (what the request means; the same request must give
//     the same hash), then work runs and the reference it returns (the id of what it made) is
//     kept with the key: ref is that reference, replayed false.
//   - A key already recorded with the same hash does not run work: ref is the stored reference,
//     replayed true, and the caller answers with what ref names.
//   - A key recorded with another hash is a Conflict naming the scope's field (Idempotency-Key)
//     with the first result's id (member "<name>_id").
//
// The record is a row of idempotency_keys, written in tx: it commits with the work or not at all,
// so the caller must roll tx back when Do returns an error (every caller returns it from its
// transaction). A concurrent request with the same key waits on the row until the first commits
// (then it replays) or rolls back (then it runs work itself).
func Do(ctx context.Context, tx *gorm.DB, scope Scope, key string, requestHash []byte,
	work func() (string, error)) (ref string, replayed bool, err error) {
	db := tx.WithContext(ctx)
	res := db.Exec(`INSERT INTO idempotency_keys (scope, key, request_hash) VALUES (?, ?, ?)
		ON CONFLICT (scope, key) DO NOTHING`, scope.String(), key, requestHash)
	if res.Error != nil {
		return "", false, res.Error
	}
	if res.RowsAffected == 0 {
		ref, found, err := lookup(db, scope, key, requestHash)
		if err == nil && !found {
			err = errUnfinished // recorded, yet gone: deleted by hand
		}
		return ref, found, err
	}
	if ref, err = work(); err != nil {
		return "", false, err
	}
	err = db.Exec(`UPDATE idempotency_keys SET result_ref = ? WHERE scope = ? AND key = ?`, ref, scope.String(), key).Error
	return ref, false, err
}

// Lookup reads what a key recorded in scope made, for a request whose work is done in one
// statement of its own that claims the key with the SQL function idempotency_claim (migration
// 00094; docs/architecture.md "Idempotency"): found is false for a key not recorded (or whose
// claim has not committed yet). Errors: Conflict as Do's when the key was recorded for another
// request.
func Lookup(ctx context.Context, db *gorm.DB, scope Scope, key string, requestHash []byte) (ref string, found bool, err error) {
	return lookup(db.WithContext(ctx), scope, key, requestHash)
}

// errUnfinished is a stored key without a result: only a caller that committed after Do failed
// leaves one.
var errUnfinished = errors.New("idempotency: a key was committed without its result")

func lookup(db *gorm.DB, scope Scope, key string, requestHash []byte) (string, bool, error) {
	var rows []struct {
		RequestHash []byte
		ResultRef   *string
	}
	err := db.Raw(`SELECT request_hash, result_ref FROM idempotency_keys WHERE scope = ? AND key = ?`,
		scope.String(), key).Scan(&rows).Error
	switch {
	case err != nil || len(rows) == 0:
		return "", false, err
	case rows[0].ResultRef == nil:
		return "", false, errUnfinished
	case !bytes.Equal(rows[0].RequestHash, requestHash):
		field := scope.Field
		if field == "" {
			field = Header
		}
		msg := "%s %q was already used for a different %s (%s)"
		if field == Header {
			msg += "; use a new key for a new request"
		}
		return "", false, apperr.ConflictField(field, msg, field, key, scope.Name, *rows[0].ResultRef).
			With(scope.Name+"_id", *rows[0].ResultRef)
	}
	return *rows[0].ResultRef, true, nil
}
