package household

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/pii"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// Service registers, reads and updates households within the caller's scope.
type Service struct {
	db      *gorm.DB
	st      store
	vault   *pii.Vault
	regions Regions
	now     func() time.Time
}

// Regions is what household needs from the region register (region.Store): the one refusal of
// a village merged away, worded as stations and products get it.
type Regions interface {
	// NotMerged: Invalid naming field, with the merged code, its successor and the day; Unavailable.
	NotMerged(ctx context.Context, field string, codes []string) error
	// MergedReason: NotMerged's reason for code, merged away on validTo into successor (nil: none).
	MergedReason(code string, successor *string, validTo civil.Date) string
}

// NewService builds the household service; vault seals personal data.
func NewService(db *gorm.DB, vault *pii.Vault, regions Regions) *Service {
	return &Service{db: db, st: store{db}, vault: vault, regions: regions, now: func() time.Time { return time.Now().UTC() }}
}

// WithClock returns the service on another clock: what it registers or changes is dated by now
// (the demo registers its households before the income it back-dates; see ledger.WithClock).
func (s *Service) WithClock(now func() time.Time) *Service {
	c := *s
	c.now = now
	return &c
}

// NewHousehold is a registration request as typed by a person.
type NewHousehold struct {
	ArchiveNo   string `json:"archive_no"`
	HeadName    string `json:"head_name"`
	IDNumber    string `json:"id_number"`
	Phone       string `json:"phone"`
	VillageCode string `json:"village_code"`
	Members     int    `json:"members"`
	Status      Status `json:"status"`
}

// validate normalises req in place and returns the fields to fix.
func (req *NewHousehold) validate(now time.Time) apperr.Fields {
	var f apperr.Fields
	req.ArchiveNo = strings.ToUpper(text.ASCII(req.ArchiveNo))
	if !archiveRe.MatchString(req.ArchiveNo) {
		f.Add("archive_no", "must be 1 to 32 letters, digits or '-'")
	}
	var ok bool
	if req.HeadName, ok = text.Name(req.HeadName, MaxNameLen); !ok {
		f.Add("head_name", "%s", text.NameReason(req.HeadName, MaxNameLen))
	} else if !strings.ContainsFunc(req.HeadName, unicode.IsLetter) {
		// Combining marks alone print as marks over nothing ("́*́" masked): a name has a letter.
		f.Add("head_name", "must hold a letter: a name is not only marks, digits or symbols")
	}
	req.IDNumber = NormalizeIDNumber(req.IDNumber)
	if why := CheckIDNumber(req.IDNumber, now); why != "" {
		f.Add("id_number", "%s", why)
	}
	req.Phone = strings.ReplaceAll(text.ASCII(req.Phone), " ", "")
	if req.Phone != "" && !phoneRe.MatchString(req.Phone) {
		f.Add("phone", "must be an 11-digit mobile number or a landline such as 0743-1234567")
	}
	req.VillageCode = text.ASCII(req.VillageCode)
	if len(req.VillageCode) != 12 || strings.Trim(req.VillageCode, "0123456789") != "" {
		f.Add("village_code", "must be a 12-digit village code (统计用区划代码)")
	}
	if req.Members < 1 || req.Members > MaxMembers {
		f.Add("members", "must be between 1 and %d", MaxMembers)
	}
	if !req.Status.Valid() {
		f.Add("status", "must be one of poor, lifted, monitored_unstable, monitored_marginal, monitored_hardship")
	}
	return f
}

// Register validates and stores a household in one transaction.
// Errors: Invalid (fields, including a village outside a station's scope), Conflict naming
// archive_no or id_number when either is already registered.
func (s *Service) Register(ctx context.Context, p auth.Principal, req NewHousehold) (Household, error) {
	now := s.now()
	if f := req.validate(now); len(f) > 0 {
		return Household{}, f.Err()
	}
	if err := s.checkVillage(ctx, p, req.VillageCode); err != nil {
		return Household{}, err
	}
	h := Household{ID: uuid.Must(uuid.NewV7()), ArchiveNo: req.ArchiveNo, HeadName: req.HeadName,
		IDNumber: req.IDNumber, Phone: req.Phone, VillageCode: req.VillageCode, CountyCode: req.VillageCode[:6],
		Members: req.Members, Status: req.Status, CreatedAt: now, UpdatedAt: now}
	r := s.seal(h)
	// The household, its first history row and the audit entry commit together.
	err := database.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.WithContext(ctx).Create(&r).Error; err != nil {
			return uniqueness(err)
		}
		if err := writeHistory(ctx, tx, h.ID, civil.Today(now), h.Status, h.Members, now); err != nil {
			return err
		}
		return writeAudit(ctx, tx, p, h.ID, "register", created(h), now)
	})
	if err != nil {
		return Household{}, apperr.DB(err, "household")
	}
	return h, nil
}

