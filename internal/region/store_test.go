package region

import (
	"context"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

func TestStore(t *testing.T) {
	ctx := context.Background()
	db := dbtest.DB(t)
	if _, err := LoadSeed(ctx, db); err != nil {
		t.Fatal(err)
	}
	s := NewStore(db)

	r, err := s.Get(ctx, "433124")
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "花垣县" || r.Level != County || r.ParentCode == nil || *r.ParentCode != "4331" {
		t.Errorf("Get(433124) = %+v", r)
	}
	p, err := s.Get(ctx, "43")
	if err != nil || p.ParentCode != nil {
		t.Errorf("Get(43) = %+v, %v; want a province without parent", p, err)
	}

	for _, code := range []string{"999999", "433124999999", "x"} {
		if _, err := s.Get(ctx, code); !apperr.Is(err, apperr.KindNotFound) {
			t.Errorf("Get(%s) error = %v; want not found", code, err)
		}
		if _, err := s.Path(ctx, code); !apperr.Is(err, apperr.KindNotFound) {
			t.Errorf("Path(%s) error = %v; want not found", code, err)
		}
	}

	path, err := s.Path(ctx, "4331")
	if err != nil || len(path) != 2 || path[0].Code != "43" || path[1].Code != "4331" {
		t.Errorf("Path(4331) = %+v, %v", path, err)
	}

	kids, err := s.Children(ctx, "433124")
	if err != nil {
		t.Fatal(err)
	}
	if len(kids) != 12 {
		t.Fatalf("花垣县 has %d townships; want 12", len(kids))
	}
	for i, k := range kids {
		if k.Level != Township || *k.ParentCode != "433124" || i > 0 && kids[i-1].Code >= k.Code {
			t.Errorf("child %d = %+v: want townships of 433124 ordered by code", i, k)
		}
	}
	none, err := s.Children(ctx, "433124110226")
	if err != nil || none == nil || len(none) != 0 {
		t.Errorf("Children(village) = %#v, %v; want an empty, non-nil slice", none, err)
	}
}

// Exist answers for every code at once, of one level or of any.
func TestExist(t *testing.T) {
	ctx := context.Background()
	db := dbtest.DB(t)
	if _, err := LoadSeed(ctx, db); err != nil {
		t.Fatal(err)
	}
	s := NewStore(db)
	for _, c := range []struct {
		codes []string
		level int
		want  bool
	}{
		{[]string{"433124"}, 0, true},
		{[]string{"433124", "433124110226"}, 0, true},
		{[]string{"433124110226"}, Village, true},
		{[]string{"433124", "433124110226"}, Village, false},
		{[]string{"433124110226", "433124999999"}, 0, false},
	} {
		got, err := s.Exist(ctx, c.codes, c.level)
		if err != nil || got != c.want {
			t.Errorf("Exist(%v, %d) = %v, %v; want %v", c.codes, c.level, got, err, c.want)
		}
	}
}
