package household

import (
	"context"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// LogEntry is one change of the county-wide audit log: an AuditEntry with its household.
type LogEntry struct {
	AuditEntry
	HouseholdID uuid.UUID `json:"household_id"`
	ArchiveNo   string    `json:"archive_no"`
}

// AuditLog returns the audit log of every household, newest first, limit entries (1 to 200)
// before the entry before (uuid.Nil: from the newest). Audit ids are UUIDv7, so their order is the
// order of writing and a page costs the same however deep (the primary keys' indexes). A
// household registered by a roster import has its registration derived from the import (Audit),
// with the household's id as the entry's: the page merges household_audit's entries with those
// households, both read backwards by primary key. Personal data is masked as in Audit. For the
// county office only: the caller checks the role.
func (s *Service) AuditLog(ctx context.Context, before uuid.UUID, limit int) ([]LogEntry, error) {
	if before == uuid.Nil {
		before = uuid.Max
	}
	var page []struct {
		ID      uuid.UUID
		Derived bool
	}
	if err := s.db.WithContext(ctx).Raw(`
		(SELECT id, false AS derived FROM household_audit WHERE id < ? ORDER BY id DESC LIMIT ?)
		UNION ALL
		(SELECT id, true FROM households WHERE import_id IS NOT NULL AND id < ? ORDER BY id DESC LIMIT ?)
		ORDER BY id DESC LIMIT ?`, before, limit, before, limit, limit).Scan(&page).Error; err != nil {
		return nil, apperr.DB(err, "household audit")
	}
	var stored, derived []uuid.UUID
	for _, e := range page {
		if e.Derived {
			derived = append(derived, e.ID)
		} else {
			stored = append(stored, e.ID)
		}
	}
	var rows []auditRow
	if err := s.db.WithContext(ctx).Raw(`SELECT id, household_id, actor_id, actor_role, action, changes::text AS changes, at
		FROM household_audit WHERE id IN ? OR household_id IN ? ORDER BY at, id`, append(stored, uuid.Nil), append(derived, uuid.Nil)).
		Scan(&rows).Error; err != nil {
		return nil, apperr.DB(err, "household audit")
	}
	entries := map[uuid.UUID]LogEntry{}
	later := map[uuid.UUID][]AuditEntry{} // of the derived registrations' households, oldest first
	hids := append([]uuid.UUID{}, derived...)
	for _, r := range rows {
		e, err := r.entry()
		if err != nil {
			return nil, err
		}
		later[r.HouseholdID] = append(later[r.HouseholdID], e)
		entries[r.ID] = LogEntry{AuditEntry: e, HouseholdID: r.HouseholdID}
		hids = append(hids, r.HouseholdID)
	}
	var hs []row
	if err := s.db.WithContext(ctx).Where("id IN ?", append(hids, uuid.Nil)).Find(&hs).Error; err != nil {
		return nil, apperr.DB(err, "household")
	}
	archive := make(map[uuid.UUID]string, len(hs))
	var registeredBy []row
	for _, h := range hs {
		archive[h.ID] = h.ArchiveNo
		for _, id := range derived {
			if id == h.ID {
				registeredBy = append(registeredBy, h)
			}
		}
	}
	reg, err := s.importRegistrations(ctx, registeredBy, later)
	if err != nil {
		return nil, err
	}
	for id, e := range reg {
		entries[id] = LogEntry{AuditEntry: e, HouseholdID: id}
	}
	out := make([]LogEntry, 0, len(page))
	for _, p := range page {
		e := entries[p.ID]
		e.ArchiveNo = archive[e.HouseholdID]
		out = append(out, e)
	}
	return out, nil
}