func (s *Service) checkVillage(ctx context.Context, p auth.Principal, village string) error {
	if err := s.regions.NotMerged(ctx, "village_code", []string{village}); err != nil {
		return err
	}
	ok, err := s.st.village(ctx, village)
	switch {
	case err != nil:
		return apperr.DB(err, "region")
	case !ok:
		return apperr.Invalid(apperr.Field("village_code", "names no current village; import regions or check the code (a merged village's households go to its successor)"))
	}
	if p.Role == auth.RoleStation {
		served, err := s.st.villageServed(ctx, p.StationID, village)
		if err != nil {
			return apperr.DB(err, "station")
		}
		if !served {
			return apperr.Invalid(apperr.Field("village_code", "is not a village your station serves"))
		}
	}
	return nil
}

// The refusals of a registration that repeats a registered household. They say no more than
// that it exists (not its archive number, village or station), so that a station operator learns
// nothing of households outside its villages; a roster import says the same to stations.
const (
	idNumberTaken = "a household with this resident ID number is already registered"
	archiveTaken  = "a household with this archive number is already registered"
	// A roster row naming another head or ID number under a registered archive number.
	headNotRegistered     = "is not the head registered under this archive number: a household's head and resident ID number never change (register a new household for another person)"
	idNumberNotRegistered = "is not the resident ID number registered under this archive number: a household's head and resident ID number never change (register a new household for another person)"
)

func uniqueness(err error) error {
	if apperr.PgCode(err) == apperr.PgUniqueViolation {
		if strings.Contains(apperr.PgConstraint(err), "hmac") {
			return apperr.ConflictField("id_number", idNumberTaken)
		}
		return apperr.ConflictField("archive_no", archiveTaken)
	}
	return apperr.DB(err, "household")
}

// Get returns one household the caller may see. Errors: NotFound (also when out of scope).
func (s *Service) Get(ctx context.Context, p auth.Principal, id uuid.UUID) (Household, error) {
	r, err := s.st.get(ctx, p, id)
	if err != nil {
		return Household{}, apperr.DB(err, "household")
	}
	return s.open(r)
}

// CheckVisible returns nil when p may see the household, NotFound otherwise.
func (s *Service) CheckVisible(ctx context.Context, p auth.Principal, id uuid.UUID) error {
	_, err := s.st.get(ctx, p, id)
	return apperr.DB(err, "household")
}

