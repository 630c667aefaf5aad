package procurement

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/platform/pii"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// Assistance keeps what a unit commits to: contacts, pairings (结对帮扶) and annual purchase
// targets, and measures its progress against them.
type Assistance struct {
	db       *gorm.DB
	vault    *pii.Vault
	now      func() time.Time
	reserved ReservedShares
}

// ReservedShares answers a unit's reserved share (预留份额) for a year: the reserved amount of
// its approved filing, where it filed one (ok false otherwise). The reserve package implements
// it; Progress then measures the unit against that amount instead of its bare target.
type ReservedShares interface {
	ApprovedReserve(ctx context.Context, unitID uuid.UUID, year int) (amount money.Money, ok bool, err error)
}

// UseReservedShares makes Progress prefer approved filings of reserved shares over targets.
// Called once while the application is built, before serving.
func (s *Assistance) UseReservedShares(r ReservedShares) { s.reserved = r }

// NewAssistance builds the service; vault seals contacts' names and phones.
func NewAssistance(db *gorm.DB, vault *pii.Vault) *Assistance {
	return &Assistance{db: db, vault: vault, now: func() time.Time { return time.Now().UTC() }}
}

// canSee reports whether p may read unit's records (admin: any; buyer: its own).
func canSee(p auth.Principal, unitID uuid.UUID) bool {
	return p.Role == auth.RoleAdmin || p.Role == auth.RoleBuyer && p.UnitID == unitID
}

// unitExists answers NotFound for an unknown unit or one p may not see.
func (s *Assistance) unitExists(ctx context.Context, p auth.Principal, unitID uuid.UUID) error {
	if !canSee(p, unitID) {
		return apperr.NotFound("assisting unit")
	}
	var n int64
	if err := s.db.WithContext(ctx).Table("assisting_units").Where("id = ?", unitID).Count(&n).Error; err != nil {
		return apperr.DB(err, "assisting unit")
	}
	if n == 0 {
		return apperr.NotFound("assisting unit")
	}
	return nil
}

// ContactRequest adds a contact person of a unit.
type ContactRequest struct {
	Name  string `json:"name"`  // personal data: sealed at rest, masked in responses
	Phone string `json:"phone"` // personal data: sealed at rest, masked in responses
	Title string `json:"title"` // job title, e.g. 工会主席
}

// Contact is a unit's contact person as shown: name and phone masked (张*三, 138****1234).
type Contact struct {
	ID        uuid.UUID `json:"id"`
	UnitID    uuid.UUID `json:"unit_id"`
	Name      string    `json:"name"`
	Phone     string    `json:"phone"`
	Title     string    `json:"title"`
	CreatedAt time.Time `json:"created_at"`
}

type contactRow struct {
	ID        uuid.UUID
	UnitID    uuid.UUID
	NameEnc   []byte
	PhoneEnc  []byte
	Title     string
	CreatedAt time.Time
}

func (contactRow) TableName() string { return "unit_contacts" }

var contactPhoneRe = regexp.MustCompile(`^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$`)

// AddContact seals and stores a contact of unitID (admin, or the unit's own buyer) and returns it
// masked. Errors: Invalid (name, phone, title), NotFound.
func (s *Assistance) AddContact(ctx context.Context, p auth.Principal, unitID uuid.UUID, req ContactRequest) (Contact, error) {
	var f apperr.Fields
	name, ok := text.Name(req.Name, 50)
	if !ok {
		f.Add("name", "%s", text.HiddenOr(req.Name, "must be 1 to 50 characters"))
	}
	phone := strings.ReplaceAll(text.ASCII(req.Phone), " ", "")
	if !contactPhoneRe.MatchString(phone) {
		f.Add("phone", "must be an 11-digit mobile number or a landline such as 0743-1234567")
	}
	title, ok := text.Optional(req.Title, 50)
	if !ok {
		f.Add("title", "%s", text.HiddenOr(req.Title, "must be at most 50 characters"))
	}
	if err := f.Err(); err != nil {
		return Contact{}, err
	}
	if err := s.unitExists(ctx, p, unitID); err != nil {
		return Contact{}, err
	}
	r := contactRow{ID: uuid.Must(uuid.NewV7()), UnitID: unitID, NameEnc: s.vault.Seal(name), PhoneEnc: s.vault.Seal(phone),
		Title: title, CreatedAt: s.now()}
	if err := s.db.WithContext(ctx).Create(&r).Error; err != nil {
		return Contact{}, apperr.DB(err, "contact")
	}
	return Contact{ID: r.ID, UnitID: unitID, Name: pii.MaskName(name), Phone: pii.MaskPhone(phone), Title: title, CreatedAt: r.CreatedAt}, nil
}

