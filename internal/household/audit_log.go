package household

import (
	"context"
	"encoding/json"
	"time"

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
// order of writing and a page costs the same however deep (the primary key's index). Personal
// data is masked as in Audit. For the county office only: the caller checks the role.
func (s *Service) AuditLog(ctx context.Context, before uuid.UUID, limit int) ([]LogEntry, error) {
	var rows []struct {
		ID, HouseholdID uuid.UUID
		ArchiveNo       string
		ActorID         *uuid.UUID
		ActorRole       string
		Action          string
		Changes         string
		At              time.Time
	}
	q := s.db.WithContext(ctx).Table("household_audit a").
		Select("a.id, a.household_id, h.archive_no, a.actor_id, a.actor_role, a.action, a.changes::text AS changes, a.at").
		Joins("JOIN households h ON h.id = a.household_id")
	if before != uuid.Nil {
		q = q.Where("a.id < ?", before)
	}
	if err := q.Order("a.id DESC").Limit(limit).Scan(&rows).Error; err != nil {
		return nil, apperr.DB(err, "household audit")
	}
	out := make([]LogEntry, len(rows))
	for i, r := range rows {
		out[i] = LogEntry{HouseholdID: r.HouseholdID, ArchiveNo: r.ArchiveNo,
			AuditEntry: AuditEntry{ID: r.ID, ActorID: r.ActorID, ActorRole: r.ActorRole, Action: r.Action, At: r.At.UTC()}}
		if err := json.Unmarshal([]byte(r.Changes), &out[i].Changes); err != nil {
			return nil, err
		}
	}
	return out, nil
}
