// Package region holds China's administrative divisions, keyed by the 12-digit statistical division
// codes of the National Bureau of Statistics (the first six digits are GB/T 2260): province 2 digits,
// prefecture 4, county 6, township 9, village 12. Every region-coded row of the schema references it.
package region

import (
	"strings"

	"github.com/fupinmarket/fupin/internal/platform/civil"
)

// Levels of the administrative hierarchy, as stored in regions.level.
const (
	Province   = 1 // 省级: province, autonomous region, municipality
	Prefecture = 2 // 地级: prefecture-level city, autonomous prefecture (or an NBS placeholder slot)
	County     = 3 // 县级: county, district, county-level city
	Township   = 4 // 乡级: township, town, subdistrict
	Village    = 5 // 村级: village committee, residents' committee
)

// codeLen is the code length of each level (index level-1).
var codeLen = [5]int{2, 4, 6, 9, 12}

// Region is one administrative division (table regions).
type Region struct {
	Code       string  `gorm:"column:code;primaryKey" json:"code"`
	Name       string  `gorm:"column:name" json:"name"`
	Level      int     `gorm:"column:level" json:"level"`
	ParentCode *string `gorm:"column:parent_code" json:"parent_code"`
	// Validity (migration 00052): the first day the region existed (nil: before the register),
	// the day it ceased (exclusive; nil: current) and the region it was merged into.
	ValidFrom     *civil.Date `gorm:"column:valid_from" json:"valid_from,omitempty"`
	ValidTo       *civil.Date `gorm:"column:valid_to" json:"valid_to,omitempty"`
	SuccessorCode *string     `gorm:"column:successor_code" json:"successor_code,omitempty"`
}

// TableName maps Region to the regions table.
func (Region) TableName() string { return "regions" }

// LevelOf returns the level a code of this length denotes (2→Province … 12→Village), or false for
// any other length. It does not look at the characters; ValidCode does.
func LevelOf(code string) (int, bool) {
	for i, n := range codeLen {
		if len(code) == n {
			return i + 1, true
		}
	}
	return 0, false
}

// CodeLen returns the length of codes of level l (1..5), or 0 for any other level.
func CodeLen(l int) int {
	if l < Province || l > Village {
		return 0
	}
	return codeLen[l-1]
}

// ValidCode reports whether code is ASCII digits only, 2, 4, 6, 9 or 12 of them.
func ValidCode(code string) bool {
	if _, ok := LevelOf(code); !ok {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// placeholders are names the NBS gives prefecture slots that are not real divisions: the 市辖区 of
// a municipality, Chongqing's 县, and the slot for county-level cities governed by the province.
var placeholders = map[string]bool{
	"市辖区":         true,
	"县":           true,
	"省直辖县级行政区划":   true,
	"自治区直辖县级行政区划": true,
}

// FullName joins the names of a path (province first, as Store.Path returns it) into the address
// people write, e.g. 湖南省湘西土家族苗族自治州花垣县双龙镇十八洞村. Placeholder names of
// prefecture slots (市辖区, 县, 省直辖县级行政区划) are left out, and so is a name equal to the one before
// it: the NBS repeats 东莞市 as a county under the prefecture 东莞市, which has no counties.
func FullName(path []Region) string {
	var b strings.Builder
	prev := ""
	for _, r := range path {
		if r.Level == Prefecture && placeholders[r.Name] || r.Name == prev {
			continue
		}
		b.WriteString(r.Name)
		prev = r.Name
	}
	return b.String()
}
