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

// TestNoPoolReadInsideATransaction: a transaction holds one pooled connection; a read through the
// pool inside it asks for a second, and with the pool at N, N such requests at once wait for ever
// for each other (the roster import and a product PATCH did; internal/app's
// TestNoRequestNeedsASecondConnection walks every route on a pool of one). What a static rule sees
// without types, inside a function literal that is handed the transaction (its first parameter a
// *gorm.DB, a pgx.Tx or a type named …Tx), leaving out the literals nested in it (steps run after
// the commit):
//   - the receiver's pool (s.db);
//   - a call of a method of the receiver's type that reads its pool (s.db, or another such method)
//     and is not handed the transaction;
//   - a call given a context of another feature's service or interface held in a field
//     (s.households.OutsideStation(ctx, …)) that is not handed the transaction: it reads through
//     its own pool. Hand it the transaction, or move the call before or after the transaction.
//
// Without types it cannot follow a call into a method that only then calls another feature (the
// product PATCH's checkSupplierScope did): a provider or a cache is called the same way, and
// telling those from a read of a pool would need false alarms. The walk on a pool of one finds those.
func TestNoPoolReadInsideATransaction(t *testing.T) {
	fset := token.NewFileSet()
	byPkg := map[string][]*ast.File{}
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
			strings.Contains(path, "dbtest") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		byPkg[filepath.Dir(path)] = append(byPkg[filepath.Dir(path)], f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, files := range byPkg {
		for _, v := range poolReadsInTx(fset, files) {
			t.Error(v)
		}
	}
}

// poolReadsInTx reports the pool reads inside transactions in the files of one package.
func poolReadsInTx(fset *token.FileSet, files []*ast.File) []string {
	// The methods of each receiver type, and which read the pool (s.db), to a fixed point.
	type method struct {
		decl  *ast.FuncDecl
		recv  string
		reads bool
	}
	methods := map[string]*method{} // "Type.Name"
	for _, f := range files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || fd.Body == nil || len(fd.Recv.List[0].Names) == 0 {
				continue
			}
			m := &method{decl: fd, recv: fd.Recv.List[0].Names[0].Name}
			m.reads = usesField(fd.Body, m.recv, "db")
			methods[recvType(fd)+"."+fd.Name.Name] = m
		}
	}
	for changed := true; changed; {
		changed = false
		for _, m := range methods {
			if m.reads {
				continue
			}
			ast.Inspect(m.decl.Body, func(n ast.Node) bool {
				if name, ok := ownMethodCall(n, m.recv); ok && methods[recvType(m.decl)+"."+name] != nil &&
					methods[recvType(m.decl)+"."+name].reads {
					m.reads, changed = true, true
				}
				return !m.reads
			})
		}
	}
	var out []string
	for _, m := range methods {
		typ := recvType(m.decl)
		ast.Inspect(m.decl.Body, func(n ast.Node) bool {
			lit, ok := n.(*ast.FuncLit)
			if !ok {
				return true
			}
			tx, ok := txParam(lit)
			if !ok {
				return true
			}
			where := func(n ast.Node) string {
				p := fset.Position(n.Pos())
				return p.Filename + ":" + strconv.Itoa(p.Line) + " (" + typ + "." + m.decl.Name.Name + ")"
			}
			inspectFlat(lit.Body, func(n ast.Node) {
				switch x := n.(type) {
				case *ast.SelectorExpr:
					if id, ok := x.X.(*ast.Ident); ok && id.Name == m.recv && x.Sel.Name == "db" {
						out = append(out, where(x)+": the pool ("+m.recv+".db) inside a transaction: use "+tx)
					}
				case *ast.CallExpr:
					if handed(x, tx) {
						return
					}
					if name, ok := ownMethodCall(x, m.recv); ok && methods[typ+"."+name] != nil && methods[typ+"."+name].reads {
						out = append(out, where(x)+": "+m.recv+"."+name+" reads the pool inside a transaction: hand it "+tx+
							", or call it before or after the transaction")
					}
					if field, name, ok := fieldMethodCall(x, m.recv); ok && givenContext(x) {
						out = append(out, where(x)+": "+m.recv+"."+field+"."+name+" (another feature, on its own pool) inside a "+
							"transaction: hand it "+tx+", or call it before or after the transaction")
					}
				}
			})
			return false // its own nested literals are steps for later
		})
	}
	return out
}

// recvType is the name of fd's receiver type (without the pointer).
func recvType(fd *ast.FuncDecl) string {
	t := fd.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

// usesField says body names recv.field.
func usesField(body ast.Node, recv, field string) bool {
	found := false
	ast.Inspect(body, func(n ast.Node) bool {
		if s, ok := n.(*ast.SelectorExpr); ok {
			if id, ok := s.X.(*ast.Ident); ok && id.Name == recv && s.Sel.Name == field {
				found = true
			}
		}
		return !found
	})
	return found
}

// ownMethodCall is the name of the method in a call recv.Name(…).
func ownMethodCall(n ast.Node, recv string) (string, bool) {
	c, ok := n.(*ast.CallExpr)
	if !ok {
		return "", false
	}
	s, ok := c.Fun.(*ast.SelectorExpr)
	if !ok {
		return "", false
	}
	id, ok := s.X.(*ast.Ident)
	return s.Sel.Name, ok && id.Name == recv
}

// fieldMethodCall is the field and method of a call recv.field.Name(…).
func fieldMethodCall(c *ast.CallExpr, recv string) (field, name string, ok bool) {
	s, ok := c.Fun.(*ast.SelectorExpr)
	if !ok {
		return "", "", false
	}
	f, ok := s.X.(*ast.SelectorExpr)
	if !ok {
		return "", "", false
	}
	id, ok := f.X.(*ast.Ident)
	return f.Sel.Name, s.Sel.Name, ok && id.Name == recv
}

// txParam is the name of the transaction a function literal is handed: its first parameter, when
// that is a *gorm.DB, a pgx.Tx or a type named …Tx.
func txParam(lit *ast.FuncLit) (string, bool) {
	ps := lit.Type.Params.List
	if len(ps) == 0 || len(ps[0].Names) == 0 {
		return "", false
	}
	typ := ps[0].Type
	if s, ok := typ.(*ast.StarExpr); ok {
		typ = s.X
	}
	name := ""
	switch x := typ.(type) {
	case *ast.SelectorExpr:
		if id, ok := x.X.(*ast.Ident); ok {
			name = id.Name + "." + x.Sel.Name
		}
	case *ast.Ident:
		name = x.Name
	}
	return ps[0].Names[0].Name, name == "gorm.DB" || name == "pgx.Tx" || strings.HasSuffix(name, "Tx")
}

// handed says a call is given the transaction tx (or something made of it: tx.WithContext(ctx), u.tx).
func handed(c *ast.CallExpr, tx string) bool {
	found := false
	for _, a := range c.Args {
		ast.Inspect(a, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && id.Name == tx {
				found = true
			}
			return !found
		})
	}
	return found
}

// givenContext says one of a call's arguments is ctx (the request's context, by this code's name).
func givenContext(c *ast.CallExpr) bool {
	for _, a := range c.Args {
		if id, ok := a.(*ast.Ident); ok && id.Name == "ctx" {
			return true
		}
	}
	return false
}

// inspectFlat calls fn for each node under n, not entering function literals.
func inspectFlat(n ast.Node, fn func(ast.Node)) {
	ast.Inspect(n, func(x ast.Node) bool {
		if _, ok := x.(*ast.FuncLit); ok {
			return false
		}
		fn(x)
		return true
	})
}
