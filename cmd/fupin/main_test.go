package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/monitoring"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/report"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

// The run path of the README on a fresh database: migrate, demo twice (idempotent), verify.
func TestMigrateDemoVerify(t *testing.T) {
	t.Setenv("DATABASE_URL", dbtest.URL(t))
	t.Setenv("REDIS_URL", dbtest.RedisURL())
	t.Setenv("LOG_LEVEL", "warn")
	t.Setenv("BCRYPT_COST", "4")
	var out strings.Builder
	for _, args := range [][]string{{"migrate", "up"}, {"migrate", "status"}, {"demo"}} {
		if err := run(args, &out); err != nil {
			t.Fatalf("fupin %s: %v", strings.Join(args, " "), err)
		}
	}
	first := regexp.MustCompile(`/t/([0-9A-Z]{14})`).FindStringSubmatch(out.String())
	if first == nil || !strings.Contains(out.String(), "Demo data loaded") {
		t.Fatalf("demo printed no scan URL:\n%s", out.String())
	}
	receipt := regexp.MustCompile(`/r/[0-9a-f-]{36}\?digest=[0-9a-f]{64}`).FindString(out.String())
	if receipt == "" {
		t.Fatalf("demo printed no impact receipt URL:\n%s", out.String())
	}
	// The buyers' default catalogue shows certified products only: the demo's are certified.
	var certified int64
	if err := dbtest.DB(t).Raw(`SELECT count(DISTINCT product_id) FROM product_certifications
		WHERE (now() AT TIME ZONE 'Asia/Shanghai')::date BETWEEN valid_from AND valid_until`).Scan(&certified).Error; err != nil || certified != 10 {
		t.Fatalf("%d demo products certified today (%v), want 10", certified, err)
	}
	// The covered products' shipped batches (kiwifruit, 椪柑: 水果) carry their 承诺达标合格证 (internal/demo/certificates.go).
	var certificates int64
	if err := dbtest.DB(t).Raw(`SELECT count(*) FROM certificates_view`).Scan(&certificates).Error; err != nil || certificates < 2 {
		t.Fatalf("%d demo certificates (%v), want the kiwifruit's and the 椪柑's batches'", certificates, err)
	}
	// One warning on the county office's monitoring list, whatever the month (internal/demo/monitoring.go).
	db := dbtest.DB(t)
	list, err := monitoring.NewService(db, report.NewService(db), monitoring.Settings{DropBP: 3000, LineMarginBP: 1000}).
		Warnings(t.Context(), "433124")
	if err != nil || len(list.Warnings) != 1 || strings.Join(list.Warnings[0].Reasons, ",") != monitoring.ReasonIncomeDrop ||
		list.Warnings[0].PriorFen != 300000 || list.Warnings[0].RecentFen != 0 {
		t.Fatalf("demo monitoring warnings (%v): %+v", err, list)
	}
	out.Reset()
	if err := run([]string{"demo"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "already loaded") || !strings.Contains(out.String(), "/t/"+first[1]) ||
		!strings.Contains(out.String(), receipt) {
		t.Fatalf("second demo run:\n%s", out.String())
	}
	out.Reset()
	if err := run([]string{"verify", "--full"}, &out); err != nil || !strings.Contains(out.String(), "ledger verify OK") ||
		// The demo's three completed orders, the purchase-model rice order's among them.
		!strings.Contains(out.String(), "impact receipts: 3 checked against the ledger, 0 mismatches") {
		t.Fatalf("verify --full: %v\n%s", err, out.String())
	}
	out.Reset()
	// The routine run starts from the checkpoint the full one left.
	if err := run([]string{"verify"}, &out); err != nil || !strings.Contains(out.String(), "routine run: since checkpoint") {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
	for flag, args := range map[string][]string{"--format": {"report", "monthly", "433124", "--format", "pdf"},
		"--table": {"report", "monthly", "433124", "--table", "villages"}} {
		if err := run(args, &out); err == nil || !strings.Contains(err.Error(), flag+` "`) {
			t.Errorf("fupin %s: %v, want an error naming %s and its value", strings.Join(args, " "), err, flag)
		}
	}
	if err := run([]string{"frobnicate"}, &out); err == nil {
		t.Fatal("an unknown command succeeded")
	}
	out.Reset()
	if err := run([]string{"serve", "--help"}, &out); err != nil || !strings.Contains(out.String(), "DATABASE_URL") {
		t.Fatalf("serve --help: %v\n%s", err, out.String())
	}
}
