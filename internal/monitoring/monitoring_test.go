package monitoring_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/monitoring"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/report"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

// now is 3 December 2026, 10:00 China time: the last complete month is November, the warning
// compares September to November 2026 with September to November 2025 and reads the rolling 12
// months December 2025 to November 2026.
func now() time.Time { return time.Date(2026, 12, 3, 10, 0, 0, 0, civil.China) }

type fixture struct {
	db      *gorm.DB
	r       *gin.Engine
	admin   string
	station string
	county  string
	village string
}

func setup(t *testing.T) fixture {
	t.Helper()
	db := dbtest.Fresh(t) // its own database: the warning list reads every household
	f := fixture{db: db, county: "433124", village: "433124110226"}
	dbtest.Exec(t, db, `INSERT INTO regions (code, name, level, parent_code) VALUES
		('43', '湖南省', 1, NULL), ('4331', '湘西土家族苗族自治州', 2, '43'), ('433124', '花垣县', 3, '4331'),
		('433124110', '双龙镇', 4, '433124'), ('433124110226', '十八洞村', 5, '433124110') ON CONFLICT (code) DO NOTHING`)
	adminID, stationUser, stationID := uuid.New(), uuid.New(), uuid.New()
	dbtest.Exec(t, db, `INSERT INTO stations (id, name, level, region_code, county_code) VALUES (?, '十八洞村服务点', 'village', ?, '433124')`,
		stationID, f.village)
	dbtest.Exec(t, db, `INSERT INTO users (id, username, password_hash, role) VALUES (?, ?, 'x', 'admin')`, adminID, "admin-"+dbtest.RandHex(4))
	dbtest.Exec(t, db, `INSERT INTO users (id, username, password_hash, role, station_id) VALUES (?, ?, 'x', 'station', ?)`,
		stationUser, "station-"+dbtest.RandHex(4), stationID)
	gin.SetMode(gin.TestMode)
	rdb, prefix := dbtest.Redis(t)
	users := auth.NewUsers(db, cache.New(rdb, prefix, time.Second),
		auth.NewTokens("test-secret-test-secret-test-secret", time.Hour), bcrypt.MinCost)
	f.r = gin.New()
	f.r.Use(httpx.Errors(slog.New(slog.DiscardHandler)), users.Authenticate())
	svc := monitoring.NewService(db, report.NewService(db), monitoring.Settings{DropBP: 3000, LineMarginBP: 1000}).WithClock(now)
	monitoring.NewHandler(svc).Register(f.r)
	token := func(p auth.Principal) string {
		tok, _, err := users.Start(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	f.admin = token(auth.Principal{UserID: adminID, Role: auth.RoleAdmin})
	f.station = token(auth.Principal{UserID: stationUser, Role: auth.RoleStation, StationID: stationID})
	return f
}

// household registers a household of members people in the village, in force since 2024.
func (f fixture) household(t *testing.T, members int) uuid.UUID {
	t.Helper()
	id := uuid.New()
	dbtest.Exec(t, f.db, `INSERT INTO households (id, archive_no, head_name_enc, id_number_enc, id_number_hmac, village_code,
		county_code, members, status) VALUES (?, ?, '\x00'::bytea, '\x00'::bytea, ?, ?, '433124', ?, 'lifted')`,
		id, "M-"+dbtest.RandHex(8), []byte(dbtest.RandHex(16)), f.village, members)
	dbtest.Exec(t, f.db, `INSERT INTO household_history (household_id, valid_from, status, members) VALUES (?, '2024-01-01', 'lifted', ?)
		ON CONFLICT DO NOTHING`, id, members)
	return id
}

// income posts yuan of property income to household on day (China time) through the ledger's API.
func (f fixture) income(t *testing.T, household uuid.UUID, day string, yuan int64) {
	t.Helper()
	d, err := civil.ParseDate(day)
	if err != nil {
		t.Fatal(err)
	}
	e := ledger.DividendEntry(ledger.DividendRequest{HouseholdID: household, PayerKind: ledger.PayerCollective, PayerName: "村集体",
		PaidOn: d, Amount: money.Yuan(yuan), Key: dbtest.RandHex(8)})
	if _, _, err := ledger.NewService(f.db).Post(t.Context(), nil, e); err != nil {
		t.Fatal(err)
	}
}

func (f fixture) do(t *testing.T, tok, method, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	f.r.ServeHTTP(w, req)
	return w
}

func field(w *httptest.ResponseRecorder) string {
	var p httpx.Problem
	if json.Unmarshal(w.Body.Bytes(), &p) != nil || len(p.Errors) == 0 {
		return ""
	}
	return p.Errors[0].Field
}

func TestWarningsAndRegistrationFromAWarning(t *testing.T) {
	f := setup(t)
	drop, near, steady, edge, unseen := f.household(t, 2), f.household(t, 4), f.household(t, 1), f.household(t, 1), f.household(t, 3)
	f.income(t, drop, "2025-10-15", 5000)
	f.income(t, drop, "2026-01-15", 20000) // rolling 12 months well above the line
	f.income(t, drop, "2026-10-15", 1000)  // down 80 %
	f.income(t, drop, "2026-12-01", 9000)  // this month is not complete: not counted
	f.income(t, near, "2026-03-15", 24000) // ¥6,000 a head ≤ ¥7,000 × 110 %
	f.income(t, steady, "2025-10-15", 1000)
	f.income(t, steady, "2026-10-15", 800) // down 20 %
	f.income(t, steady, "2026-02-15", 20000)
	f.income(t, edge, "2025-09-01", 1000)
	f.income(t, edge, "2026-11-30", 700) // down exactly 30 %: not more than the threshold
	f.income(t, edge, "2026-02-15", 20000)
	_ = unseen // no income through the platform: nothing to judge

	w := f.do(t, f.admin, "GET", "/api/v1/monitoring/warnings?region_code="+f.county, "")
	var list monitoring.WarningList
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &list) != nil {
		t.Fatalf("warnings: %d %s", w.Code, w.Body)
	}
	if list.AsOf != "2026-11" || len(list.Warnings) != 2 {
		t.Fatalf("warnings as of %s: %s; want 2026-11 with the drop and the near-line households", list.AsOf, w.Body)
	}
	byID := map[uuid.UUID]monitoring.Warning{}
	for _, wn := range list.Warnings {
		byID[wn.HouseholdID] = wn
	}
	d, n := byID[drop], byID[near]
	if strings.Join(d.Reasons, ",") != "income_drop" || d.RecentFen != 100000 || d.PriorFen != 500000 || d.DropBP != 8000 ||
		d.RecentPeriod != "2026-09..2026-11" || d.PriorPeriod != "2025-09..2025-11" || d.Rolling12Fen != 2100000 {
		t.Errorf("drop warning %+v", d)
	}
	if strings.Join(n.Reasons, ",") != "near_line" || n.Members != 4 || n.PerCapitaFen != 600000 || n.LineFen == nil ||
		*n.LineFen != 700000 || *n.ThresholdFen != 770000 || n.Rolling12 != "2025-12..2026-11" {
		t.Errorf("near-line warning %+v", n)
	}

	// The county office's list: a station is refused, a region prefix that is not digits too.
	if w := f.do(t, f.station, "GET", "/api/v1/monitoring/warnings", ""); w.Code != http.StatusForbidden {
		t.Errorf("station reads the warning list: %d", w.Code)
	}
	if w := f.do(t, f.admin, "GET", "/api/v1/monitoring/warnings?region_code=43x", ""); w.Code != 422 || field(w) != "region_code" {
		t.Errorf("bad region: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, f.admin, "GET", "/api/v1/monitoring/warnings?region_code=110101", ""); w.Code != 200 || strings.Contains(w.Body.String(), drop.String()) {
		t.Errorf("another county's list: %d %s", w.Code, w.Body)
	}

	// One step: register the warned household.
	w = f.do(t, f.admin, "POST", "/api/v1/monitoring/warnings/"+d.ID+"/registration", `{}`)
	var reg monitoring.Registration
	if w.Code != http.StatusCreated || json.Unmarshal(w.Body.Bytes(), &reg) != nil {
		t.Fatalf("register the warning: %d %s", w.Code, w.Body)
	}
	if reg.Channel != "data_warning" || reg.RiskType != "income_drop" || reg.EnteredOn.String() != "2026-12-03" ||
		!strings.Contains(reg.Reason, "降 80.00%") || !strings.Contains(string(reg.Warning), `"prior_fen":500000`) {
		t.Errorf("registration from the warning %+v (%s)", reg, reg.Warning)
	}
	// Registered, it leaves the list; registering it again is the second open registration.
	if w := f.do(t, f.admin, "GET", "/api/v1/monitoring/warnings", ""); strings.Contains(w.Body.String(), drop.String()) {
		t.Errorf("a registered household still warns: %s", w.Body)
	}
	if w := f.do(t, f.admin, "POST", "/api/v1/monitoring/warnings/"+d.ID+"/registration", `{}`); w.Code != http.StatusConflict || field(w) != "household_id" {
		t.Errorf("second registration of a warning: %d %s", w.Code, w.Body)
	}
	for name, c := range map[string]struct {
		id     string
		status int
	}{
		"stale month":  {near.String() + ".2026-10", http.StatusConflict},
		"not warned":   {steady.String() + ".2026-11", http.StatusNotFound},
		"malformed id": {"nonsense", http.StatusNotFound},
	} {
		if w := f.do(t, f.admin, "POST", "/api/v1/monitoring/warnings/"+c.id+"/registration", `{}`); w.Code != c.status {
			t.Errorf("%s: %d %s, want %d", name, w.Code, w.Body, c.status)
		}
	}
	if w := f.do(t, f.station, "POST", "/api/v1/monitoring/warnings/"+n.ID+"/registration", `{}`); w.Code != http.StatusForbidden {
		t.Errorf("station registers a warning: %d", w.Code)
	}
	if w := f.do(t, f.admin, "POST", "/api/v1/monitoring/warnings/"+n.ID+"/registration", `{"risk_type":"luck"}`); w.Code != 422 || field(w) != "risk_type" {
		t.Errorf("unknown risk type: %d %s", w.Code, w.Body)
	}
}

func TestRegistrationsKeepHistory(t *testing.T) {
	f := setup(t)
	h := f.household(t, 3)
	body := `{"household_id":"` + h.String() + `","channel":"local_check","risk_type":"illness","reason":"户主重病住院","entered_on":"2026-05-06"}`
	w := f.do(t, f.admin, "POST", "/api/v1/monitoring/registrations", body)
	var first monitoring.Registration
	if w.Code != http.StatusCreated || json.Unmarshal(w.Body.Bytes(), &first) != nil || first.ExitedOn != nil {
		t.Fatalf("register: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, f.admin, "POST", "/api/v1/monitoring/registrations", body); w.Code != http.StatusConflict || field(w) != "household_id" ||
		!strings.Contains(w.Body.String(), first.ID.String()) {
		t.Errorf("second open registration: %d %s", w.Code, w.Body)
	}
	for name, c := range map[string]struct{ body, field string }{
		"unknown channel":                      {strings.Replace(body, "local_check", "rumour", 1), "channel"},
		"unknown risk":                         {strings.Replace(body, "illness", "luck", 1), "risk_type"},
		"future":                               {strings.Replace(body, "2026-05-06", "2026-12-04", 1), "entered_on"},
		"1999":                                 {strings.Replace(body, "2026-05-06", "1999-01-01", 1), "entered_on"},
		"before its registration (2024-01-01)": {strings.Replace(body, "2026-05-06", "2023-12-31", 1), "entered_on"},
		"no household":                         {strings.Replace(body, h.String(), uuid.NewString(), 1), "household_id"},
	} {
		if w := f.do(t, f.admin, "POST", "/api/v1/monitoring/registrations", c.body); w.Code != 422 || field(w) != c.field {
			t.Errorf("%s: %d %s, want 422 naming %s", name, w.Code, w.Body, c.field)
		}
	}
	if w := f.do(t, f.station, "POST", "/api/v1/monitoring/registrations", body); w.Code != http.StatusForbidden {
		t.Errorf("station registers: %d", w.Code)
	}

	exit := "/api/v1/monitoring/registrations/" + first.ID.String() + "/exit"
	if w := f.do(t, f.admin, "POST", exit, `{"exited_on":"2026-05-05","reason":"风险消除"}`); w.Code != 422 || field(w) != "exited_on" {
		t.Errorf("exit before entry: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, f.admin, "POST", exit, `{"exited_on":"2026-11-20","reason":" "}`); w.Code != 422 || field(w) != "reason" {
		t.Errorf("exit without reason: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, f.admin, "POST", exit, `{"exited_on":"2026-11-20","reason":"医保报销后收入稳定, 风险消除"}`); w.Code != http.StatusOK ||
		!strings.Contains(w.Body.String(), `"exited_on":"2026-11-20"`) {
		t.Fatalf("exit: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, f.admin, "POST", exit, `{"exited_on":"2026-11-21","reason":"again"}`); w.Code != http.StatusConflict {
		t.Errorf("exit twice: %d %s", w.Code, w.Body)
	}
	// Closed, the household may be registered again; both periods stay.
	if w := f.do(t, f.admin, "POST", "/api/v1/monitoring/registrations", strings.Replace(body, "2026-05-06", "2026-12-01", 1)); w.Code != http.StatusCreated {
		t.Fatalf("register again after the exit: %d %s", w.Code, w.Body)
	}
	w = f.do(t, f.admin, "GET", "/api/v1/monitoring/registrations?household_id="+h.String(), "")
	var list struct{ Registrations []monitoring.Registration }
	if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &list) != nil || len(list.Registrations) != 2 ||
		list.Registrations[0].EnteredOn.String() != "2026-12-01" || list.Registrations[1].ExitedOn == nil {
		t.Errorf("history: %d %s", w.Code, w.Body)
	}
	if w := f.do(t, f.admin, "GET", "/api/v1/monitoring/registrations?open=true&region_code="+f.county, ""); w.Code != 200 ||
		strings.Count(w.Body.String(), `"id"`) != 1 {
		t.Errorf("open registrations: %d %s", w.Code, w.Body)
	}
	// The database keeps the history whatever writes to it.
	if err := f.db.Exec(`UPDATE monitoring_registrations SET reason = 'x' WHERE id = ?`, first.ID).Error; err == nil {
		t.Error("a closed registration was rewritten")
	}
	if err := f.db.Exec(`DELETE FROM monitoring_registrations WHERE id = ?`, first.ID).Error; err == nil {
		t.Error("a registration was deleted")
	}
}
