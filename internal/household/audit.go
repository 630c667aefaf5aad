package household

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/pii"
)

// Change is one field's change in the audit log; personal data is masked on both sides.
type Change struct {
	From any `json:"from"`
	To   any `json:"to"`
}

// AuditEntry is one change to a household: who (user id and role; role "command" and no user for
// the fupin command), when, what (action register, update or import, and the changed fields).
type AuditEntry struct {
	ID        uuid.UUID         `json:"id"`
	ActorID   *uuid.UUID        `json:"actor_id"`
	ActorRole string            `json:"actor_role"`
	Action    string            `json:"action"`
	Changes   map[string]Change `json:"changes"`
	At        time.Time         `json:"at"`
}

// HistoryEntry is a household's status and size from a day (China Standard Time) on.
type HistoryEntry struct {
	ValidFrom civil.Date `json:"valid_from"`
	Status    Status     `json:"status"`
	Members   int        `json:"members"`
}

// Command is the principal of the fupin command (roster import from the shell): an admin without a
// user, recorded in the audit log as role "command".
var Command = auth.Principal{Role: auth.RoleAdmin}

func actor(p auth.Principal) (*uuid.UUID, string) {
	if p.UserID == uuid.Nil {
		return nil, "command"
	}
	id := p.UserID
	return &id, string(p.Role)
}

func today(now time.Time) civil.Date {
	t := now.In(civil.China)
	return civil.Date{Time: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)}
}

// ReportDueDay is the day of the next month by which a month's report (月报) is filed; after it the
// month is closed (docs/reports.md).
const ReportDueDay = 10

// firstOpenDay is the first day whose household facts may still change on day d: the first of
// last month until its report is due, the first of this month after. A closed month's report
// reproduces forever (docs/ledger.md, "History"), so a late change of size or status is recorded
// from the first open day, not backdated into a month already filed.
func firstOpenDay(d civil.Date) civil.Date {
	first := civil.Date{Time: time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)}
	if d.Day() <= ReportDueDay {
		return civil.Date{Time: first.AddDate(0, -1, 0)}
	}
	return first
}

// maskedFields is what the audit log shows of a household's personal data.
func maskedFields(h Household) map[string]any {
	m := map[string]any{"archive_no": h.ArchiveNo, "head_name": pii.MaskName(h.HeadName),
		"id_number": pii.MaskIDNumber(h.IDNumber), "village_code": h.VillageCode, "members": h.Members, "status": string(h.Status)}
	if h.Phone != "" {
		m["phone"] = pii.MaskPhone(h.Phone)
	} else {
		m["phone"] = ""
	}
	return m
}

// diff lists the fields that differ between a and b, masked.
func diff(a, b Household) map[string]Change {
	ma, mb := maskedFields(a), maskedFields(b)
	out := map[string]Change{}
	raw := map[string]bool{
		"head_name": a.HeadName != b.HeadName, "id_number": a.IDNumber != b.IDNumber, "phone": a.Phone != b.Phone,
		"archive_no": a.ArchiveNo != b.ArchiveNo, "village_code": a.VillageCode != b.VillageCode,
		"members": a.Members != b.Members, "status": a.Status != b.Status,
	}
	for k, changed := range raw {
		if changed {
			out[k] = Change{From: ma[k], To: mb[k]}
		}
	}
	return out
}

// created is the audit change set of a new household: every field from null.
func created(h Household) map[string]Change {
	out := map[string]Change{}
	for k, v := range maskedFields(h) {
		out[k] = Change{From: nil, To: v}
	}
	return out
}

func writeAudit(ctx context.Context, tx *gorm.DB, p auth.Principal, householdID uuid.UUID, action string, changes map[string]Change, at time.Time) error {
	b, err := json.Marshal(changes)
	if err != nil {
		return err
	}
	id, role := actor(p)
	return tx.WithContext(ctx).Exec(`INSERT INTO household_audit (id, household_id, actor_id, actor_role, action, changes, at)
		VALUES (?, ?, ?, ?, ?, ?::jsonb, ?)`, uuid.Must(uuid.NewV7()), householdID, id, role, action, string(b), at).Error
}

// writeHistory records status and size from day on (the last write of a day wins).
func writeHistory(ctx context.Context, tx *gorm.DB, householdID uuid.UUID, day civil.Date, status Status, members int, at time.Time) error {
	return tx.WithContext(ctx).Exec(`INSERT INTO household_history (household_id, valid_from, status, members, recorded_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (household_id, valid_from) DO UPDATE SET status = excluded.status, members = excluded.members,
		    recorded_at = excluded.recorded_at`, householdID, day, string(status), members, at).Error
}

// Audit returns the audit log of a household the caller may see, oldest first (at most 1000).
// Errors: NotFound.
func (s *Service) Audit(ctx context.Context, p auth.Principal, id uuid.UUID) ([]AuditEntry, error) {
	if err := s.CheckVisible(ctx, p, id); err != nil {
		return nil, err
	}
	var rows []struct {
		ID        uuid.UUID
		ActorID   *uuid.UUID
		ActorRole string
		Action    string
		Changes   string
		At        time.Time
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT id, actor_id, actor_role, action, changes::text AS changes, at
		FROM household_audit WHERE household_id = ? ORDER BY at, id LIMIT 1000`, id).Scan(&rows).Error; err != nil {
		return nil, apperr.DB(err, "household audit")
	}
	out := make([]AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = AuditEntry{ID: r.ID, ActorID: r.ActorID, ActorRole: r.ActorRole, Action: r.Action, At: r.At.UTC()}
		if err := json.Unmarshal([]byte(r.Changes), &out[i].Changes); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// History returns a household's dated status and size, oldest first. Errors: NotFound.
func (s *Service) History(ctx context.Context, p auth.Principal, id uuid.UUID) ([]HistoryEntry, error) {
	if err := s.CheckVisible(ctx, p, id); err != nil {
		return nil, err
	}
	out := []HistoryEntry{}
	if err := s.db.WithContext(ctx).Raw(`SELECT valid_from, status, members FROM household_history
		WHERE household_id = ? ORDER BY valid_from`, id).Scan(&out).Error; err != nil {
		return nil, apperr.DB(err, "household history")
	}
	return out, nil
}
