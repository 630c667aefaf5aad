package procurement

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/platform/sheet"
)

// Period is a statement's month ("2026-03") or year ("2026"), cut in Asia/Shanghai: From is its
// first instant, To the first instant after it.
type Period struct {
	Label    string
	From, To time.Time
}

var periodRe = regexp.MustCompile(`^(\d{4})(?:-(\d{2}))?$`)

// ParsePeriod reads "YYYY" or "YYYY-MM" (years 2000..2100). Errors: Invalid naming period.
func ParsePeriod(s string) (Period, error) {
	m := periodRe.FindStringSubmatch(s)
	bad := apperr.Invalid(apperr.Field("period", "must be a month YYYY-MM or a year YYYY (China Standard Time), such as 2026-03"))
	if m == nil {
		return Period{}, bad
	}
	y, _ := strconv.Atoi(m[1])
	if y < 2000 || y > 2100 {
		return Period{}, apperr.Invalid(apperr.Field("period", "must be in the years 2000 to 2100"))
	}
	if m[2] == "" {
		from := time.Date(y, 1, 1, 0, 0, 0, 0, civil.China)
		return Period{Label: m[1], From: from, To: from.AddDate(1, 0, 0)}, nil
	}
	mo, _ := strconv.Atoi(m[2])
	if mo < 1 || mo > 12 {
		return Period{}, apperr.Invalid(apperr.Field("period", "has month %s: months are 01 to 12", m[2]))
	}
	from := time.Date(y, time.Month(mo), 1, 0, 0, 0, 0, civil.China)
	return Period{Label: s, From: from, To: from.AddDate(0, 1, 0)}, nil
}

// StatementLine is one order line of a unit's purchase statement, as of the statement's period
// end. Amounts in fen. Quantity and AmountFen are what was bought in the period: the line's, when
// its order was paid in the period, else 0 (a line paid earlier is listed for a return in the
// period only). RefundedQuantity and RefundedFen are what went back in the period: refunds made
// in it, and the whole line when its paid order was cancelled in it (CancelledAt). The product is
// named as sold (fixed when the order was placed), the station as on the day of payment, so a
// later rename never changes a line.
type StatementLine struct {
	OrderID          uuid.UUID   `json:"order_id"`
	PaidAt           time.Time   `json:"paid_at"`
	CancelledAt      *time.Time  `json:"cancelled_at,omitempty"`
	LineNo           int         `json:"line_no"`
	ProductID        uuid.UUID   `json:"product_id"`
	ProductName      string      `json:"product_name"`
	StationName      string      `json:"station_name"`
	Quantity         int         `json:"quantity"`
	UnitPriceFen     money.Money `json:"unit_price_fen"`
	AmountFen        money.Money `json:"amount_fen"`
	RefundedQuantity int         `json:"refunded_quantity"`
	RefundedFen      money.Money `json:"refunded_fen"`
}

// Statement is a unit's purchases in a period, as of its end: the lines of its orders PAID in the
// period (placed-but-unpaid orders are not purchases; an order paid and cancelled in the period
// is left out, it bought nothing), and the lines of orders paid before it with money returned in
// it (refunds, cancellations). Totals in fen: AmountFen bought, RefundedFen returned, NetFen
// their difference, all in the period, so that a period's statement never changes once it is
// over and the statements of the months add up to the year's. Orders counts the orders paid in
// the period.
type Statement struct {
	UnitID      uuid.UUID       `json:"unit_id"`
	UnitName    string          `json:"unit_name"`
	CreditCode  string          `json:"credit_code"`
	Period      string          `json:"period"`
	From        time.Time       `json:"from"`
	To          time.Time       `json:"to"`
	Orders      int             `json:"orders"`
	AmountFen   money.Money     `json:"amount_fen"`
	RefundedFen money.Money     `json:"refunded_fen"`
	NetFen      money.Money     `json:"net_fen"`
	GeneratedAt time.Time       `json:"generated_at"`
	Lines       []StatementLine `json:"lines"`
}

// Statements builds purchase statements.
type Statements struct {
	db  *gorm.DB
	now func() time.Time
}

// NewStatements builds the statement service.
func NewStatements(db *gorm.DB) *Statements { return &Statements{db: db, now: time.Now} }

