package reserve

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/platform/pii"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// FilingRequest is a unit's filing for a year. Canteen "own" or "outsourced" gives the canteen
// food purchase total (fen, > 0) and the ratio (bp, at least the minimum for the unit's area);
// "outsourced" also names the contractor; "none" is a zero return (零填报): total 0, no ratio,
// and the reason. Units sharing the canteen are named in SharedUnitIDs (they file nothing
// themselves). The contact is personal data: sealed at rest, masked when shown.
type FilingRequest struct {
	Canteen         Canteen     `json:"canteen"`
	Contractor      string      `json:"contractor"`
	CanteenTotalFen money.Money `json:"canteen_total_fen"`
	RatioBP         int64       `json:"ratio_bp"`
	ZeroReason      string      `json:"zero_reason"`
	SharedUnitIDs   []uuid.UUID `json:"shared_unit_ids"`
	ContactName     string      `json:"contact_name"`
	ContactPhone    string      `json:"contact_phone"`
}

var phoneRe = regexp.MustCompile(`^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$`)

// maxTotal bounds a canteen total: ¥1 trillion, far above any canteen's year, and small enough that
// total × ratio (at most 10,000 bp) stays in int64 (2^50 did not: 9.3e14 × 10,000 overflowed).
const maxTotal = money.Money(100_000_000_000_000)

// checkYear refuses a year before FirstYear or after next year.
func (s *Service) checkYear(year int) error {
	if last := s.thisYear() + 1; year < FirstYear || year > last {
		return apperr.Invalid(apperr.Field("year", "must be from %d (the first year of reserved shares) to %d", FirstYear, last))
	}
	return nil
}

// validate checks the request on its own and returns it cleaned.
func (req FilingRequest) validate(unitID uuid.UUID) (FilingRequest, error) {
	var f apperr.Fields
	negative := req.CanteenTotalFen < 0
	if negative {
		f.Add("canteen_total_fen", "must not be negative: the year's canteen food purchases in fen")
	}
	switch req.Canteen {
	case CanteenOwn, CanteenOutsourced:
		switch {
		case !negative && req.CanteenTotalFen == 0:
			f.Add("canteen_total_fen", "must be a positive amount in fen; a unit without a canteen files a zero return (canteen none)")
		case req.CanteenTotalFen > maxTotal:
			f.Add("canteen_total_fen", "must be from 1 to %d fen (¥%s)", maxTotal, "1,000,000,000,000")
		}
		if req.RatioBP < 1 || req.RatioBP > 10000 {
			f.Add("ratio_bp", "must be from 1 to 10000 basis points (1000 = 10 %%), and at least the minimum for the unit's area")
		}
		if req.ZeroReason != "" {
			f.Add("zero_reason", "is for zero returns only (canteen none)")
		}
	case CanteenNone:
		if !negative && req.CanteenTotalFen != 0 {
			f.Add("canteen_total_fen", "must be 0 for a zero return (canteen none); a unit with a canteen files canteen own or outsourced")
		}
		if req.RatioBP != 0 {
			f.Add("ratio_bp", "must be 0 or left out for a zero return (canteen none)")
		}
		if len(req.SharedUnitIDs) > 0 {
			f.Add("shared_unit_ids", "must be empty for a zero return: only a canteen is shared")
		}
		r, ok := text.Name(req.ZeroReason, 200)
		if !ok {
			f.Add("zero_reason", "%s", text.HiddenOr(req.ZeroReason, "must say why the unit has no canteen, 1 to 200 characters"))
		}
		req.ZeroReason = r
	default:
		f.Add("canteen", "must be own, outsourced or none (zero return)")
	}
	if req.Canteen == CanteenOutsourced {
		c, ok := text.Name(req.Contractor, 100)
		if !ok {
			f.Add("contractor", "%s", text.HiddenOr(req.Contractor, "must name the canteen's contractor, 1 to 100 characters"))
		}
		req.Contractor = c
	} else if strings.TrimSpace(req.Contractor) != "" {
		f.Add("contractor", "is for outsourced canteens only")
	}
	seen := map[uuid.UUID]bool{}
	for i, id := range req.SharedUnitIDs {
		field := fmt.Sprintf("shared_unit_ids[%d]", i)
		switch {
		case id == unitID:
			f.Add(field, "is the filing unit itself: name only the other units sharing the canteen")
		case seen[id]:
			f.Add(field, "is named twice")
		}
		seen[id] = true
	}
	if len(req.SharedUnitIDs) > 100 {
		f.Add("shared_unit_ids", "must name at most 100 units")
	}
	name, ok := text.Name(req.ContactName, 50)
	if !ok {
		f.Add("contact_name", "%s", text.HiddenOr(req.ContactName, "must be 1 to 50 characters"))
	}
	req.ContactName = name
	req.ContactPhone = strings.ReplaceAll(text.ASCII(req.ContactPhone), " ", "")
	if !phoneRe.MatchString(req.ContactPhone) {
		f.Add("contact_phone", "must be an 11-digit mobile number or a landline such as 0743-1234567")
	}
	return req, f.Err()
}

