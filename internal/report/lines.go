package report

import (
	"context"
	"strings"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// Line kinds: the national poverty line (贫困标准) and a province's monitoring line (防止返贫监测标准).
const (
	LinePoverty    = "poverty"
	LineMonitoring = "monitoring"
)

// MinLineFen is the lowest plausible line: the national poverty standard of 2010, ¥2,300 per person
// per year (GLOSSARY), which every line since, national or provincial, is above. Lines start in
// 2010, so a smaller amount (a 1-fen line) is a typing error that would put every household above it.
const MinLineFen money.Money = 230000

// Line is a poverty or monitoring line: Amount per person per year in fen, for Year, for a
// province (two digits) or the whole country (""), with its Source (the policy that sets it).
type Line struct {
	Year         int         `json:"year"`
	ProvinceCode string      `json:"province_code"`
	Kind         string      `json:"kind"`
	AmountFen    money.Money `json:"amount_fen"`
	Source       string      `json:"source"`
}

func (l *Line) validate() error {
	var f apperr.Fields
	source, sourceOK := text.Name(l.Source, 500)
	if l.Year < 2010 || l.Year > 2100 {
		f.Add("year", "must be 2010 to 2100")
	}
	if l.ProvinceCode != "" && (len(l.ProvinceCode) != 2 || strings.Trim(l.ProvinceCode, "0123456789") != "") {
		f.Add("province_code", "must be a 2-digit province code, or empty for the national line")
	}
	if l.Kind != LinePoverty && l.Kind != LineMonitoring {
		f.Add("kind", "must be poverty or monitoring")
	}
	if l.AmountFen < MinLineFen {
		f.Add("amount_fen", "must be at least %d fen (¥%d per person per year, the 2010 national poverty line; "+
			"no poverty or monitoring line since is lower), not %d", int64(MinLineFen), int64(MinLineFen)/100, int64(l.AmountFen))
	}
	if !sourceOK {
		f.Add("source", "%s", text.HiddenOr(l.Source, "must name the policy that sets the line (1 to 500 characters)"))
	}
	l.Source = source
	return f.Err()
}

// Lines lists every configured line, by year, province and kind.
func (s *Service) Lines(ctx context.Context) ([]Line, error) {
	return linesOn(s.db.WithContext(ctx))
}

// linesOn is Lines read through db: a transaction's own connection when called inside one (a
// read through the pool there waits for ever once as many requests as the pool has connections
// hold one each).
func linesOn(db *gorm.DB) ([]Line, error) {
	out := []Line{}
	err := db.Raw(`SELECT year, province_code, kind, amount_fen, source FROM poverty_lines
		ORDER BY year, province_code, kind`).Scan(&out).Error
	return out, apperr.DB(err, "poverty lines")
}

// SetLine creates or replaces the line of (year, province, kind). Errors: Invalid naming fields.
func (s *Service) SetLine(ctx context.Context, l Line) (Line, error) {
	if err := l.validate(); err != nil {
		return Line{}, err
	}
	if l.ProvinceCode != "" {
		// A line for a code that is no province ("99") would never apply to any household.
		var ok bool
		if err := s.db.WithContext(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM regions WHERE code = ? AND level = 1)`,
			l.ProvinceCode).Scan(&ok).Error; err != nil {
			return Line{}, apperr.DB(err, "regions")
		}
		if !ok {
			var f apperr.Fields
			f.Add("province_code", "names no province: give a 2-digit province code from the regions (43 for 湖南省), or empty for the national line")
			return Line{}, f.Err()
		}
	}
	err := s.db.WithContext(ctx).Exec(`INSERT INTO poverty_lines (year, province_code, kind, amount_fen, source)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (year, province_code, kind) DO UPDATE
		SET amount_fen = excluded.amount_fen, source = excluded.source`,
		l.Year, l.ProvinceCode, l.Kind, int64(l.AmountFen), l.Source).Error
	return l, apperr.DB(err, "poverty lines")
}

// lineFor picks the line that applies to a year in a province: the latest year not after year,
// the province's own before the national one in the same year. ok is false when none applies.
func lineFor(lines []Line, year int, province, kind string) (Line, bool) {
	var best Line
	found := false
	for _, l := range lines {
		if l.Kind != kind || l.Year > year || (l.ProvinceCode != "" && l.ProvinceCode != province) {
			continue
		}
		if !found || l.Year > best.Year || (l.Year == best.Year && l.ProvinceCode != "") {
			best, found = l, true
		}
	}
	return best, found
}

// LineFor is the line of kind (poverty or monitoring) that applies to year in province (two
// digits): the latest year not after year, the province's own before the national one. ok is false
// when none is configured. Other features (monitoring's early warning) read lines through it.
func (s *Service) LineFor(ctx context.Context, year int, province, kind string) (l Line, ok bool, err error) {
	lines, err := s.Lines(ctx)
	if err != nil {
		return Line{}, false, err
	}
	l, ok = lineFor(lines, year, province, kind)
	return l, ok, nil
}

// MonitoringLine is the monitoring line (防止返贫监测标准) of year in province, per person per year
// in fen, with its source; ok is false when none applies (monitoring.Lines).
func (s *Service) MonitoringLine(ctx context.Context, year int, province string) (amountFen int64, source string, ok bool, err error) {
	l, ok, err := s.LineFor(ctx, year, province, LineMonitoring)
	return int64(l.AmountFen), l.Source, ok, err
}