// Contacts lists a unit's contacts, masked, oldest first. Errors: NotFound.
func (s *Assistance) Contacts(ctx context.Context, p auth.Principal, unitID uuid.UUID) ([]Contact, error) {
	if err := s.unitExists(ctx, p, unitID); err != nil {
		return nil, err
	}
	var rows []contactRow
	if err := s.db.WithContext(ctx).Where("unit_id = ?", unitID).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, apperr.DB(err, "contact")
	}
	out := make([]Contact, 0, len(rows))
	for _, r := range rows {
		name, err1 := s.vault.Open(r.NameEnc)
		phone, err2 := s.vault.Open(r.PhoneEnc)
		if err1 != nil || err2 != nil {
			return nil, apperr.Unavailable("the personal-data key", err1)
		}
		out = append(out, Contact{ID: r.ID, UnitID: r.UnitID, Name: pii.MaskName(name), Phone: pii.MaskPhone(phone), Title: r.Title, CreatedAt: r.CreatedAt})
	}
	return out, nil
}

// PairingRequest pairs a unit with a village (12-digit code) or a household, from StartsOn to
// EndsOn inclusive (YYYY-MM-DD; EndsOn empty: open-ended).
type PairingRequest struct {
	VillageCode string     `json:"village_code"`
	HouseholdID *uuid.UUID `json:"household_id"`
	StartsOn    string     `json:"starts_on"`
	EndsOn      string     `json:"ends_on"`
}

// Pairing is a unit's pairing with one village or one household over dates.
type Pairing struct {
	ID          uuid.UUID   `json:"id"`
	UnitID      uuid.UUID   `json:"unit_id"`
	VillageCode *string     `json:"village_code"`
	HouseholdID *uuid.UUID  `json:"household_id"`
	StartsOn    civil.Date  `json:"starts_on"`
	EndsOn      *civil.Date `json:"ends_on"`
	CreatedAt   time.Time   `json:"created_at"`
}

// TableName maps Pairing to unit_pairings.
func (Pairing) TableName() string { return "unit_pairings" }

// AddPairing records a pairing (admins: the county office assigns them).
// Errors: Invalid (village_code or household_id, exactly one; starts_on, ends_on), NotFound.
func (s *Assistance) AddPairing(ctx context.Context, p auth.Principal, unitID uuid.UUID, req PairingRequest) (Pairing, error) {
	if p.Role != auth.RoleAdmin {
		return Pairing{}, apperr.Forbidden("pairings are assigned by the county office")
	}
	var f apperr.Fields
	pr := Pairing{ID: uuid.Must(uuid.NewV7()), UnitID: unitID, CreatedAt: s.now()}
	switch {
	case (req.VillageCode == "") == (req.HouseholdID == nil):
		f.Add("village_code", "give exactly one of village_code (12 digits) and household_id")
	case req.VillageCode != "":
		code := text.ASCII(req.VillageCode)
		if len(code) != 12 || strings.Trim(code, "0123456789") != "" {
			f.Add("village_code", "must be a 12-digit village code")
		}
		pr.VillageCode = &code
	default:
		var n int64
		if err := s.db.WithContext(ctx).Table("households_view").Where("id = ?", *req.HouseholdID).Count(&n).Error; err != nil {
			return Pairing{}, apperr.DB(err, "household")
		}
		if n == 0 {
			f.Add("household_id", "names no registered household")
		}
		pr.HouseholdID = req.HouseholdID
	}
	start, err := civil.ParseDate(req.StartsOn)
	if err != nil {
		f.Add("starts_on", "%s", err)
	}
	pr.StartsOn = start
	if req.EndsOn != "" {
		end, err := civil.ParseDate(req.EndsOn)
		switch {
		case err != nil:
			f.Add("ends_on", "%s, or empty for an open-ended pairing", err)
		case end.Before(start.Time):
			f.Add("ends_on", "must not be before starts_on")
		}
		pr.EndsOn = &end
	}
	if pr.VillageCode != nil && len(f) == 0 {
		if err := s.checkPairedVillage(ctx, &f, *pr.VillageCode, start); err != nil {
			return Pairing{}, err
		}
	}
	if err := f.Err(); err != nil {
		return Pairing{}, err
	}
	if err := s.unitExists(ctx, p, unitID); err != nil {
		return Pairing{}, err
	}
	// The unit's row is locked while its pairings are checked for overlap and the new one is
	// written: two identical requests at once would both see none and both be written.
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`SELECT 1 FROM assisting_units WHERE id = ? FOR UPDATE`, unitID).Error; err != nil {
			return err
		}
		field, with := "village_code", "village"
		q := tx.Table("unit_pairings").Where("unit_id = ?", unitID)
		if pr.VillageCode != nil {
			q = q.Where("village_code = ?", *pr.VillageCode)
		} else {
			field, with = "household_id", "household"
			q = q.Where("household_id = ?", *pr.HouseholdID)
		}
		// Date ranges, inclusive at both ends; an open end is infinity.
		var prev []Pairing
		if err := q.Where("starts_on <= coalesce(?::date, 'infinity') AND coalesce(ends_on, 'infinity') >= ?::date", pr.EndsOn, pr.StartsOn).
			Order("starts_on").Limit(1).Find(&prev).Error; err != nil {
			return err
		}
		if len(prev) > 0 {
			to := "open-ended"
			if prev[0].EndsOn != nil {
				to = "to " + prev[0].EndsOn.String()
			}
			return apperr.ConflictField(field, "the unit is already paired with this %s from %s %s (pairing %s): end that pairing first, or start this one after it",
				with, prev[0].StartsOn, to, prev[0].ID)
		}
		return tx.Create(&pr).Error
	})
	if _, ok := apperr.As(err); ok {
		return Pairing{}, err
	}
	return pr, apperr.DB(err, "pairing")
}

