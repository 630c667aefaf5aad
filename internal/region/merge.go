package region

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/fupinmarket/fupin/internal/catalog"
	"github.com/fupinmarket/fupin/internal/household"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/text"
	"github.com/fupinmarket/fupin/internal/station"
)

// MergeRequest merges villages (村庄撤并): Villages (1 to MaxMerged current 12-digit village codes
// of one county) go into SuccessorCode, either an existing current village of the same county
// (SuccessorName, if given, renames it: a new name version, the old one kept) or a new village
// under an existing township (SuccessorName required).
type MergeRequest struct {
	Villages      []string `json:"villages"`
	SuccessorCode string   `json:"successor_code"`
	SuccessorName string   `json:"successor_name"`
}

// MaxMerged bounds the villages of one merge.
const MaxMerged = 100

// Merge is what a merge did: the successor village as it is now, the villages merged into it,
// the day it took effect (China's calendar; the merged villages are valid until the day before)
// and how many households moved.
type Merge struct {
	ID              uuid.UUID `json:"id"`
	Successor       Region    `json:"successor"`
	Created         bool      `json:"created"`
	MergedCodes     []string  `json:"merged_codes"`
	EffectiveOn     string    `json:"effective_on"`
	HouseholdsMoved int       `json:"households_moved"`
}

// Merger merges villages.
type Merger struct {
	db  *gorm.DB
	now func() time.Time
}

// NewMerger returns a Merger over db.
func NewMerger(db *gorm.DB) *Merger {
	return &Merger{db: db, now: func() time.Time { return time.Now().UTC() }}
}

// Merge merges villages into a successor, from today (China Standard Time), in one transaction,
// without touching the past: the merged villages keep their rows, codes and names (valid_to =
// today, successor_code), their current households move to the successor (each move recorded in
// household_villages by its trigger, and in the household audit), their cooperatives and the
// origin of their products move with them, and every station serving one of them serves the
// successor too (keeping the old village for its history). Ledger entries, order lines (their
// frozen origin and shares) and past reports do not change.
//
// The households, cooperatives, product origins and station villages move through their owners'
// operations (household, catalog, station), each given the merge's transaction, because a merge
// is one event: a village half merged is wrong.
//
// Errors: Forbidden (not the county office); Invalid naming villages, villages[i],
// successor_code or successor_name; Conflict naming villages[i] when it was already merged away.
func (m *Merger) Merge(ctx context.Context, p auth.Principal, req MergeRequest) (Merge, error) {
	if !p.IsAdmin() {
		return Merge{}, apperr.Forbidden("only the county office merges villages")
	}
	codes, succ, name, err := req.parse()
	if err != nil {
		return Merge{}, err
	}
	now := m.now()
	today := now.In(civil.China).Format(time.DateOnly)
	out := Merge{ID: uuid.Must(uuid.NewV7()), MergedCodes: codes, EffectiveOn: today}
	err = database.Tx(ctx, m.db, func(tx *gorm.DB) error {
		if err := lockMerged(tx, codes); err != nil {
			return err
		}
		created, err := prepareSuccessor(tx, succ, name, today)
		if err != nil {
			return err
		}
		out.Created = created
		res := tx.Exec(`UPDATE regions SET valid_to = ?, successor_code = ? WHERE code IN ?`, today, succ, codes)
		if res.Error != nil {
			if apperr.PgConstraint(res.Error) == "regions_validity" {
				return apperr.ConflictField("villages", "a village created today cannot be merged away the same day")
			}
			return res.Error
		}
		moved, err := moveToSuccessor(ctx, tx, codes, succ, p.UserID, now)
		if err != nil {
			return err
		}
		out.HouseholdsMoved = moved
		if err := tx.Exec(`INSERT INTO region_merges (id, successor_code, merged_codes, effective_on, households, actor_id, created_at)
			VALUES (?, ?, CAST(? AS text[]), ?, ?, ?, ?)`, out.ID, succ, pgTextArray(codes), today, moved, p.UserID, now).Error; err != nil {
			return err
		}
		return tx.Where("code = ?", succ).Take(&out.Successor).Error
	})
	if err != nil {
		return Merge{}, apperr.DB(err, "region merge")
	}
	return out, nil
}

