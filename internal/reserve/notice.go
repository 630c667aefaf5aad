package reserve

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/sheet"
)

// Notice is the county office's notice list (通报) of a year: the units behind schedule by the end
// of month ThroughMonth (approved filings whose units bought less than reserved × months / 12),
// furthest behind first, and the registered budget units with no approved filing covering them.
type Notice struct {
	Year         int              `json:"year"`
	ThroughMonth int              `json:"through_month"`
	GeneratedAt  time.Time        `json:"generated_at"`
	Behind       []UnitCompletion `json:"behind"`
	Unfiled      []UnfiledUnit    `json:"unfiled"`
}

// UnfiledUnit is a budget unit without an approved filing covering it: FilingStatus is its own
// filing's status (submitted, returned) or "none".
type UnfiledUnit struct {
	UnitID           uuid.UUID  `json:"unit_id"`
	UnitName         string     `json:"unit_name"`
	SupervisorUnitID *uuid.UUID `json:"supervisor_unit_id"`
	FilingStatus     string     `json:"filing_status"`
}

// Notice builds the year's notice list (county office only). Errors: Forbidden, Invalid.
func (s *Service) Notice(ctx context.Context, p auth.Principal, year, through int) (Notice, error) {
	if !p.IsAdmin() {
		return Notice{}, apperr.Forbidden("the notice list is the county office's")
	}
	c, err := s.Completion(ctx, p, year, through)
	if err != nil {
		return Notice{}, err
	}
	n := Notice{Year: year, ThroughMonth: c.ThroughMonth, GeneratedAt: s.now(), Behind: []UnitCompletion{}, Unfiled: []UnfiledUnit{}}
	for _, u := range c.Units {
		if u.Behind {
			n.Behind = append(n.Behind, u)
		}
	}
	// Furthest behind first: the smallest share of the expected amount bought, then the largest gap.
	sort.SliceStable(n.Behind, func(i, j int) bool {
		a, b := ratioBP(n.Behind[i].BoughtThroughFen, n.Behind[i].ExpectedFen), ratioBP(n.Behind[j].BoughtThroughFen, n.Behind[j].ExpectedFen)
		if a != b {
			return a < b
		}
		return n.Behind[i].GapFen > n.Behind[j].GapFen
	})
	err = s.db.WithContext(ctx).Raw(`
		SELECT b.unit_id, u.name AS unit_name, b.supervisor_id AS supervisor_unit_id, coalesce(f.status, 'none') AS filing_status
		FROM reserve_budget_units b
		JOIN assisting_units_view u ON u.id = b.unit_id
		LEFT JOIN reserve_filings f ON f.unit_id = b.unit_id AND f.year = @year
		WHERE NOT EXISTS (SELECT 1 FROM reserve_filing_units fu JOIN reserve_filings af ON af.id = fu.filing_id
		                  WHERE fu.unit_id = b.unit_id AND fu.year = @year AND af.status = 'approved')
		ORDER BY u.name, b.unit_id`, map[string]any{"year": year}).Scan(&n.Unfiled).Error
	return n, apperr.DB(err, "budget unit")
}

// WriteNoticeXLSX writes the notice as a workbook (platform/sheet: money as numbers in yuan,
// text as text): sheet 落后单位 (units behind) and sheet 未填报 (no approved filing).
func WriteNoticeXLSX(w io.Writer, n Notice) error {
	above := func(title string) [][]sheet.Cell {
		return [][]sheet.Cell{{sheet.Text(title)},
			{sheet.Text(fmt.Sprintf("%d 年，截至 %d 月末（按月均进度）", n.Year, n.ThroughMonth))},
			{sheet.Text("生成时间"), sheet.Time(n.GeneratedAt)}}
	}
	behind := sheet.Table{Name: "落后单位", Above: above("预留份额完成进度落后单位通报"),
		Header: []string{"序号", "单位", "主管部门", "预留金额（元）", "应完成（元）", "已采购（元）", "差额（元）", "全年完成率（%）"}}
	for i, u := range n.Behind {
		behind.Rows = append(behind.Rows, []sheet.Cell{sheet.Int(int64(i + 1)), sheet.Text(u.UnitName), sheet.Text(u.SupervisorName),
			sheet.Money(int64(u.ReservedFen)), sheet.Money(int64(u.ExpectedFen)), sheet.Money(int64(u.BoughtThroughFen)),
			sheet.Money(int64(u.GapFen)), sheet.Text(percent(u.CompletionBP))})
	}
	unfiled := sheet.Table{Name: "未填报", Above: above("未完成预留份额填报的预算单位"),
		Header: []string{"序号", "单位", "填报状态"}}
	for i, u := range n.Unfiled {
		unfiled.Rows = append(unfiled.Rows, []sheet.Cell{sheet.Int(int64(i + 1)), sheet.Text(u.UnitName), sheet.Text(statusName[u.FilingStatus])})
	}
	return sheet.WriteXLSX(w, behind, unfiled)
}

var statusName = map[string]string{"none": "未填报", "submitted": "待审核", "returned": "已退回"}

// percent shows basis points as a percentage with two decimals (1234 → "12.34").
func percent(bp int64) string { return fmt.Sprintf("%d.%02d", bp/100, bp%100) }
