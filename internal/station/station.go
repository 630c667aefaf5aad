// Package station keeps village e-commerce stations (村级电商服务站点) and the villages each serves.
// A station operator's scope is its villages: households there, products it lists.
package station

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// Level is the tier of a station in the county's e-commerce network.
type Level string

// Levels: county centre (县级公共服务中心), township station (乡镇服务站), village point (村级服务点).
const (
	LevelCounty   Level = "county"
	LevelTownship Level = "township"
	LevelVillage  Level = "village"
)

// Station is a row of `stations` with the villages it serves.
type Station struct {
	ID         uuid.UUID `gorm:"primaryKey" json:"id"`
	Name       string    `json:"name"`
	Level      Level     `json:"level"`
	RegionCode string    `json:"region_code"`
	CountyCode string    `json:"county_code"`
	CreatedAt  time.Time `json:"created_at"`
	Villages   []string  `gorm:"-" json:"village_codes"` // never null: [] when none
}

// Service registers and reads stations.
type Service struct {
	db      *gorm.DB
	regions Regions
	log     *slog.Logger
}

// Regions is what a station needs from the region register (region.Store).
type Regions interface {
	// Exist reports whether every one of codes names a region of level (5: village), or of any
	// level when level is 0.
	Exist(ctx context.Context, codes []string, level int) (bool, error)
	// NotMerged is Invalid naming field when one of codes names a village merged away: which
	// one, the village it went into and the day.
	NotMerged(ctx context.Context, field string, codes []string) error
}

// NewService builds the station service; log records the county office's changes of commission.
func NewService(db *gorm.DB, regions Regions, log *slog.Logger) *Service {
	return &Service{db: db, regions: regions, log: log}
}

// NewStation is a registration request.
type NewStation struct {
	Name         string   `json:"name"`
	Level        Level    `json:"level"`
	RegionCode   string   `json:"region_code"`   // where the station sits (county, township or village code)
	VillageCodes []string `json:"village_codes"` // 12-digit codes of the villages it serves, same county
}

// Create stores a station and its villages in one transaction.
// Errors: Invalid (name, level, region_code, village_codes[i]).
func (s *Service) Create(ctx context.Context, req NewStation) (Station, error) {
	name, region, villages, err := req.parse()
	if err != nil {
		return Station{}, err
	}
	st := Station{ID: uuid.Must(uuid.NewV7()), Name: name, Level: req.Level, RegionCode: region,
		CountyCode: region[:6], CreatedAt: time.Now().UTC(), Villages: villages}
	if err := s.regionsExist(ctx, region, villages); err != nil {
		return Station{}, err
	}
	err = database.Tx(ctx, s.db, func(tx *gorm.DB) error {
		if err := tx.Omit("Villages").Create(&st).Error; err != nil {
			return err
		}
		rows := make([]map[string]any, len(villages))
		for i, v := range villages {
			rows[i] = map[string]any{"station_id": st.ID, "village_code": v}
		}
		return tx.Table("station_villages").Create(rows).Error
	})
	return st, apperr.DB(err, "station")
}

// parse validates a registration before any lookup: the trimmed name, the region code and the
// villages, sorted and once each. Errors: Invalid (name, level, region_code, village_codes[i]).
func (req NewStation) parse() (name, region string, villages []string, err error) {
	var f apperr.Fields
	name, ok := text.Name(req.Name, 60)
	if !ok {
		f.Add("name", "%s", text.NameReason(req.Name, 60))
	}
	if req.Level != LevelCounty && req.Level != LevelTownship && req.Level != LevelVillage {
		f.Add("level", "must be county, township or village")
	}
	region = text.ASCII(req.RegionCode)
	if n := len(region); (n != 6 && n != 9 && n != 12) || strings.Trim(region, "0123456789") != "" {
		f.Add("region_code", "must be a 6, 9 or 12-digit region code inside a county")
	}
	if len(req.VillageCodes) == 0 || len(req.VillageCodes) > 500 {
		f.Add("village_codes", "must list 1 to 500 villages the station serves")
	}
	villages = make([]string, 0, len(req.VillageCodes))
	for i, v := range req.VillageCodes {
		v = text.ASCII(v)
		if len(v) != 12 || strings.Trim(v, "0123456789") != "" || len(region) >= 6 && !strings.HasPrefix(v, region[:6]) {
			f.Add(fmt.Sprintf("village_codes[%d]", i), "must be a 12-digit village code in the station's county")
			continue
		}
		villages = append(villages, v)
	}
	slices.Sort(villages)
	return name, region, slices.Compact(villages), f.Err()
}

// regionsExist checks that the station's region and every village it serves are known regions.
// Errors: Invalid naming region_code or village_codes.
func (s *Service) regionsExist(ctx context.Context, region string, villages []string) error {
	ok, err := s.regions.Exist(ctx, []string{region}, 0)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.Invalid(apperr.Field("region_code", "names no region; import regions or check the code"))
	}
	if ok, err = s.regions.Exist(ctx, villages, 5); err != nil {
		return err
	}
	if !ok {
		return apperr.Invalid(apperr.Field("village_codes", "names a village that does not exist; import regions or check the codes"))
	}
	if err := s.regions.NotMerged(ctx, "region_code", []string{region}); err != nil {
		return err
	}
	return s.regions.NotMerged(ctx, "village_codes", villages)
}

// Get returns a station with its villages. Errors: NotFound.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Station, error) {
	var st Station
	if err := s.db.WithContext(ctx).Take(&st, "id = ?", id).Error; err != nil {
		return st, apperr.DB(err, "station")
	}
	list := []Station{st}
	err := s.withVillages(ctx, list)
	return list[0], apperr.DB(err, "station")
}

// List returns every station of a county ("" for all), by name, each with its villages.
func (s *Service) List(ctx context.Context, county string) ([]Station, error) {
	q := s.db.WithContext(ctx).Order("name")
	if county != "" {
		q = q.Where("county_code = ?", county)
	}
	list := []Station{}
	if err := q.Find(&list).Error; err != nil {
		return list, apperr.DB(err, "station")
	}
	return list, apperr.DB(s.withVillages(ctx, list), "station")
}

// withVillages fills each station's villages (by code) in one query.
func (s *Service) withVillages(ctx context.Context, list []Station) error {
	if len(list) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, len(list))
	at := make(map[uuid.UUID]int, len(list))
	for i := range list {
		ids[i], at[list[i].ID] = list[i].ID, i
		list[i].Villages = []string{}
	}
	var rows []struct {
		StationID   uuid.UUID
		VillageCode string
	}
	err := s.db.WithContext(ctx).Table("station_villages").Select("station_id, village_code").
		Where("station_id IN ?", ids).Order("village_code").Scan(&rows).Error
	for _, r := range rows {
		list[at[r.StationID]].Villages = append(list[at[r.StationID]].Villages, r.VillageCode)
	}
	return err
}

// ServeSuccessor makes every station that serves one of villages from serve village to as well,
// inside the caller's transaction tx (a village merge: region.Merger); the old villages stay, for
// their history.
func ServeSuccessor(ctx context.Context, tx *gorm.DB, from []string, to string) error {
	return tx.WithContext(ctx).Exec(`INSERT INTO station_villages (station_id, village_code)
		SELECT DISTINCT station_id, ? FROM station_villages WHERE village_code IN ? ON CONFLICT DO NOTHING`, to, from).Error
}
