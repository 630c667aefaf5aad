// Package internal holds no code: only the architecture test that keeps each table with its owner.
package internal

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// exceptions are reviewed reads of other packages' tables that stay: the monthly report and the
// income reports read across features in one statement, for speed and for one consistent snapshot.
var exceptions = map[string][]string{
	"report": {"assisting_units", "households", "household_history", "journal_entries",
		"ledger_accounts", "order_lines", "orders", "postings", "products", "regions",
		"station_villages"},
}

// debts are the pairs measured when the map was drawn (issue 12): each is to be moved behind its
// owner's Go API and then deleted from this list; the test says which to remove. Seven pairs hid
// in gorm's Table("name") until the test read it: catalog's and station's regions (now
// region.Store.Exist, through an interface the app wires, as region's merge imports them),
// household's, demo's households and procurement's three.
var debts = map[string][]string{
	"demo":        {"households", "ledger_accounts", "order_lines", "orders", "product_suppliers", "products", "trace_codes", "users"},
	"household":   {"regions", "station_villages"},
	"procurement": {"households", "regions", "trace_codes"},
	"ledger":      {"double_charges", "households", "order_lines", "orders", "payments", "products", "refund_lines", "refunds", "returns_owed", "station_villages"},
	"trace":       {"assisting_units", "households", "order_lines", "orders", "products", "regions", "stations"},
}

// sqlTable finds a table named after a SQL keyword that introduces one.
var sqlTable = regexp.MustCompile(`(?i)\b(?:from|join|into|update|table|references|copy)\s+([a-z_][a-z0-9_]*)`)

// TestEachTableHasOneOwner fails when a package's SQL names a table that docs/architecture.md
// gives to another package, outside the reviewed exceptions and the listed debts.
func TestEachTableHasOneOwner(t *testing.T) {
	owners := readOwners(t, "../docs/architecture.md")
	used := tablesNamedPerPackage(t, ".", owners)
	allowed := func(list map[string][]string, pkg, table string) bool {
		for _, x := range list[pkg] {
			if x == table {
				return true
			}
		}
		return false
	}
	for pkg, tables := range used {
		for table := range tables {
			if owners[table] == pkg || allowed(exceptions, pkg, table) || allowed(debts, pkg, table) {
				continue
			}
			t.Errorf("package %s names table %s in SQL, which %s owns (docs/architecture.md): "+
				"call %s's Go API or read a view it defines", pkg, table, owners[table], owners[table])
		}
	}
	for pkg, tables := range debts {
		for _, table := range tables {
			if !used[pkg][table] {
				t.Errorf("package %s no longer names %s: delete the pair from debts", pkg, table)
			}
		}
	}
}

// TestEveryTableHasAnOwner fails when a migration creates a table or view that the ownership map
// does not name, so that the map stays whole as tables are added.
func TestEveryTableHasAnOwner(t *testing.T) {
	owners := readOwners(t, "../docs/architecture.md")
	files, err := filepath.Glob("../migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	create := regexp.MustCompile(`(?i)\bcreate\s+(?:unlogged\s+)?(?:or\s+replace\s+)?(?:table|view)\s+(?:if\s+not\s+exists\s+)?([a-z_][a-z0-9_]*)`)
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		up, _, _ := strings.Cut(string(b), "-- +goose Down")
		for _, m := range create.FindAllStringSubmatch(up, -1) {
			if name := strings.ToLower(m[1]); owners[name] == "" {
				t.Errorf("%s creates %s, which has no owner in docs/architecture.md (Who owns which table)",
					filepath.Base(file), name)
			}
		}
	}
}

// readOwners parses the "Who owns which table" rows: | `table` | `package` |.
func readOwners(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile("^\\| `([a-z_0-9]+)` \\| `([a-z_/]+)` \\|$")
	owners := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		if m := row.FindStringSubmatch(s.Text()); m != nil {
			owners[m[1]] = m[2]
		}
	}
	if len(owners) < 30 {
		t.Fatalf("%s: found %d owned tables; is the ownership table still there?", path, len(owners))
	}
	return owners
}

