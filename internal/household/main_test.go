package household

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/platform/pii"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

const (
	shibadong = "433124110226" // 十八洞村
	zhuxi     = "433124110227" // a neighbouring village the test station does not serve
)

type fixture struct {
	db      *gorm.DB
	svc     *Service
	station auth.Principal
	admin   auth.Principal
}

var exec = dbtest.Exec

var randHex = dbtest.RandHex

func newFixture(t testing.TB) *fixture {
	t.Helper()
	db := dbtest.DB(t)
	exec(t, db, `INSERT INTO regions (code, name, level, parent_code) VALUES
		('43', '湖南省', 1, NULL), ('4331', '湘西土家族苗族自治州', 2, '43'), ('433124', '花垣县', 3, '4331'),
		('433124110', '双龙镇', 4, '433124'), ('433124110226', '十八洞村', 5, '433124110'),
		('433124110227', '竹子村', 5, '433124110')
		ON CONFLICT (code) DO NOTHING`)
	vault, err := pii.NewVault([]byte("test-only-data-key-32-bytes-long"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, svc: NewService(db, vault, noMerges{})}
	stationID, adminID, opID := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
	exec(t, db, `INSERT INTO stations (id, name, level, region_code, county_code) VALUES (?, '十八洞村服务点', 'village', ?, '433124')`, stationID, shibadong)
	exec(t, db, `INSERT INTO station_villages (station_id, village_code) VALUES (?, ?)`, stationID, shibadong)
	exec(t, db, `INSERT INTO users (id, username, password_hash, role) VALUES (?, ?, 'x', 'admin')`, adminID, "admin-"+randHex(4))
	exec(t, db, `INSERT INTO users (id, username, password_hash, role, station_id) VALUES (?, ?, 'x', 'station', ?)`, opID, "op-"+randHex(4), stationID)
	f.admin = auth.Principal{UserID: adminID, Role: auth.RoleAdmin}
	f.station = auth.Principal{UserID: opID, Role: auth.RoleStation, StationID: stationID}
	return f
}

// sequence hands out the sequence codes of idNumber: one counter for the package, so that numbers
// born on the same day never repeat in a run (the package's database is its own; random codes of
// 1,000 collided: 50 households of 1970-01-01 meet one another in about two runs of three).
var sequence atomic.Int64

// idNumber returns a fresh valid resident ID number of 花垣县 born on the given day (YYYYMMDD); up
// to 1,000 distinct numbers per day and run.
func idNumber(birth string) string {
	first17 := "433124" + birth + fmt.Sprintf("%03d", sequence.Add(1)%1000)
	return first17 + string(IDCheckChar(first17))
}

func archive() string { return strings.ToUpper("T" + randHex(6)) }

func (f *fixture) register(t *testing.T, p auth.Principal, village string) Household {
	t.Helper()
	h, err := f.svc.Register(context.Background(), p, NewHousehold{ArchiveNo: archive(), HeadName: "龙先生",
		IDNumber: idNumber("19700101"), VillageCode: village, Members: 4, Status: StatusPoor})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// noMerges is the region register for these tests, which merge no village: region's own tests
// and internal/app (a household refused a merged village, in region.Store.NotMerged's words) run
// the real check; region imports household, so this package's tests cannot.
type noMerges struct{}

func (noMerges) NotMerged(context.Context, string, []string) error { return nil }
func (noMerges) MergedReason(code string, successor *string, validTo civil.Date) string {
	return code + " was merged into " + *successor + " on " + validTo.String()
}
