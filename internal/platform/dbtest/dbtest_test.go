package dbtest

import (
	"context"
	"io/fs"
	"os"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/migrations"
)

func TestMain(m *testing.M) { os.Exit(Run(m)) }

// Each Fresh database is fully migrated, and rows written in one are seen in no other.
func TestFreshDatabasesAreMigratedAndApart(t *testing.T) {
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatal(files, err)
	}
	a, b := Fresh(t), Fresh(t)
	var applied int
	if err := a.Raw(`SELECT count(*) FROM goose_db_version WHERE version_id > 0 AND is_applied`).Scan(&applied).Error; err != nil {
		t.Fatal(err)
	}
	if applied != len(files) {
		t.Fatalf("a Fresh database has %d migrations applied, want all %d", applied, len(files))
	}
	if err := a.Exec(`CREATE TABLE only_in_a (id int)`).Error; err != nil {
		t.Fatal(err)
	}
	for name, db := range map[string]*gorm.DB{"the other Fresh database": b, "the package's database": DB(t)} {
		var n int
		if err := db.Raw(`SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'`).Scan(&n).Error; err != nil || n != 0 {
			t.Fatalf("%s sees a table made in another (%d, %v)", name, n, err)
		}
	}
}

func skipWithoutTemplate(t *testing.T) {
	if template == "" {
		t.Skip("TEST_DB_POOLER=transaction: test databases are migrated through the pooler, not cloned")
	}
}

// Nobody may connect to the template: CREATE DATABASE … TEMPLATE fails while anyone is.
func TestTemplateRefusesConnections(t *testing.T) {
	skipWithoutTemplate(t)
	name, err := templateName()
	if err != nil {
		t.Fatal(err)
	}
	if name != template {
		t.Fatalf("this run cloned %q, the migrations' template is %q", template, name)
	}
	db, err := database.Open(context.Background(), withDatabase(AdminURL(), name), database.Pool{MaxOpen: 1})
	if err == nil {
		database.Close(db)
		t.Fatal("connected to the template database")
	}
}

// A template of another migration set is dropped a day after its last use, not before.
func TestOldTemplatesArePruned(t *testing.T) {
	skipWithoutTemplate(t)
	old, recent := templatePrefix+"test_old_"+randHex(4), templatePrefix+"test_recent_"+randHex(4)
	for name, used := range map[string]time.Time{old: time.Now().Add(-25 * time.Hour), recent: time.Now().Add(-time.Hour)} {
		if err := admin.Exec("CREATE DATABASE " + name).Error; err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { drop(name) })
		if err := admin.Exec("COMMENT ON DATABASE " + name + " IS '" + templateComment + used.UTC().Format(time.RFC3339) + "'").Error; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ensureTemplate(context.Background(), admin); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{old: false, recent: true, template: true} {
		var exists bool
		admin.Raw("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = ?)", name).Scan(&exists)
		if exists != want {
			t.Errorf("%s exists: %v, want %v", name, exists, want)
		}
	}
}