// statementSQL reads a statement's lines (see Statement): each product named as sold (the order
// line's product_name, fixed at placement, migration 00960), its station as on the day of
// payment (station_name_at, the station's name history). The bounds are
// instants computed in Asia/Shanghai, so neither the server's nor the session's zone matters;
// days for the names are cut in Asia/Shanghai too.
const statementSQL = `
	WITH l AS (
		SELECT o.id AS order_id, o.paid_at, o.cancelled_at, l.id, l.line_no, l.product_id, l.station_id,
		       l.quantity, l.unit_price_fen, l.amount_fen, l.product_name,
		       o.paid_at >= @from AS bought,
		       coalesce(o.cancelled_at >= @from AND o.cancelled_at < @to, false) AS cancelled_in
		FROM orders o
		JOIN order_lines l ON l.order_id = o.id
		WHERE o.unit_id = @unit AND o.paid_at < @to
		  AND (o.paid_at >= @from
		       OR o.cancelled_at >= @from AND o.cancelled_at < @to
		       OR o.id IN (SELECT order_id FROM refunds WHERE created_at >= @from AND created_at < @to))
	), r AS (
		SELECT rl.order_line_id, sum(rl.quantity) AS quantity, sum(rl.amount_fen) AS amount_fen
		FROM refund_lines rl JOIN refunds f ON f.id = rl.refund_id
		WHERE f.order_id IN (SELECT order_id FROM l) AND f.created_at >= @from AND f.created_at < @to
		GROUP BY rl.order_line_id
	)
	SELECT l.order_id, l.paid_at, CASE WHEN l.cancelled_in THEN l.cancelled_at END AS cancelled_at, l.line_no, l.product_id,
	       l.product_name,
	       station_name_at(l.station_id, (l.paid_at AT TIME ZONE 'Asia/Shanghai')::date) AS station_name,
	       CASE WHEN l.bought THEN l.quantity ELSE 0 END AS quantity, l.unit_price_fen,
	       CASE WHEN l.bought THEN l.amount_fen ELSE 0 END AS amount_fen,
	       CASE WHEN l.cancelled_in THEN l.quantity ELSE coalesce(r.quantity, 0) END AS refunded_quantity,
	       CASE WHEN l.cancelled_in THEN l.amount_fen ELSE coalesce(r.amount_fen, 0) END AS refunded_fen
	FROM l LEFT JOIN r ON r.order_line_id = l.id
	WHERE NOT (l.bought AND l.cancelled_in) -- paid and cancelled in the period: nothing bought
	ORDER BY l.paid_at, l.order_id, l.line_no`

// Get returns unit's statement for period: an admin any unit's, a buyer its own. The unit is
// named as on the period's last day.
// Errors: NotFound (unknown or another unit's), Forbidden (stations).
func (s *Statements) Get(ctx context.Context, p auth.Principal, unitID uuid.UUID, period Period) (Statement, error) {
	if p.Role == auth.RoleStation {
		return Statement{}, apperr.Forbidden("statements are for the county office and the unit's buyers")
	}
	if p.Role == auth.RoleBuyer && p.UnitID != unitID {
		return Statement{}, apperr.NotFound("assisting unit")
	}
	var u Unit
	if err := s.db.WithContext(ctx).Take(&u, "id = ?", unitID).Error; err != nil {
		return Statement{}, apperr.DB(err, "assisting unit")
	}
	lastDay := period.To.In(civil.China).AddDate(0, 0, -1).Format(time.DateOnly)
	if err := s.db.WithContext(ctx).Raw(`SELECT unit_name_at(?, CAST(? AS date))`, unitID, lastDay).Scan(&u.Name).Error; err != nil {
		return Statement{}, apperr.DB(err, "assisting unit")
	}
	st := Statement{UnitID: u.ID, UnitName: u.Name, CreditCode: u.CreditCode, Period: period.Label, From: period.From, To: period.To,
		GeneratedAt: s.now().UTC()}
	err := s.db.WithContext(ctx).Raw(statementSQL, map[string]any{"unit": unitID, "from": period.From, "to": period.To}).Scan(&st.Lines).Error
	if err != nil {
		return Statement{}, apperr.DB(err, "statement")
	}
	var last uuid.UUID
	for _, l := range st.Lines {
		if l.OrderID != last && l.AmountFen > 0 {
			st.Orders++
			last = l.OrderID
		}
		st.AmountFen += l.AmountFen
		st.RefundedFen += l.RefundedFen
	}
	st.NetFen = st.AmountFen - st.RefundedFen
	if st.Lines == nil {
		st.Lines = []StatementLine{}
	}
	return st, nil
}