// checkPairedVillage adds a problem on village_code unless code is a village current on day
// (China's calendar): a village merged away before day is named with the village it went into,
// whose households the pairing means.
func (s *Assistance) checkPairedVillage(ctx context.Context, f *apperr.Fields, code string, day civil.Date) error {
	var v []struct {
		ValidFrom     *civil.Date
		ValidTo       *civil.Date
		SuccessorCode *string
	}
	if err := s.db.WithContext(ctx).Table("regions_view").Select("valid_from, valid_to, successor_code").
		Where("code = ? AND level = 5", code).Find(&v).Error; err != nil {
		return apperr.DB(err, "region")
	}
	switch {
	case len(v) == 0:
		f.Add("village_code", "names no village")
	case v[0].ValidTo != nil && !day.Before(v[0].ValidTo.Time):
		succ := "no successor"
		if v[0].SuccessorCode != nil {
			succ = *v[0].SuccessorCode
		}
		f.Add("village_code", "%s was merged into %s on %s, before starts_on %s: pair the unit with %s",
			code, succ, v[0].ValidTo, day, succ)
	case v[0].ValidFrom != nil && day.Before(v[0].ValidFrom.Time):
		f.Add("village_code", "%s exists from %s (a merge created it), after starts_on %s: start the pairing on or after %s",
			code, v[0].ValidFrom, day, v[0].ValidFrom)
	}
	return nil
}

// Pairings lists a unit's pairings by start date. Errors: NotFound.
func (s *Assistance) Pairings(ctx context.Context, p auth.Principal, unitID uuid.UUID) ([]Pairing, error) {
	if err := s.unitExists(ctx, p, unitID); err != nil {
		return nil, err
	}
	list := []Pairing{}
	err := s.db.WithContext(ctx).Where("unit_id = ?", unitID).Order("starts_on, id").Find(&list).Error
	return list, apperr.DB(err, "pairing")
}

// MaxTargetFen bounds a unit's yearly target: ¥100 billion, far above any one unit's purchasing,
// so that a slip of the keyboard (fen typed as yuan twice over) is refused with the bound named.
const MaxTargetFen money.Money = 10_000_000_000_000

// SetTarget sets a unit's purchase target (预留份额) for year, in fen (1..MaxTargetFen); admins only.
// Errors: Invalid (year 2000..2100, amount_fen), NotFound, Forbidden.
func (s *Assistance) SetTarget(ctx context.Context, p auth.Principal, unitID uuid.UUID, year int, amount money.Money) error {
	if p.Role != auth.RoleAdmin {
		return apperr.Forbidden("targets are set by the county office")
	}
	var f apperr.Fields
	if year < 2000 || year > 2100 {
		f.Add("year", "must be from 2000 to 2100")
	}
	if amount <= 0 || amount > MaxTargetFen {
		f.Add("amount_fen", "must be from 1 to %d fen (¥%s)", MaxTargetFen, "100,000,000,000")
	}
	if err := f.Err(); err != nil {
		return err
	}
	if err := s.unitExists(ctx, p, unitID); err != nil {
		return err
	}
	err := s.db.WithContext(ctx).Exec(`INSERT INTO unit_targets (unit_id, year, amount_fen, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (unit_id, year) DO UPDATE SET amount_fen = EXCLUDED.amount_fen, updated_at = EXCLUDED.updated_at`,
		unitID, year, amount, s.now()).Error
	return apperr.DB(err, "target")
}

