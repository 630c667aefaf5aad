package household

import (
	"context"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

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

// appendCreated appends the JSON of created(h) to b, the same object as json.Marshal writes
// (the same keys and values; jsonb keeps no key order). A roster import writes one per new
// household: json.Marshal of the map of maps (reflection, sorting the keys) cost more CPU than
// sealing the household's three fields (docs/performance.md, "Roster import streaming").
func appendCreated(b []byte, h Household) []byte {
	phone := ""
	if h.Phone != "" {
		phone = pii.MaskPhone(h.Phone)
	}
	b = append(b, `{"archive_no":{"from":null,"to":`...)
	b = appendJSONString(b, h.ArchiveNo)
	b = append(b, `},"head_name":{"from":null,"to":`...)
	b = appendJSONString(b, pii.MaskName(h.HeadName))
	b = append(b, `},"id_number":{"from":null,"to":`...)
	b = appendJSONString(b, pii.MaskIDNumber(h.IDNumber))
	b = append(b, `},"village_code":{"from":null,"to":`...)
	b = appendJSONString(b, h.VillageCode)
	b = append(b, `},"members":{"from":null,"to":`...)
	b = strconv.AppendInt(b, int64(h.Members), 10)
	b = append(b, `},"status":{"from":null,"to":`...)
	b = appendJSONString(b, string(h.Status))
	b = append(b, `},"phone":{"from":null,"to":`...)
	b = appendJSONString(b, phone)
	return append(b, `}}`...)
}

// appendJSONString appends s as a JSON string: as it is between quotes when nothing in it needs
// escaping (the validated fields of a household never do), else as json.Marshal writes it (jsonb
// stores the string either way, not its escapes).
func appendJSONString(b []byte, s string) []byte {
	plain := utf8.ValidString(s)
	for i := 0; plain && i < len(s); i++ {
		plain = s[i] >= 0x20 && s[i] != '"' && s[i] != '\\'
	}
	if !plain {
		q, _ := json.Marshal(s) // a string always marshals
		return append(b, q...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
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