// List returns up to f.Limit (1..500, default 100) households in id order after f.After.
func (s *Service) List(ctx context.Context, p auth.Principal, f ListFilter) ([]Household, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	rows, err := s.st.list(ctx, p, f)
	if err != nil {
		return nil, apperr.DB(err, "household")
	}
	out := make([]Household, 0, len(rows))
	for _, r := range rows {
		h, err := s.open(r)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// Patch changes the named fields only; nil means "leave as is", so 0 or "" are real values.
// EffectiveFrom is the day (China Standard Time) a change of members or status took effect, for
// the dated history; default today. It may not be in the future, nor in a closed month
// (civil.FirstOpenDay).
type Patch struct {
	Phone         *string     `json:"phone"`
	Members       *int        `json:"members"`
	Status        *Status     `json:"status"`
	EffectiveFrom *civil.Date `json:"effective_from"`
}

// Update applies a patch in one transaction with its history row and audit entry: the household
// row is locked, the fields that really change are written, and nothing (no audit) when nothing
// changes. Errors: NotFound, Invalid.
func (s *Service) Update(ctx context.Context, p auth.Principal, id uuid.UUID, patch Patch) (Household, error) {
	now := s.now()
	phone, day, err := patch.parse(civil.Today(now))
	if err != nil {
		return Household{}, err
	}
	var out Household
	err = database.Tx(ctx, s.db, func(tx *gorm.DB) error {
		var r row
		if err := scoped(tx.WithContext(ctx), p).Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ?", id).Take(&r).Error; err != nil {
			return apperr.DB(err, "household")
		}
		old, err := s.open(r)
		if err != nil {
			return err
		}
		next, cols := s.applyPatch(old, patch, phone)
		out = next
		if len(cols) == 0 {
			return nil
		}
		cols["updated_at"] = now
		out.UpdatedAt = now
		if err := tx.WithContext(ctx).Model(&row{}).Where("id = ?", id).Updates(cols).Error; err != nil {
			return err
		}
		if next.Members != old.Members || next.Status != old.Status {
			if err := recordChange(ctx, tx, id, day, next, now); err != nil {
				return err
			}
		}
		return writeAudit(ctx, tx, p, id, "update", diff(old, next), now)
	})
	if err != nil {
		return Household{}, apperr.DB(err, "household")
	}
	return out, nil
}

// parse validates a patch on day (today, China): the cleaned phone and the day the change of
// size or status takes effect. Errors: Invalid naming phone, members, status or effective_from.
func (patch Patch) parse(day civil.Date) (phone string, from civil.Date, err error) {
	var f apperr.Fields
	if patch.Phone != nil {
		phone = strings.ReplaceAll(text.ASCII(*patch.Phone), " ", "")
		if phone != "" && !phoneRe.MatchString(phone) {
			f.Add("phone", "must be an 11-digit mobile number or a landline such as 0743-1234567")
		}
	}
	if patch.Members != nil && (*patch.Members < 1 || *patch.Members > MaxMembers) {
		f.Add("members", "must be between 1 and %d", MaxMembers)
	}
	if patch.Status != nil && !patch.Status.Valid() {
		f.Add("status", "must be one of poor, lifted, monitored_unstable, monitored_marginal, monitored_hardship")
	}
	from = day
	if patch.EffectiveFrom != nil {
		if open := civil.FirstOpenDay(day); patch.EffectiveFrom.After(day.Time) {
			// A change is recorded when it has happened: a future day is not a late change.
			f.Add("effective_from", "must not be in the future: %s is after today (%s, China time); record the change on the day it takes effect",
				*patch.EffectiveFrom, day)
		} else if patch.EffectiveFrom.Before(open.Time) {
			f.Add("effective_from", "must be a day from %s to today: earlier months are closed (their reports were filed by the %dth of the next month and never change), so record a late change from %s",
				open, civil.ReportDueDay, open)
		}
		from = *patch.EffectiveFrom
	}
	return phone, from, f.Err()
}

// applyPatch is old with the patch's changes and the columns that change (phone sealed).
func (s *Service) applyPatch(old Household, patch Patch, phone string) (Household, map[string]any) {
	next := old
	cols := map[string]any{}
	if patch.Phone != nil && phone != old.Phone {
		next.Phone, cols["phone_enc"] = phone, s.vault.Seal(phone)
	}
	if patch.Members != nil && *patch.Members != old.Members {
		next.Members, cols["members"] = *patch.Members, *patch.Members
	}
	if patch.Status != nil && *patch.Status != old.Status {
		next.Status, cols["status"] = *patch.Status, *patch.Status
	}
	return next, cols
}

// recordChange writes the household's new size and status into its history from day.
// Errors: Invalid naming effective_from when day is before the last recorded change.
func recordChange(ctx context.Context, tx *gorm.DB, id uuid.UUID, day civil.Date, next Household, now time.Time) error {
	// The history is a sequence: a change cannot take effect before one already recorded, or the
	// register's current figures and its history would disagree.
	var last []civil.Date
	if err := tx.WithContext(ctx).Raw(`SELECT max(valid_from) FROM household_history WHERE household_id = ? HAVING count(*) > 0`, id).
		Scan(&last).Error; err != nil {
		return err
	}
	if len(last) == 1 && day.Before(last[0].Time) {
		return apperr.Invalid(apperr.Field("effective_from", "must not be before the last recorded change, %s", last[0]))
	}
	return writeHistory(ctx, tx, id, day, next.Status, next.Members, now)
}

// OutsideStation returns those of ids that are not households of the station's villages.
func (s *Service) OutsideStation(ctx context.Context, stationID uuid.UUID, ids []uuid.UUID) ([]uuid.UUID, error) {
	var inside []uuid.UUID
	err := scoped(s.db.WithContext(ctx).Model(&row{}), auth.Principal{Role: auth.RoleStation, StationID: stationID}).
		Where("id IN ?", ids).Pluck("id", &inside).Error
	if err != nil {
		return nil, apperr.DB(err, "household")
	}
	in := make(map[uuid.UUID]bool, len(inside))
	for _, id := range inside {
		in[id] = true
	}
	var out []uuid.UUID
	for _, id := range ids {
		if !in[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

// MaskedHeads returns the masked head's name of each household id (for scan pages and reports).
func (s *Service) MaskedHeads(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]string, error) {
	var rows []row
	if err := s.db.WithContext(ctx).Select("id", "head_name_enc").Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, apperr.DB(err, "household")
	}
	out := make(map[uuid.UUID]string, len(rows))
	for _, r := range rows {
		name, err := s.vault.Open(r.HeadNameEnc)
		if err != nil {
			return nil, err
		}
		out[r.ID] = pii.MaskName(name)
	}
	return out, nil
}

func (s *Service) seal(h Household) row {
	return row{ID: h.ID, ArchiveNo: h.ArchiveNo, HeadNameEnc: s.vault.Seal(h.HeadName),
		IDNumberEnc: s.vault.Seal(h.IDNumber), IDNumberHmac: s.vault.BlindIndex(h.IDNumber),
		PhoneEnc: s.vault.Seal(h.Phone), VillageCode: h.VillageCode, CountyCode: h.CountyCode,
		Members: h.Members, Status: h.Status, CreatedAt: h.CreatedAt, UpdatedAt: h.UpdatedAt}
}

func (s *Service) open(r row) (Household, error) {
	var errs [3]error
	h := Household{ID: r.ID, ArchiveNo: r.ArchiveNo, VillageCode: r.VillageCode, CountyCode: r.CountyCode,
		Members: r.Members, Status: r.Status, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	h.HeadName, errs[0] = s.vault.Open(r.HeadNameEnc)
	h.IDNumber, errs[1] = s.vault.Open(r.IDNumberEnc)
	h.Phone, errs[2] = s.vault.Open(r.PhoneEnc)
	return h, errors.Join(errs[:]...)
}
