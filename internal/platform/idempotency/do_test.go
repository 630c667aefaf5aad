package idempotency

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

// do runs Do in a transaction of its own, as a feature does in its business event's.
func do(t *testing.T, db *gorm.DB, scope Scope, key string, hash string, work func() (string, error)) (string, bool, error) {
	t.Helper()
	var ref string
	var replayed bool
	err := db.Transaction(func(tx *gorm.DB) error {
		var err error
		ref, replayed, err = Do(context.Background(), tx, scope, key, []byte(hash), work)
		return err
	})
	return ref, replayed, err
}

func TestDoRunsOnceAndReplays(t *testing.T) {
	db := dbtest.DB(t)
	scope := Scope{Name: "thing", Within: uuid.New()}
	runs := 0
	work := func() (string, error) { runs++; return "ref-1", nil }
	if ref, replayed, err := do(t, db, scope, "k", "h", work); err != nil || replayed || ref != "ref-1" {
		t.Fatalf("first: %q %v %v", ref, replayed, err)
	}
	if ref, replayed, err := do(t, db, scope, "k", "h", work); err != nil || !replayed || ref != "ref-1" || runs != 1 {
		t.Fatalf("retry: %q %v %v, %d runs", ref, replayed, err, runs)
	}
	// Another request under the key: a Conflict naming the header and the first result.
	_, _, err := do(t, db, scope, "k", "other", work)
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.KindConflict || len(e.Fields) != 1 || e.Fields[0].Field != "Idempotency-Key" || e.Extra["thing_id"] != "ref-1" {
		t.Fatalf("other request, same key: %v", err)
	}
	// The same key elsewhere is another key; a body field can stand for the header.
	if _, replayed, err := do(t, db, Scope{Name: "thing", Within: uuid.New()}, "k", "other", work); err != nil || replayed {
		t.Fatalf("same key in another scope: %v %v", replayed, err)
	}
	_, _, err = do(t, db, Scope{Name: "transfer", Field: "reference"}, "R1", "a", work)
	if err == nil {
		_, _, err = do(t, db, Scope{Name: "transfer", Field: "reference"}, "R1", "b", work)
	}
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindConflict || e.Fields[0].Field != "reference" {
		t.Fatalf("reused reference: %v", err)
	}
}

// Work that fails leaves no key behind: the transaction rolls back, and a retry runs the work.
func TestDoForgetsFailedWork(t *testing.T) {
	db := dbtest.DB(t)
	scope := Scope{Name: "thing", Within: uuid.New()}
	refused := apperr.Conflict("not now")
	if _, _, err := do(t, db, scope, "k", "h", func() (string, error) { return "", refused }); err != refused {
		t.Fatalf("failed work: %v", err)
	}
	if ref, replayed, err := do(t, db, scope, "k", "h", func() (string, error) { return "ref-2", nil }); err != nil || replayed || ref != "ref-2" {
		t.Fatalf("retry after failure: %q %v %v", ref, replayed, err)
	}
}

// Requests racing with one key: one runs the work, the others wait for its commit and replay.
func TestDoUnderRace(t *testing.T) {
	db := dbtest.DB(t)
	scope := Scope{Name: "thing", Within: uuid.New()}
	var mu sync.Mutex
	runs := 0
	var wg sync.WaitGroup
	refs := make([]string, 8)
	errs := make([]error, 8)
	for i := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			refs[i], _, errs[i] = do(t, db, scope, "k", "h", func() (string, error) {
				mu.Lock()
				defer mu.Unlock()
				runs++
				return uuid.NewString(), nil
			})
		}()
	}
	wg.Wait()
	for i := range refs {
		if errs[i] != nil || refs[i] != refs[0] {
			t.Fatalf("request %d: %q %v, want %q", i, refs[i], errs[i], refs[0])
		}
	}
	if runs != 1 {
		t.Fatalf("the work ran %d times, want once", runs)
	}
}
