package household

import (
	"context"
	"strconv"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// NewCooperative registers a cooperative (合作社): name (1 to 60 characters), the 12-digit code of
// its village, and its member households with their shares of its revenue in basis points (1 to
// 10000 each, summing to 10000; at most 200 members, each once). A product supplied by the
// cooperative passes its revenue through to these members by share (see docs/ledger.md).
type NewCooperative struct {
	Name        string        `json:"name"`
	VillageCode string        `json:"village_code"`
	Members     []MemberShare `json:"members"`
}

// MemberShare is a member household and its share in basis points.
type MemberShare struct {
	HouseholdID uuid.UUID `json:"household_id"`
	ShareBP     int32     `json:"share_bp"`
}

// Cooperative is a registered cooperative with its members.
type Cooperative struct {
	ID          uuid.UUID     `json:"id"`
	Name        string        `json:"name"`
	VillageCode string        `json:"village_code"`
	CountyCode  string        `json:"county_code"`
	Members     []MemberShare `json:"members"`
	CreatedAt   time.Time     `json:"created_at"`
}

const maxCoopMembers = 200

func (req *NewCooperative) validate() apperr.Fields {
	var f apperr.Fields
	var ok bool
	if req.Name, ok = text.Name(req.Name, 60); !ok {
		f.Add("name", "%s", text.NameReason(req.Name, 60))
	}
	req.VillageCode = text.ASCII(req.VillageCode)
	if len(req.VillageCode) != 12 || !allDigits(req.VillageCode) {
		f.Add("village_code", "must be a 12-digit village code (统计用区划代码)")
	}
	if len(req.Members) == 0 || len(req.Members) > maxCoopMembers {
		f.Add("members", "must list 1 to %d member households", maxCoopMembers)
	}
	seen := map[uuid.UUID]bool{}
	var sum int64
	for i, m := range req.Members {
		field := "members[" + strconv.Itoa(i) + "]"
		if m.HouseholdID == uuid.Nil || seen[m.HouseholdID] {
			f.Add(field+".household_id", "must name a household, each once")
		}
		seen[m.HouseholdID] = true
		if m.ShareBP < 1 || m.ShareBP > 10000 {
			f.Add(field+".share_bp", "must be 1 to 10000 basis points")
		}
		sum += int64(m.ShareBP)
	}
	if len(req.Members) > 0 && sum != 10000 {
		f.Add("members", "shares must sum to 10000 basis points, not %d", sum)
	}
	return f
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// RegisterCooperative validates and stores a cooperative and its members in one transaction. A
// station operator may register one only in a village it serves, with member households it can
// see. Errors: Invalid naming fields (a member outside the caller's scope is named as not found).
func (s *Service) RegisterCooperative(ctx context.Context, p auth.Principal, req NewCooperative) (Cooperative, error) {
	if f := req.validate(); len(f) > 0 {
		return Cooperative{}, f.Err()
	}
	if err := s.checkVillage(ctx, p, req.VillageCode); err != nil {
		return Cooperative{}, err
	}
	ids := make([]uuid.UUID, len(req.Members))
	for i, m := range req.Members {
		ids[i] = m.HouseholdID
	}
	var visible []uuid.UUID
	if err := scoped(s.db.WithContext(ctx).Model(&row{}), p).Where("id IN ?", ids).Pluck("id", &visible).Error; err != nil {
		return Cooperative{}, apperr.DB(err, "household")
	}
	in := map[uuid.UUID]bool{}
	for _, id := range visible {
		in[id] = true
	}
	var f apperr.Fields
	for i, id := range ids {
		if !in[id] {
			f.Add("members["+strconv.Itoa(i)+"].household_id", "names no household you can see")
		}
	}
	if err := f.Err(); err != nil {
		return Cooperative{}, err
	}
	c := Cooperative{ID: uuid.Must(uuid.NewV7()), Name: req.Name, VillageCode: req.VillageCode,
		CountyCode: req.VillageCode[:6], Members: req.Members, CreatedAt: s.now()}
	err := database.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO cooperatives (id, name, village_code, county_code, created_at) VALUES (?, ?, ?, ?, ?)`,
			c.ID, c.Name, c.VillageCode, c.CountyCode, c.CreatedAt).Error; err != nil {
			return err
		}
		for _, m := range c.Members {
			if err := tx.Exec(`INSERT INTO cooperative_members (cooperative_id, household_id, share_bp) VALUES (?, ?, ?)`,
				c.ID, m.HouseholdID, m.ShareBP).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Cooperative{}, apperr.DB(err, "cooperative")
	}
	return c, nil
}

// GetCooperative returns a cooperative of a village the caller may see. Errors: NotFound.
func (s *Service) GetCooperative(ctx context.Context, p auth.Principal, id uuid.UUID) (Cooperative, error) {
	var hdr struct {
		ID          uuid.UUID
		Name        string
		VillageCode string
		CountyCode  string
		CreatedAt   time.Time
	}
	q := s.db.WithContext(ctx).Table("cooperatives").Select("id, name, village_code, county_code, created_at").Where("id = ?", id)
	if p.Role == auth.RoleStation {
		q = q.Where("village_code IN (SELECT village_code FROM station_villages_view WHERE station_id = ?)", p.StationID)
	} else if p.Role != auth.RoleAdmin {
		q = q.Where("false")
	}
	if err := q.Take(&hdr).Error; err != nil {
		return Cooperative{}, apperr.DB(err, "cooperative")
	}
	c := Cooperative{ID: hdr.ID, Name: hdr.Name, VillageCode: hdr.VillageCode, CountyCode: hdr.CountyCode,
		CreatedAt: hdr.CreatedAt.UTC(), Members: []MemberShare{}}
	if err := s.db.WithContext(ctx).Table("cooperative_members").Select("household_id, share_bp").
		Where("cooperative_id = ?", id).Order("share_bp DESC, household_id").Scan(&c.Members).Error; err != nil {
		return Cooperative{}, apperr.DB(err, "cooperative")
	}
	return c, nil
}

// CooperativesOutsideStation returns those of ids that are not cooperatives of the station's
// villages (or do not exist).
func (s *Service) CooperativesOutsideStation(ctx context.Context, stationID uuid.UUID, ids []uuid.UUID) ([]uuid.UUID, error) {
	var inside []uuid.UUID
	err := s.db.WithContext(ctx).Raw(`SELECT c.id FROM cooperatives c
		JOIN station_villages_view sv ON sv.village_code = c.village_code AND sv.station_id = ?
		WHERE c.id IN ?`, stationID, ids).Scan(&inside).Error
	if err != nil {
		return nil, apperr.DB(err, "cooperative")
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

// Members returns the member households of cooperatives ids with their shares now, each
// cooperative's in household id order, read through db (a transaction or the pool); a cooperative
// without members is absent.
func Members(ctx context.Context, db *gorm.DB, ids []uuid.UUID) (map[uuid.UUID][]MemberShare, error) {
	var rows []struct {
		CooperativeID uuid.UUID
		MemberShare
	}
	err := db.WithContext(ctx).Table("cooperative_members").Select("cooperative_id, household_id, share_bp").
		Where("cooperative_id IN ?", ids).Order("cooperative_id, household_id").Scan(&rows).Error
	out := make(map[uuid.UUID][]MemberShare, len(ids))
	for _, r := range rows {
		out[r.CooperativeID] = append(out[r.CooperativeID], r.MemberShare)
	}
	return out, err
}
