package internal

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestRedisOnlyThroughTheCache keeps every Redis command behind platform/cache, whose Eval refuses
// (and, in tests, panics on) a script's keys of two cluster slots and whose Del splits its keys by
// slot: outside platform/cache and platform/dbtest, non-test code may take from go-redis only what
// declares a script (NewScript, Script) and its "no value" error (Nil), never a client or a
// command, which could touch keys of several slots unchecked (docs/scaling.md, "Redis").
func TestRedisOnlyThroughTheCache(t *testing.T) {
	allowed := map[string]bool{"NewScript": true, "Script": true, "Nil": true}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		switch filepath.ToSlash(filepath.Dir(path)) {
		case "platform/cache", "platform/dbtest":
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		name := ""
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "github.com/redis/go-redis/v9" {
				name = "redis"
				if imp.Name != nil {
					name = imp.Name.Name
				}
			}
		}
		if name == "" {
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == name && !allowed[sel.Sel.Name] {
					t.Errorf("%s: redis.%s: call Redis through platform/cache (one slot per script, Del split by slot)",
						fset.Position(sel.Pos()), sel.Sel.Name)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
