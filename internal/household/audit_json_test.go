package household

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The import writes each new household's audit change set with appendCreated; registration with
// json.Marshal(created(h)). Both must be the same JSON value, phone or none, and for strings that
// need escaping (which validation keeps out of a household, but appendJSONString must not emit
// invalid JSON if one ever gets there).
func TestAppendCreatedIsCreated(t *testing.T) {
	for _, h := range []Household{
		{ArchiveNo: "A-001", HeadName: "欧阳小明", IDNumber: "433124197001011234", Phone: "13812345678",
			VillageCode: shibadong, Members: 4, Status: StatusLifted},
		{ArchiveNo: "B2", HeadName: "龙", IDNumber: "43312419700101123X", VillageCode: zhuxi, Members: 30, Status: StatusPoor},
		{ArchiveNo: `q"u\o<t>e&` + "\n\t\x01", HeadName: "张\"三\\", IDNumber: "4331241970010112", Phone: "1\u2028",
			VillageCode: "bad\xffutf8", Members: -1, Status: "x\x00"},
	} {
		want, err := json.Marshal(created(h))
		if err != nil {
			t.Fatal(err)
		}
		got := appendCreated([]byte("prefix"), h)
		if string(got[:6]) != "prefix" {
			t.Fatalf("appendCreated overwrote its buffer: %q", got)
		}
		var a, b any
		if err := json.Unmarshal(want, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got[6:], &b); err != nil {
			t.Fatalf("appendCreated wrote invalid JSON %q: %v", got[6:], err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Errorf("appendCreated = %s\nwant json.Marshal(created) = %s", got[6:], want)
		}
	}
}