// File files (or files again, after a return or before review) unitID's reserved share for
// year. Only the unit's own buyers file. In one transaction: the unit's area and supervising
// department are read and fixed on the filing with the minimum ratio then in force, the units
// it covers are recorded (each covered by one filing a year), and the history gains a
// "submitted" event with the figures. Errors: Forbidden (another unit), Invalid (year, fields,
// ratio_bp below the minimum, unknown shared units), Conflict (not registered as a budget unit,
// already approved, covered by another unit's filing, a shared unit covered elsewhere).
func (s *Service) File(ctx context.Context, p auth.Principal, unitID uuid.UUID, year int, req FilingRequest) (Filing, error) {
	if p.Role != auth.RoleBuyer || p.UnitID != unitID {
		return Filing{}, apperr.Forbidden("a unit files its own reserved share: log in as a buyer of that unit")
	}
	if err := s.checkYear(year); err != nil {
		return Filing{}, err
	}
	req, err := req.validate(unitID)
	if err != nil {
		return Filing{}, err
	}
	var id uuid.UUID
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var e error
		id, e = s.file(tx, p, unitID, year, req)
		return e
	})
	if err != nil {
		if apperr.PgCode(err) == apperr.PgUniqueViolation {
			return Filing{}, apperr.Conflict("another filing for these units was made at the same moment: read it, then file again")
		}
		return Filing{}, apperr.DB(err, "filing")
	}
	return s.filing(s.db.WithContext(ctx), id)
}

