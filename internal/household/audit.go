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
// A household registered by a roster import opens with that registration, derived from the
// import's row (importRegistrations): who, when, and every field from null to its value then.
// Errors: NotFound.
func (s *Service) Audit(ctx context.Context, p auth.Principal, id uuid.UUID) ([]AuditEntry, error) {
	r, err := s.st.get(ctx, p, id)
	if err != nil {
		return nil, apperr.DB(err, "household")
	}
	var rows []auditRow
	if err := s.db.WithContext(ctx).Raw(`SELECT id, household_id, actor_id, actor_role, action, changes::text AS changes, at
		FROM household_audit WHERE household_id = ? ORDER BY at, id`, id).Scan(&rows).Error; err != nil {
		return nil, apperr.DB(err, "household audit")
	}
	out := make([]AuditEntry, 0, len(rows)+1)
	for _, r := range rows {
		e, err := r.entry()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	reg, err := s.importRegistrations(ctx, []row{r}, map[uuid.UUID][]AuditEntry{id: out})
	if err != nil {
		return nil, err
	}
	if e, ok := reg[id]; ok {
		out = append([]AuditEntry{e}, out...)
	}
	if len(out) > 1000 {
		out = out[:1000]
	}
	return out, nil
}

// auditRow is a row of household_audit as read.
type auditRow struct {
	ID, HouseholdID uuid.UUID
	ActorID         *uuid.UUID
	ActorRole       string
	Action          string
	Changes         string
	At              time.Time
}

func (r auditRow) entry() (AuditEntry, error) {
	e := AuditEntry{ID: r.ID, ActorID: r.ActorID, ActorRole: r.ActorRole, Action: r.Action, At: r.At.UTC()}
	return e, json.Unmarshal([]byte(r.Changes), &e.Changes)
}

// importRegistrations derives the registration entries of those of hs that a roster import registered
// (households.import_id, migration 00620), by household: the entry's id is the household's own
// (a UUIDv7 of the import's moment, so it sorts among the audit entries as the row it replaces
// did), who and when are the import's, and the changes are every field from null to its value at
// the import: the household's current values with each later audited change taken back, newest
// first. later holds each household's audit entries, oldest first (every change to a household
// writes one with the old values: Update, the import's updates, MoveVillages).
func (s *Service) importRegistrations(ctx context.Context, hs []row, later map[uuid.UUID][]AuditEntry) (map[uuid.UUID]AuditEntry, error) {
	ids := make([]uuid.UUID, len(hs))
	for i, h := range hs {
		ids[i] = h.ID
	}
	var imports []struct {
		HouseholdID uuid.UUID
		ActorID     *uuid.UUID
		ActorRole   string
		At          time.Time
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT h.id AS household_id, i.actor_id, i.actor_role, i.at
		FROM households h JOIN household_imports i ON i.id = h.import_id WHERE h.id IN ?`, ids).Scan(&imports).Error; err != nil {
		return nil, apperr.DB(err, "household imports")
	}
	out := make(map[uuid.UUID]AuditEntry, len(imports))
	for _, im := range imports {
		var h *row
		for i := range hs {
			if hs[i].ID == im.HouseholdID {
				h = &hs[i]
			}
		}
		cur, err := s.open(*h)
		if err != nil {
			return nil, err
		}
		// The current values as an audit entry holds them (through JSON: members a float64).
		b, err := json.Marshal(maskedFields(cur))
		if err != nil {
			return nil, err
		}
		var then map[string]any
		if err := json.Unmarshal(b, &then); err != nil {
			return nil, err
		}
		changes := later[h.ID]
		for i := len(changes) - 1; i >= 0; i-- {
			for k, c := range changes[i].Changes {
				then[k] = c.From
			}
		}
		e := AuditEntry{ID: h.ID, ActorID: im.ActorID, ActorRole: im.ActorRole, Action: "import", At: im.At.UTC(),
			Changes: make(map[string]Change, len(then))}
		for k, v := range then {
			e.Changes[k] = Change{From: nil, To: v}
		}
		out[h.ID] = e
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