// statementHeader names the export columns, Chinese first (what the procurement office reads).
var statementHeader = []string{"付款时间", "订单号", "行号", "产品编号", "产品", "服务站", "数量", "单价(元)", "金额(元)", "本期退回数量", "本期退回(元)"}

// PeriodText says which days a statement covers, in China Standard Time: "2026-03-01 至
// 2026-03-31（北京时间）".
func (st Statement) PeriodText() string {
	last := st.To.In(civil.China).AddDate(0, 0, -1)
	return st.From.In(civil.China).Format(time.DateOnly) + " 至 " + last.Format(time.DateOnly) + "（北京时间）"
}

// statementTable is st as a spreadsheet table: above it whose statement it is and for when
// (unit, credit code, period, when it was made, in China time), then one row per line and the
// totals.
func statementTable(st Statement) sheet.Table {
	t := sheet.Table{Name: "对账单", Header: statementHeader, Above: [][]sheet.Cell{
		{sheet.Text("采购对账单")},
		{sheet.Text("帮扶单位"), sheet.Text(st.UnitName)},
		{sheet.Text("统一社会信用代码"), sheet.Text(st.CreditCode)},
		{sheet.Text("对账期间"), sheet.Text(st.Period), sheet.Text(st.PeriodText())},
		{sheet.Text("生成时间（北京时间）"), sheet.Time(st.GeneratedAt)},
		{},
	}}
	for _, l := range st.Lines {
		t.Rows = append(t.Rows, []sheet.Cell{sheet.Time(l.PaidAt), sheet.Text(l.OrderID.String()), sheet.Int(int64(l.LineNo)),
			sheet.Text(l.ProductID.String()), sheet.Text(l.ProductName), sheet.Text(l.StationName), sheet.Int(int64(l.Quantity)),
			sheet.Money(int64(l.UnitPriceFen)), sheet.Money(int64(l.AmountFen)), sheet.Int(int64(l.RefundedQuantity)), sheet.Money(int64(l.RefundedFen))})
	}
	t.Rows = append(t.Rows, []sheet.Cell{sheet.Text("合计"), sheet.Empty, sheet.Empty, sheet.Empty, sheet.Empty, sheet.Empty, sheet.Empty,
		sheet.Empty, sheet.Money(int64(st.AmountFen)), sheet.Empty, sheet.Money(int64(st.RefundedFen))})
	return t
}

// WriteCSV writes st as CSV through internal/platform/sheet: UTF-8 with a byte order mark, times
// in China Standard Time, amounts as plain decimal numbers of yuan, ids and names exact text.
func WriteCSV(w io.Writer, st Statement) error { return sheet.WriteCSV(w, statementTable(st)) }

// WriteXLSX writes st as one sheet through internal/platform/sheet: ids and names as text cells,
// amounts as numbers of yuan in #,##0.00.
func WriteXLSX(w io.Writer, st Statement) error { return sheet.WriteXLSX(w, statementTable(st)) }

//go:embed templates/statement.html
var templates embed.FS

var statementPage = template.Must(template.New("statement.html").Funcs(template.FuncMap{
	"yuan": func(m money.Money) string { return sheet.Grouped(int64(m)) },
	"cst":  func(t time.Time) string { return t.In(civil.China).Format(sheet.TimeLayout) },
}).ParseFS(templates, "templates/statement.html"))

// WriteHTML writes st as a page to print (A4 landscape): whose statement and for when above the
// table, times in China time, amounts with thousands separators.
func WriteHTML(w io.Writer, st Statement) error {
	return statementPage.Execute(w, map[string]any{"S": st})
}

// ContentDisposition is an attachment header whose file name works in every browser: an ASCII
// fallback in filename= and the real (Chinese) name in filename*=UTF-8” with RFC 5987
// percent-encoding (spaces as %20, never +).
func ContentDisposition(name, fallback string) string {
	var b strings.Builder
	for _, c := range []byte(name) {
		if c < 0x80 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, fallback, b.String())
}
