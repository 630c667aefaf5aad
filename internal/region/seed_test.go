package region

import (
	"context"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

func TestLoadSeedIsIdempotent(t *testing.T) {
	ctx := context.Background()
	db := dbtest.DB(t)
	first, err := LoadSeed(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first LoadSeed wrote %d regions", first)
	again, err := LoadSeed(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if again != 0 {
		t.Errorf("second LoadSeed wrote %d regions; want 0", again)
	}

	var perLevel []struct{ Level, N int }
	err = db.Raw(`SELECT level, count(*) AS n FROM regions
		WHERE code IN ('43', '4331') OR code LIKE '433124%' GROUP BY level ORDER BY level`).Scan(&perLevel).Error
	if err != nil {
		t.Fatal(err)
	}
	want := []int{1, 1, 1, 12, 228}
	if len(perLevel) != 5 {
		t.Fatalf("seeded levels = %v; want counts %v", perLevel, want)
	}
	for i, l := range perLevel {
		if l.Level != i+1 || l.N != want[i] {
			t.Errorf("level %d: %d regions; want %d", l.Level, l.N, want[i])
		}
	}

	path, err := NewStore(db).Path(ctx, "433124110226")
	if err != nil {
		t.Fatal(err)
	}
	if len(path) != 5 {
		t.Fatalf("path of 十八洞村 has %d regions; want 5: %+v", len(path), path)
	}
	for i, code := range []string{"43", "4331", "433124", "433124110", "433124110226"} {
		if path[i].Code != code || path[i].Level != i+1 {
			t.Errorf("path[%d] = %s (level %d); want %s (level %d)", i, path[i].Code, path[i].Level, code, i+1)
		}
	}
	name := FullName(path)
	if !strings.Contains(name, "花垣县") || !strings.Contains(name, "十八洞村") {
		t.Errorf("FullName = %q; want it to contain 花垣县 and 十八洞村", name)
	}
	if name != "湖南省湘西土家族苗族自治州花垣县双龙镇十八洞村" {
		t.Errorf("FullName = %q", name)
	}
}

func TestSeedParses(t *testing.T) {
	rows, c, err := parseSeed()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 243 || c.Total().Rows != 243 {
		t.Errorf("seed has %d rows (%d counted); want 243", len(rows), c.Total().Rows)
	}
}