// parse validates the request before any lookup: the merged codes (cleaned, in request order),
// the successor's code and its new name ("" to keep it). Errors: Invalid naming villages,
// villages[i], successor_code or successor_name.
func (req MergeRequest) parse() (codes []string, succ, name string, err error) {
	var f apperr.Fields
	if len(req.Villages) == 0 || len(req.Villages) > MaxMerged {
		f.Add("villages", "must list 1 to %d village codes to merge", MaxMerged)
	}
	succ = text.ASCII(req.SuccessorCode)
	if len(succ) != 12 || !ValidCode(succ) {
		f.Add("successor_code", "must be a 12-digit village code")
	}
	if req.SuccessorName != "" {
		var ok bool
		if name, ok = text.Name(req.SuccessorName, 60); !ok {
			f.Add("successor_name", "%s", text.NameReason(req.SuccessorName, 60))
		}
	}
	codes = make([]string, len(req.Villages))
	for i, v := range req.Villages {
		codes[i] = text.ASCII(v)
		field := fmt.Sprintf("villages[%d]", i)
		switch {
		case len(codes[i]) != 12 || !ValidCode(codes[i]):
			f.Add(field, "must be a 12-digit village code")
		case slices.Contains(codes[:i], codes[i]):
			f.Add(field, "is listed twice")
		case codes[i] == succ:
			f.Add(field, "is the successor itself; list only the villages that go into it")
		case len(succ) == 12 && codes[i][:6] != succ[:6]:
			f.Add(field, "is not in the successor's county %s; villages merge within a county", succ[:6])
		}
	}
	return codes, succ, name, f.Err()
}

// lockMerged locks the villages to merge, in code order, and checks each is a current village.
// Errors: Invalid naming villages[i] that names no village; Conflict naming villages[i] merged
// away before.
func lockMerged(tx *gorm.DB, codes []string) error {
	var src []Region
	if err := tx.Where("code IN ?", codes).Order("code").
		Clauses(clause.Locking{Strength: "UPDATE"}).Find(&src).Error; err != nil {
		return err
	}
	var f apperr.Fields
	for i, c := range codes {
		j := slices.IndexFunc(src, func(r Region) bool { return r.Code == c })
		switch {
		case j < 0 || src[j].Level != Village:
			f.Add(fmt.Sprintf("villages[%d]", i), "names no village; import regions or check the code")
		case src[j].ValidTo != nil:
			return apperr.ConflictField(fmt.Sprintf("villages[%d]", i), "village %s was already merged away on %s", c, src[j].ValidTo)
		}
	}
	return f.Err()
}

// prepareSuccessor locks the successor village and renames it (name not "" and new), or creates
// it under its current township from today; created says it did. Errors: Invalid naming
// successor_code or successor_name.
func prepareSuccessor(tx *gorm.DB, succ, name, today string) (created bool, err error) {
	var cur []Region
	if err := tx.Where("code = ?", succ).Clauses(clause.Locking{Strength: "UPDATE"}).Find(&cur).Error; err != nil {
		return false, err
	}
	switch {
	case len(cur) == 1 && (cur[0].Level != Village || cur[0].ValidTo != nil):
		return false, apperr.Invalid(apperr.Field("successor_code", "must be a current village (this one is not a village or was merged away)"))
	case len(cur) == 1 && name != "" && name != cur[0].Name:
		// The trigger of migration 00052 keeps the old name as a version.
		return false, tx.Table("regions").Where("code = ?", succ).Update("name", name).Error
	case len(cur) == 1:
		return false, nil
	case name == "":
		return false, apperr.Invalid(apperr.Field("successor_name", "is required for a new village (successor_code names none yet)"))
	}
	var township []Region
	if err := tx.Where("code = ? AND valid_to IS NULL", succ[:9]).Find(&township).Error; err != nil {
		return false, err
	}
	if len(township) == 0 {
		return false, apperr.Invalid(apperr.Field("successor_code", "its township %s does not exist (or was merged away); a new village goes under a current township", succ[:9]))
	}
	return true, tx.Exec(`INSERT INTO regions (code, name, level, parent_code, valid_from) VALUES (?, ?, 5, ?, ?)`,
		succ, name, succ[:9], today).Error
}

// moveToSuccessor moves what else keeps a village code through its owner, in the merge's
// transaction: households (how many moved is returned), cooperatives, product origins and the
// villages stations serve.
func moveToSuccessor(ctx context.Context, tx *gorm.DB, codes []string, succ string, actor uuid.UUID, now time.Time) (int, error) {
	moved, err := household.MoveVillages(ctx, tx, codes, succ, actor, now)
	if err != nil {
		return 0, err
	}
	if err := household.MoveCooperatives(ctx, tx, codes, succ); err != nil {
		return 0, err
	}
	if err := catalog.MoveOrigins(ctx, tx, codes, succ, now); err != nil {
		return 0, err
	}
	return moved, station.ServeSuccessor(ctx, tx, codes, succ)
}

// pgTextArray is a PostgreSQL array literal of codes (digits only: no quoting needed).
func pgTextArray(codes []string) string { return "{" + strings.Join(codes, ",") + "}" }
