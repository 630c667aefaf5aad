package region

import (
	"os"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

func TestLevelOfAndValidCode(t *testing.T) {
	for _, tc := range []struct {
		code  string
		level int
		valid bool
	}{
		{"43", Province, true},
		{"4331", Prefecture, true},
		{"433124", County, true},
		{"433124110", Township, true},
		{"433124110226", Village, true},
		{"", 0, false},
		{"4", 0, false},
		{"43312", 0, false},
		{"4331241102261", 0, false},
		{"43312a", County, false},
		{"43 124", County, false},
		{"４３", County, false}, // two full-width digits are 6 bytes, but not ASCII digits
		{"-43312", County, false},
	} {
		level, ok := LevelOf(tc.code)
		if level != tc.level || ok != (tc.level != 0) {
			t.Errorf("LevelOf(%q) = %d, %v; want %d", tc.code, level, ok, tc.level)
		}
		if got := ValidCode(tc.code); got != tc.valid {
			t.Errorf("ValidCode(%q) = %v; want %v", tc.code, got, tc.valid)
		}
	}
}

func TestFullName(t *testing.T) {
	path := func(names ...string) []Region {
		rs := make([]Region, len(names))
		for i, n := range names {
			rs[i] = Region{Name: n, Level: i + 1}
		}
		return rs
	}
	for _, tc := range []struct {
		path []Region
		want string
	}{
		{path("湖南省", "湘西土家族苗族自治州", "花垣县", "双龙镇", "十八洞村"), "湖南省湘西土家族苗族自治州花垣县双龙镇十八洞村"},
		{path("北京市", "市辖区", "东城区", "东华门街道"), "北京市东城区东华门街道"},
		{path("重庆市", "县", "城口县"), "重庆市城口县"},
		{path("河南省", "省直辖县级行政区划", "济源市"), "河南省济源市"},
		{path("广东省", "东莞市", "东莞市", "东城街道"), "广东省东莞市东城街道"},
		{path("湖南省"), "湖南省"},
		{nil, ""},
	} {
		if got := FullName(tc.path); got != tc.want {
			t.Errorf("FullName = %q; want %q", got, tc.want)
		}
	}
}