// tablesNamedPerPackage reads every non-test Go file under root and collects, per package path
// (relative to internal/), the owned tables its string literals name after a SQL keyword, as a
// gorm TableName or as the argument of gorm's Table.
func tablesNamedPerPackage(t *testing.T, root string, owners map[string]string) map[string]map[string]bool {
	t.Helper()
	used := map[string]map[string]bool{}
	note := func(pkg, table string) {
		if _, owned := owners[table]; !owned {
			return
		}
		if used[pkg] == nil {
			used[pkg] = map[string]bool{}
		}
		used[pkg][table] = true
	}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(filepath.Dir(path))
		ast.Inspect(f, func(n ast.Node) bool {
			if fn, ok := n.(*ast.FuncDecl); ok && fn.Name.Name == "TableName" && fn.Body != nil {
				ast.Inspect(fn.Body, func(n ast.Node) bool {
					if s, ok := stringLit(n); ok {
						note(pkg, s)
					}
					return true
				})
			}
			if call, ok := n.(*ast.CallExpr); ok && len(call.Args) > 0 {
				// gorm's db.Table("name") names a table with no SQL keyword before it.
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Table" {
					if s, ok := stringLit(call.Args[0]); ok {
						if name, _, _ := strings.Cut(strings.TrimSpace(s), " "); name != "" {
							note(pkg, strings.ToLower(name))
						}
					}
				}
			}
			if s, ok := stringLit(n); ok {
				for _, m := range sqlTable.FindAllStringSubmatch(s, -1) {
					note(pkg, strings.ToLower(m[1]))
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(used) == 0 {
		t.Fatal("no package names any table: is the walk reading the tree?")
	}
	return used
}

func stringLit(n ast.Node) (string, bool) {
	bl, ok := n.(*ast.BasicLit)
	if !ok || bl.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(bl.Value)
	return s, err == nil
}

// TestOneChinaZone keeps China Standard Time defined once (civil.China): a second definition is
// how months come to be cut in two ways.
func TestOneChinaZone(t *testing.T) {
	zone := regexp.MustCompile(`time\.(FixedZone|LoadLocation)\(`)
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
			filepath.ToSlash(filepath.Dir(path)) == "platform/civil" {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && zone.Match(b) {
			t.Errorf("%s defines a time zone: use civil.China", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ginDebts are the feature files that imported gin when the rule was made (issue 12); each is to
// lose gin (its service taking plain Go values, its adapter moving to http.go) and then be deleted
// from this list; the test says which to remove.
var ginDebts = map[string]bool{
	"trace/limiter.go": true,
}

// TestOnlyHTTPAdaptersImportGin keeps each feature's services free of gin: in the feature
// packages (all of internal/ but platform/*, app, console, web and bench) only http.go and
// http_*.go may import it, so that a service takes plain Go values and one adapter per feature
// decodes, calls it and encodes. Tests are not held to it.
func TestOnlyHTTPAdaptersImportGin(t *testing.T) {
	outside := func(rel string) bool {
		first, _, _ := strings.Cut(rel, "/")
		switch first {
		case "platform", "app", "console", "web", "bench":
			return true
		}
		return false
	}
	seen := map[string]bool{}
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		rel := filepath.ToSlash(path)
		if !strings.Contains(rel, "/") || outside(rel) {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		imports := false
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == "github.com/gin-gonic/gin" || strings.HasPrefix(p, "github.com/gin-gonic/gin/") {
				imports = true
			}
		}
		if !imports {
			return nil
		}
		seen[rel] = true
		base := filepath.Base(rel)
		if base == "http.go" || (strings.HasPrefix(base, "http_") && strings.HasSuffix(base, ".go")) {
			return nil
		}
		if !ginDebts[rel] {
			t.Errorf("%s imports gin: only http.go and http_*.go may; let the service take plain Go "+
				"values and decode and encode in the feature's HTTP adapter", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for file := range ginDebts {
		if !seen[file] {
			t.Errorf("%s no longer imports gin: delete it from ginDebts", file)
		}
	}
}

// TestSettingsReadOnceInConfig keeps the environment read in one place, platform/config (and
// dbtest's test-only URLs): a setting read elsewhere is missing from `fupin serve --help`, escapes
// validation at start and cannot be set by a test that builds the app from a config.Config.
func TestSettingsReadOnceInConfig(t *testing.T) {
	read := regexp.MustCompile(`os\.(Getenv|LookupEnv|Environ)\(|env\.Parse`)
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		switch filepath.ToSlash(filepath.Dir(path)) {
		case "platform/config", "platform/dbtest":
			return nil
		}
		b, err := os.ReadFile(path)
		if err == nil && read.Match(b) {
			t.Errorf("%s reads the environment: add the setting to config.Config and pass it down", path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