func (s *Service) file(tx *gorm.DB, p auth.Principal, unitID uuid.UUID, year int, req FilingRequest) (uuid.UUID, error) {
	bu, err := s.budgetUnit(tx, unitID)
	if apperr.Is(err, apperr.KindNotFound) {
		return uuid.Nil, apperr.Conflict("the county office has not registered this unit as a budget unit (its area and " +
			"supervising department): ask it to, with PUT /api/v1/reserve/units/{id}")
	}
	if err != nil {
		return uuid.Nil, err
	}
	minBP, minRegion, err := s.minRatioFor(tx, bu.RegionCode)
	if err != nil {
		return uuid.Nil, err
	}
	if req.Canteen != CanteenNone && req.RatioBP < minBP {
		where := "the national minimum"
		if minRegion != "" {
			where = "the minimum for region " + minRegion
		}
		return uuid.Nil, apperr.Invalid(apperr.Field("ratio_bp", "must be at least %d bp (%s); give %d or more", minBP, where, minBP))
	}
	var f apperr.Fields
	for i, id := range req.SharedUnitIDs {
		if ok, err := s.unitExists(tx, id); err != nil {
			return uuid.Nil, err
		} else if !ok {
			f.Add(fmt.Sprintf("shared_unit_ids[%d]", i), "names no assisting unit")
		}
	}
	if err := f.Err(); err != nil {
		return uuid.Nil, err
	}
	var cur []filingRow
	if err := tx.Raw(`SELECT * FROM reserve_filings WHERE unit_id = ? AND year = ? FOR UPDATE`, unitID, year).Scan(&cur).Error; err != nil {
		return uuid.Nil, apperr.DB(err, "filing")
	}
	row := filingRow{ID: uuid.Must(uuid.NewV7()), UnitID: unitID, Year: year, Version: 1}
	if len(cur) == 1 {
		if cur[0].Status == StatusApproved {
			return uuid.Nil, apperr.Conflict("the %d filing was approved on %s and is final", year,
				cur[0].DecidedAt.Format("2006-01-02")).With("current_status", StatusApproved)
		}
		row.ID, row.Version = cur[0].ID, cur[0].Version+1
	}
	// Who else covers these units this year: the filer may not be covered by another's filing,
	// nor may the units it names.
	var taken []struct {
		UnitID   uuid.UUID
		FilingID uuid.UUID
		Role     string
	}
	units := append([]uuid.UUID{unitID}, req.SharedUnitIDs...)
	if err := tx.Raw(`SELECT unit_id, filing_id, role FROM reserve_filing_units WHERE year = ? AND unit_id IN ? AND filing_id <> ?
		FOR UPDATE`, year, units, row.ID).Scan(&taken).Error; err != nil {
		return uuid.Nil, apperr.DB(err, "filing")
	}
	for _, t := range taken {
		if t.UnitID == unitID {
			return uuid.Nil, apperr.Conflict("this unit shares the canteen of another unit, whose filing %s covers it for %d; it files nothing itself",
				t.FilingID, year).With("filing_id", t.FilingID)
		}
		return uuid.Nil, apperr.ConflictField("shared_unit_ids", "unit %s is already covered for %d by filing %s", t.UnitID, year, t.FilingID)
	}
	row.Status, row.Canteen, row.Contractor = StatusSubmitted, req.Canteen, req.Contractor
	row.CanteenTotalFen, row.RatioBP, row.ZeroReason = req.CanteenTotalFen, req.RatioBP, req.ZeroReason
	row.MinRatioBP, row.MinRatioRegion, row.ReservedFen = minBP, minRegion, ReservedOf(req.CanteenTotalFen, req.RatioBP)
	row.ContactNameEnc, row.ContactPhoneEnc = s.vault.Seal(req.ContactName), s.vault.Seal(req.ContactPhone)
	row.RegionCode, row.SupervisorID, row.FiledBy, row.FiledAt = bu.RegionCode, bu.SupervisorID, p.UserID, s.now()
	if len(cur) == 0 {
		err = tx.Create(&row).Error
	} else {
		err = tx.Model(&filingRow{}).Where("id = ?", row.ID).Select("*").Omit("id", "unit_id", "year").Updates(&row).Error
	}
	if err != nil {
		return uuid.Nil, apperr.DB(err, "filing")
	}
	if err := tx.Exec(`DELETE FROM reserve_filing_units WHERE filing_id = ?`, row.ID).Error; err != nil {
		return uuid.Nil, apperr.DB(err, "filing")
	}
	if err := tx.Exec(`INSERT INTO reserve_filing_units (unit_id, year, filing_id, role) VALUES (?, ?, ?, 'filer')`,
		unitID, year, row.ID).Error; err != nil {
		return uuid.Nil, err
	}
	for _, u := range req.SharedUnitIDs {
		if err := tx.Exec(`INSERT INTO reserve_filing_units (unit_id, year, filing_id, role) VALUES (?, ?, ?, 'covered')`,
			u, year, row.ID).Error; err != nil {
			return uuid.Nil, err
		}
	}
	return row.ID, s.record(tx, row, req.SharedUnitIDs, StatusSubmitted, p.UserID, "")
}

