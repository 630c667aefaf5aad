package app

import (
	"strings"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// A roster naming a merged village is worded on the import's own connection: a lookup through the
// pool while the import holds a connection (database.PgxTx) waited for ever once the imports had
// taken every connection of the pool — here, a pool of one (found by a reviewer, 6 December).
func TestImportOfMergedVillageNeedsNoSecondConnection(t *testing.T) {
	a := appOnPool(t, 1) // the package's shared pool is left alone
	w := world{fixture.NewWorld(t, a.Router, a.Users), a}
	v1, v2 := "433124110871", "433124110872"
	if err := w.a.DB.Exec(`INSERT INTO regions (code, name, level, parent_code) VALUES (?, '池村一', 5, '433124110'), (?, '池村二', 5, '433124110')`, v1, v2).Error; err != nil {
		t.Fatal(err)
	}
	w.Admin.Do("POST", "/api/v1/regions/merges", map[string]any{"villages": []string{v1}, "successor_code": v2}).Want(201)
	roster := "户编号,户主姓名,身份证号,联系电话,家庭人口,所在村,户类型\n" +
		"M" + fixture.RandDigits(8) + ",龙金花," + fixture.IDNumber() + ",,3," + v1 + ",脱贫户\n"
	done := make(chan fixture.Resp, 1)
	go func() { done <- upload(w.Admin, "/api/v1/households/import", "roster.csv", roster) }()
	select {
	case r := <-done:
		if got := reasonOf(t, r, "rows[2].所在村"); !strings.HasPrefix(got, v1+" was merged into "+v2+" on ") {
			t.Fatalf("the merged village's reason is %q; want it to name the successor %s", got, v2)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("an import naming a merged village still waits after 30 s with a pool of one connection")
	}
}

// appOnPool is an application of its own over the package's database on a pool of maxOpen
// connections, with the regions loaded.
func appOnPool(t *testing.T, maxOpen int) *App {
	t.Helper()
	rdb, prefix := dbtest.Redis(t)
	a, err := New(fixture.Config(t), dbtest.Pool(t, maxOpen), cache.New(rdb, prefix, 50*time.Millisecond), fixture.Quiet())
	if err != nil {
		t.Fatal(err)
	}
	fixture.LoadRegions(t, a.DB)
	return a
}
