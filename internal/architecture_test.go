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
	"sort"
	"strconv"
	"strings"
	"testing"
)

// exceptions are reviewed reads of other packages' tables that stay: the monthly report and the
// income reports read across features in one statement, for speed and for one consistent snapshot.
var exceptions = map[string][]string{
	"report": {"assisting_units", "households", "household_history", "journal_entries",
		"ledger_accounts", "ledger_month_rollups", "order_lines", "orders", "postings", "products", "regions",
		"station_villages"},
}

// debts are reads of another package's table still to be moved behind its owner's Go API or views;
// the test says which pair to remove once it is moved. Empty since migration 00150 (issue 12: the
// 35 pairs measured when the map was drawn, and 7 more that hid in gorm's Table("name") until the
// test read it, all went behind views or the owners' Go APIs). A new pair here needs a reason.
var debts = map[string][]string{}

// sqlTable finds a table named after a SQL keyword that introduces one.
var sqlTable = regexp.MustCompile(`(?i)\b(from|join|into|update|table|references|copy)\s+([a-z_][a-z0-9_]*)`)

// createView finds the views a migration creates: an owner's views are for others to read.
var createView = regexp.MustCompile(`(?i)\bcreate\s+(?:or\s+replace\s+)?view\s+([a-z_][a-z0-9_]*)`)

// TestEachTableHasOneOwner fails when a package's SQL names a table that docs/architecture.md
// gives to another package, outside the reviewed exceptions and the listed debts (reading an owner's
// view is allowed).
func TestEachTableHasOneOwner(t *testing.T) {
	owners := readOwners(t, "../docs/architecture.md")
	used := tablesNamedPerPackage(t, ".", owners, readViews(t))
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
// gorm TableName or as the argument of gorm's Table. A view read by another package (after FROM or
// JOIN, or as gorm's Table, which reads) is what views are for, and is not collected.
func tablesNamedPerPackage(t *testing.T, root string, owners map[string]string, views map[string]bool) map[string]map[string]bool {
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
						if name, _, _ := strings.Cut(strings.TrimSpace(s), " "); name != "" && !views[strings.ToLower(name)] {
							note(pkg, strings.ToLower(name))
						}
					}
				}
			}
			if s, ok := stringLit(n); ok {
				for _, m := range sqlTable.FindAllStringSubmatch(s, -1) {
					keyword, table := strings.ToLower(m[1]), strings.ToLower(m[2])
					if views[table] && (keyword == "from" || keyword == "join") {
						continue
					}
					note(pkg, table)
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

// readViews lists the views the migrations create (and do not drop again in a later Up).
func readViews(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("../migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations found: %v", err)
	}
	dropView := regexp.MustCompile(`(?i)\bdrop\s+view\s+(?:if\s+exists\s+)?([a-z_][a-z0-9_]*)`)
	views := map[string]bool{}
	for _, file := range files { // in version order: a later migration may drop a view
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		up, _, _ := strings.Cut(string(b), "-- +goose Down")
		// In the order written: a migration may drop a view and create it again.
		type change struct {
			at     int
			name   string
			exists bool
		}
		var changes []change
		for _, m := range createView.FindAllStringSubmatchIndex(up, -1) {
			changes = append(changes, change{m[0], strings.ToLower(up[m[2]:m[3]]), true})
		}
		for _, m := range dropView.FindAllStringSubmatchIndex(up, -1) {
			changes = append(changes, change{m[0], strings.ToLower(up[m[2]:m[3]]), false})
		}
		sort.Slice(changes, func(i, j int) bool { return changes[i].at < changes[j].at })
		for _, c := range changes {
			if c.exists {
				views[c.name] = true
			} else {
				delete(views, c.name)
			}
		}
	}
	if len(views) == 0 {
		t.Fatal("no views found in the migrations: is the pattern still right?")
	}
	return views
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
var ginDebts = map[string]bool{}

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
