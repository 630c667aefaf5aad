package trace_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/trace"
)

// A download held open by a slow client keeps its slot and its database connection; with every
// slot taken, the next label sheet is a 503 problem with Retry-After after DOWNLOAD_WAIT, other
// requests are served meanwhile, and the slot is free again once the slow one ends.
func TestSlowDownloadsLeaveThePoolToOtherRequests(t *testing.T) {
	// A pool of 2 (one download slot, a quarter of it rounded up to 1): the download held takes
	// one connection, the other requests need the other.
	t.Setenv("DOWNLOAD_WAIT", "200ms")
	rdb, prefix := dbtest.Redis(t)
	e := env{a: newAppOn(t, dbtest.Pool(t, 2), cache.New(rdb, prefix, 50*time.Millisecond)), rdb: rdb, prefix: prefix}
	fx, batchID, _ := labelBatch(t, e, "慢下载十八洞猕猴桃", 3)
	authz := bearer(t, e.a, fx.Operator)
	id := uuid.MustParse(batchID)

	holding, release, done := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		done <- e.a.Trace.LabelItems(context.Background(), fx.Operator, id, nil, func(next func() (trace.LabelItem, bool, error)) error {
			close(holding)
			<-release
			return nil
		})
	}()
	<-holding

	rec := get(t, e.a.Router, "/api/v1/batches/"+batchID+"/labels.pdf", "Authorization", authz)
	var p struct{ Detail string }
	_ = json.Unmarshal(rec.Body.Bytes(), &p)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" ||
		!strings.Contains(p.Detail, "DOWNLOAD_SLOTS") {
		t.Errorf("labels.pdf with every slot taken: %d Retry-After %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if rec := get(t, e.a.Router, "/api/v1/batches/"+batchID+"/codes", "Authorization", authz); rec.Code != http.StatusOK {
		t.Errorf("the batch's codes listed while the slot is taken: %d %s", rec.Code, rec.Body)
	}

	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if rec := get(t, e.a.Router, "/api/v1/batches/"+batchID+"/labels.pdf", "Authorization", authz); rec.Code != http.StatusOK {
		t.Errorf("labels.pdf once the slot is free: %d %.300s", rec.Code, rec.Body)
	}
}
