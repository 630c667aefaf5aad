package sheet

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestOnlySheetWritesSpreadsheets closes the class of bug: an export that writes CSV or XLSX by
// itself gets none of the guards above (exact codes, numeric money, BOM, China time). Outside
// this package, no non-test Go file may create a CSV or XLSX writer, and a package that serves
// text/csv or XLSX must use this package (its handlers may sit in another file than its exports). Reading (csv.NewReader, excelize.OpenReader) is free.
func TestOnlySheetWritesSpreadsheets(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal("module root not found:", err)
	}
	self, _ := filepath.Abs(".")
	forbidden := map[string]map[string]bool{
		"encoding/csv":                {"NewWriter": true},
		"github.com/xuri/excelize/v2": {"NewFile": true, "NewStreamWriter": true},
	}
	checked := 0
	serving, usingSheet := map[string]bool{}, map[string]bool{} // by package directory
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			abs, _ := filepath.Abs(path)
			if abs == self || strings.HasPrefix(d.Name(), ".") && path != root || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		checked++
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		names := map[string]string{} // local name → import path
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasSuffix(p, "/internal/platform/sheet") {
				usingSheet[filepath.Dir(path)] = true
			}
			name := p[strings.LastIndexByte(p, '/')+1:]
			if p == "github.com/xuri/excelize/v2" {
				name = "excelize"
			}
			if imp.Name != nil {
				name = imp.Name.Name
			}
			names[name] = p
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && forbidden[names[x.Name]][sel.Sel.Name] {
				t.Errorf("%s: %s.%s writes a spreadsheet itself; write it with internal/platform/sheet", path, x.Name, sel.Sel.Name)
			}
			return true
		})
		s := string(src)
		if strings.Contains(s, "text/csv") || strings.Contains(s, "spreadsheetml") {
			serving[filepath.Dir(path)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for dir := range serving {
		if !usingSheet[dir] {
			t.Errorf("%s serves CSV or XLSX without internal/platform/sheet", dir)
		}
	}
	if checked < 50 {
		t.Fatalf("only %d Go files checked: walked the wrong tree?", checked)
	}
}