// record appends a state change to the filing's history, with its figures at that moment.
func (s *Service) record(tx *gorm.DB, r filingRow, shared []uuid.UUID, action Status, actor uuid.UUID, reason string) error {
	if shared == nil {
		shared = []uuid.UUID{}
	}
	figures, err := json.Marshal(map[string]any{"canteen": r.Canteen, "contractor": r.Contractor,
		"canteen_total_fen": r.CanteenTotalFen, "ratio_bp": r.RatioBP, "min_ratio_bp": r.MinRatioBP,
		"min_ratio_region_code": r.MinRatioRegion, "reserved_fen": r.ReservedFen, "zero_reason": r.ZeroReason,
		"shared_unit_ids": shared, "region_code": r.RegionCode, "supervisor_unit_id": r.SupervisorID})
	if err != nil {
		return err
	}
	return apperr.DB(tx.Exec(`INSERT INTO reserve_filing_events (filing_id, version, action, actor_id, reason, figures, at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, r.ID, r.Version, action, actor, reason, string(figures), s.now()).Error, "filing")
}

// Get returns unitID's filing for year with its history, to the county office, the unit's or a
// covered unit's buyers, and its supervising department's. Errors: Invalid (year), NotFound.
func (s *Service) Get(ctx context.Context, p auth.Principal, unitID uuid.UUID, year int) (Filing, error) {
	if err := s.checkYear(year); err != nil {
		return Filing{}, err
	}
	db := s.db.WithContext(ctx)
	var ids []uuid.UUID
	if err := db.Raw(`SELECT id FROM reserve_filings WHERE unit_id = ? AND year = ?`, unitID, year).Scan(&ids).Error; err != nil {
		return Filing{}, apperr.DB(err, "filing")
	}
	if len(ids) == 0 {
		return Filing{}, apperr.NotFound("filing")
	}
	f, err := s.filing(db, ids[0])
	if err != nil {
		return Filing{}, err
	}
	if !canRead(p, f) {
		return Filing{}, apperr.NotFound("filing")
	}
	return f, nil
}

// canRead: the county office, the filer's and covered units' buyers, the reviewer's buyers.
func canRead(p auth.Principal, f Filing) bool {
	if p.IsAdmin() {
		return true
	}
	if p.Role != auth.RoleBuyer {
		return false
	}
	if p.UnitID == f.UnitID || f.SupervisorUnitID != nil && *f.SupervisorUnitID == p.UnitID {
		return true
	}
	for _, u := range f.SharedUnitIDs {
		if u == p.UnitID {
			return true
		}
	}
	return false
}

// filing loads one filing with its covered units and history, contact masked.
func (s *Service) filing(db *gorm.DB, id uuid.UUID) (Filing, error) {
	var r filingRow
	if err := db.Take(&r, "id = ?", id).Error; err != nil {
		return Filing{}, apperr.DB(err, "filing")
	}
	name, err1 := s.vault.Open(r.ContactNameEnc)
	phone, err2 := s.vault.Open(r.ContactPhoneEnc)
	if err1 != nil || err2 != nil {
		return Filing{}, apperr.Unavailable("the personal-data key", err1)
	}
	f := Filing{ID: r.ID, UnitID: r.UnitID, Year: r.Year, Version: r.Version, Status: r.Status, Canteen: r.Canteen,
		Contractor: r.Contractor, CanteenTotalFen: r.CanteenTotalFen, RatioBP: r.RatioBP, MinRatioBP: r.MinRatioBP,
		MinRatioRegion: r.MinRatioRegion, ReservedFen: r.ReservedFen, ZeroReason: r.ZeroReason, SharedUnitIDs: []uuid.UUID{},
		ContactName: pii.MaskName(name), ContactPhone: pii.MaskPhone(phone), RegionCode: r.RegionCode,
		SupervisorUnitID: r.SupervisorID, FiledAt: r.FiledAt, DecidedAt: r.DecidedAt, ReturnReason: r.ReturnReason, History: []Event{}}
	if err := db.Raw(`SELECT name FROM assisting_units_view WHERE id = ?`, r.UnitID).Scan(&f.UnitName).Error; err != nil {
		return Filing{}, apperr.DB(err, "assisting unit")
	}
	if err := db.Raw(`SELECT unit_id FROM reserve_filing_units WHERE filing_id = ? AND role = 'covered' ORDER BY unit_id`, id).
		Scan(&f.SharedUnitIDs).Error; err != nil {
		return Filing{}, apperr.DB(err, "filing")
	}
	var evs []struct {
		Version int
		Action  Status
		ActorID uuid.UUID
		Reason  string
		Figures []byte
		At      time.Time
	}
	if err := db.Raw(`SELECT version, action, actor_id, reason, figures, at FROM reserve_filing_events WHERE filing_id = ? ORDER BY id`, id).
		Scan(&evs).Error; err != nil {
		return Filing{}, apperr.DB(err, "filing")
	}
	for _, e := range evs {
		ev := Event{Version: e.Version, Action: e.Action, ActorID: e.ActorID, Reason: e.Reason, At: e.At}
		if err := json.Unmarshal(e.Figures, &ev.Figures); err != nil {
			return Filing{}, err
		}
		f.History = append(f.History, ev)
	}
	return f, nil
}

// ApprovedReserve is the reserved amount of unitID's approved filing for year, where the unit
// filed one itself (units covered by another's shared canteen have none of their own). It is
// procurement's ReservedShares: a unit's progress measures against it instead of a bare target.
func (s *Service) ApprovedReserve(ctx context.Context, unitID uuid.UUID, year int) (money.Money, bool, error) {
	var rows []money.Money
	err := s.db.WithContext(ctx).Raw(`SELECT reserved_fen FROM reserve_filings WHERE unit_id = ? AND year = ? AND status = 'approved'`,
		unitID, year).Scan(&rows).Error
	if err != nil {
		return 0, false, apperr.DB(err, "filing")
	}
	if len(rows) == 0 {
		return 0, false, nil
	}
	return rows[0], true, nil
}