// Progress is a unit's purchasing in one year (China Standard Time) against its target. Amounts
// are fen of lines of orders PAID in the year, net of refunds. PairedFen is the part that reached
// households paired with the unit on the day of payment, directly or through their village,
// by the products' supplier shares (floored to the fen); PairedShareBP is PairedFen / BoughtFen
// in basis points; HouseholdsBenefited counts distinct supplier households of lines not wholly
// refunded. TargetFen is the reserved amount of the unit's approved filing of reserved shares
// where it has one (TargetSource "reserve_filing"), else the target the county office set
// ("unit_target"), else 0 ("none"); RemainingFen is never negative.
type Progress struct {
	UnitID              uuid.UUID   `json:"unit_id"`
	Year                int         `json:"year"`
	TargetFen           money.Money `json:"target_fen"`
	TargetSource        string      `json:"target_source"`
	BoughtFen           money.Money `json:"bought_fen"`
	RemainingFen        money.Money `json:"remaining_fen"`
	TargetReachedBP     int64       `json:"target_reached_bp"`
	PairedFen           money.Money `json:"paired_fen"`
	PairedShareBP       int64       `json:"paired_share_bp"`
	HouseholdsBenefited int         `json:"households_benefited"`
}

// Progress measures unitID's year (0: the current year in China). Errors: Invalid (year), NotFound.
func (s *Assistance) Progress(ctx context.Context, p auth.Principal, unitID uuid.UUID, year int) (Progress, error) {
	if year == 0 {
		year = s.now().In(civil.China).Year()
	}
	if year < 2000 || year > 2100 {
		return Progress{}, apperr.Invalid(apperr.Field("year", "must be from 2000 to 2100"))
	}
	if err := s.unitExists(ctx, p, unitID); err != nil {
		return Progress{}, err
	}
	from := time.Date(year, 1, 1, 0, 0, 0, 0, civil.China)
	pr := Progress{UnitID: unitID, Year: year}
	err := s.db.WithContext(ctx).Raw(`
		WITH l AS (
		    SELECT l.id, o.paid_at, (o.paid_at AT TIME ZONE 'Asia/Shanghai')::date AS paid_on,
		           (l.quantity - l.refunded_quantity) * l.unit_price_fen AS net
		    FROM orders o JOIN order_lines l ON l.order_id = o.id
		    WHERE o.unit_id = @unit AND o.paid_at >= @from AND o.paid_at < @to AND o.status <> 'cancelled'
		), s AS (
		    -- the shares frozen with the line and the household's village when it was paid: the
		    -- village range holding paid_at (household_villages_view), joined set-wise rather than
		    -- household_village_at per share, which PostgreSQL cannot inline (ranges never overlap,
		    -- so at most one matches, the one the function picks; none gives NULL as it does)
		    SELECT l.net, l.paid_on, ps.share_bp, ps.household_id, hv.village_code
		    FROM l JOIN order_line_suppliers ps ON ps.order_line_id = l.id AND ps.household_id IS NOT NULL
		    LEFT JOIN household_villages_view hv ON hv.household_id = ps.household_id
		         AND hv.valid_from <= l.paid_at AND l.paid_at < hv.valid_to
		)
		SELECT (SELECT coalesce(sum(net), 0) FROM l)::bigint AS bought_fen,
		       (SELECT div(coalesce(sum(s.net * s.share_bp), 0), 10000) FROM s WHERE EXISTS (
		            SELECT 1 FROM unit_pairings pr
		            WHERE pr.unit_id = @unit AND (pr.village_code = s.village_code OR pr.household_id = s.household_id)
		              AND pr.starts_on <= s.paid_on AND (pr.ends_on IS NULL OR pr.ends_on >= s.paid_on)))::bigint AS paired_fen,
		       (SELECT count(DISTINCT household_id) FROM s WHERE net > 0) AS households_benefited,
		       (SELECT coalesce(max(amount_fen), 0) FROM unit_targets WHERE unit_id = @unit AND year = @year) AS target_fen`,
		map[string]any{"unit": unitID, "from": from, "to": from.AddDate(1, 0, 0), "year": year}).Scan(&pr).Error
	if err != nil {
		return Progress{}, apperr.DB(err, "progress")
	}
	pr.UnitID, pr.Year, pr.TargetSource = unitID, year, "none"
	if pr.TargetFen > 0 {
		pr.TargetSource = "unit_target"
	}
	if s.reserved != nil {
		amount, ok, err := s.reserved.ApprovedReserve(ctx, unitID, year)
		if err != nil {
			return Progress{}, err
		}
		if ok {
			pr.TargetFen, pr.TargetSource = amount, "reserve_filing"
		}
	}
	pr.RemainingFen = max(pr.TargetFen-pr.BoughtFen, 0)
	if pr.TargetFen > 0 {
		pr.TargetReachedBP = int64(pr.BoughtFen) * 10000 / int64(pr.TargetFen)
	}
	if pr.BoughtFen > 0 {
		pr.PairedShareBP = int64(pr.PairedFen) * 10000 / int64(pr.BoughtFen)
	}
	return pr, nil
}
