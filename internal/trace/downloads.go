package trace

import (
	"context"
	"time"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// downloads bounds the label sheets, label ZIPs and code lists streamed at once. Each holds a
// database connection for as long as its client takes to read it (up to the server's write
// timeout, five minutes): without a bound, as many slow downloads as the pool has connections
// would leave every other request of the process waiting for one.
type downloads struct {
	slots chan struct{}
	wait  time.Duration
}

// newDownloads makes n slots (at least 1) taken within wait (0: 10 s).
func newDownloads(n int, wait time.Duration) downloads {
	if wait <= 0 {
		wait = 10 * time.Second
	}
	return downloads{slots: make(chan struct{}, max(n, 1)), wait: wait}
}

// acquire takes a slot, waiting up to d.wait; release gives it back.
// Errors: Busy (503 with Retry-After) when every slot stays taken; ctx's error.
func (d downloads) acquire(ctx context.Context) (release func(), err error) {
	t := time.NewTimer(d.wait)
	defer t.Stop()
	select {
	case d.slots <- struct{}{}:
		return func() { <-d.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, apperr.Busy("every download slot (%d, DOWNLOAD_SLOTS) is sending a label sheet or code list: retry shortly", cap(d.slots))
	}
}
