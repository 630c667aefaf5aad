package household

import (
	"context"
	"testing"

	"github.com/google/uuid"
)

// The county-wide log lists every household's changes newest first, in keyset pages that join
// up, with personal data masked as in a household's own log.
func TestAuditLogPages(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	a := f.register(t, f.station, shibadong)
	b := f.register(t, f.admin, shibadong)
	members := 6
	if _, err := f.svc.Update(ctx, f.admin, a.ID, Patch{Members: &members}); err != nil {
		t.Fatal(err)
	}
	first, err := f.svc.AuditLog(ctx, uuid.Nil, 2)
	if err != nil || len(first) != 2 {
		t.Fatalf("first page %+v %v", first, err)
	}
	if first[0].HouseholdID != a.ID || first[0].Action != "update" || first[0].ArchiveNo != a.ArchiveNo ||
		first[1].HouseholdID != b.ID || first[1].Action != "register" {
		t.Errorf("newest first: %+v", first)
	}
	if name, _ := first[1].Changes["head_name"].To.(string); name == b.HeadName || name == "" {
		t.Errorf("head_name in the log: %q; want it masked", name)
	}
	rest, err := f.svc.AuditLog(ctx, first[1].ID, 200)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range rest {
		if e.ID == first[0].ID || e.ID == first[1].ID || e.ID.String() >= first[1].ID.String() {
			t.Fatalf("the next page repeats or goes back: %v after %v", e.ID, first[1].ID)
		}
	}
	if len(rest) == 0 || rest[0].HouseholdID != a.ID || rest[0].Action != "register" {
		t.Errorf("second page starts with %+v; want a's registration", rest)
	}
}
