package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// clientPorts are the only fixed ports a test may name: where the real services the tests use
// listen (scripts/test.sh starts them there; TEST_DATABASE_URL and TEST_REDIS_URL move them), and
// port 1 (tcpmux), which tests dial as an address where nothing answers. A test never listens on
// any of them.
var clientPorts = map[int]string{1: "nothing listens", 5432: "PostgreSQL", 6379: "Redis"}

// localAddr finds a loopback or wildcard address with a port inside a string literal
// ("127.0.0.1:18083", "http://localhost:8080/t/", "[::1]:9000"), or a literal that is only a
// port (":8080"; not any ":123" inside, which JSON is full of).
var localAddr = regexp.MustCompile(`(?:^|[^\w.\-])(127(?:\.\d{1,3}){3}|localhost|0\.0\.0\.0|\[::1?\])(:\d{1,5})\b|^()(:\d{1,5})$`)

// Tests never bind fixed ports: two test binaries (or anything else on the machine) holding the same
// port make one fail. A test listens on port 0 and learns the port it was given (net.Listen's
// Addr, or the "listening on" line of `fupin serve`). This scans every *_test.go of the module:
// in a listen call (net.Listen…, ListenAndServe, http.Server{Addr}, an *ADDR variable set with
// Setenv) only port 0 passes; anywhere else a loopback or wildcard address with a port other than
// 0 and the client ports above fails (a bare ":N" there may be anything, such as a client's port).
func TestNoFixedPortsInTests(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var files int
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "vendor", "testdata", "node_modules":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		files++
		rel, _ := filepath.Rel(root, path)
		for _, p := range fixedPorts(t, path) {
			t.Errorf("%s:%d: %s", rel, p.line, p.why)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 10 {
		t.Fatalf("scanned only %d test files under %s", files, root)
	}
}

// The scanner itself: each way of fixing a port in testdata/fixedports.txt is caught, port 0 and
// client addresses pass (the cases live in testdata so that the scan above does not see them).
func TestFixedPortScanner(t *testing.T) {
	cases, err := os.ReadFile("testdata/fixedports.txt")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var n int
	for i, line := range strings.Split(string(cases), "\n") {
		want, stmt, ok := strings.Cut(line, "\t")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		n++
		path := filepath.Join(dir, fmt.Sprintf("case%d_test.go", i))
		if err := os.WriteFile(path, []byte("package x\n\nfunc f() {\n\t"+stmt+"\n}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		switch found := len(fixedPorts(t, path)) > 0; {
		case want == "bad" && !found:
			t.Errorf("line %d: %s passed", i+1, stmt)
		case want == "good" && found:
			t.Errorf("line %d: %s refused", i+1, stmt)
		}
	}
	if n < 10 {
		t.Fatalf("only %d cases in testdata/fixedports.txt", n)
	}
}

type portFinding struct {
	line int
	why  string
}

// fixedPorts parses one Go file and returns its fixed-port literals.
func fixedPorts(t *testing.T, path string) []portFinding {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	listening := map[*ast.BasicLit]string{} // literals inside a listen call, with its name
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			name := callName(n.Fun)
			isListen := strings.HasPrefix(name, "Listen")
			if name == "Setenv" && len(n.Args) == 2 {
				if k, ok := n.Args[0].(*ast.BasicLit); ok && strings.HasSuffix(strings.Trim(k.Value, "`\""), "ADDR") {
					isListen = true
				}
			}
			if isListen {
				for _, a := range n.Args {
					markLits(a, name, listening)
				}
			}
		case *ast.CompositeLit:
			if callName(n.Type) != "Server" {
				return true
			}
			for _, e := range n.Elts {
				if kv, ok := e.(*ast.KeyValueExpr); ok {
					if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Addr" {
						markLits(kv.Value, "Server.Addr", listening)
					}
				}
			}
		}
		return true
	})
	var out []portFinding
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			return true
		}
		for _, m := range localAddr.FindAllStringSubmatch(s, -1) {
			host, colonPort := m[1]+m[3], m[2]+m[4]
			port, _ := strconv.Atoi(colonPort[1:])
			line := fset.Position(lit.Pos()).Line
			if call, ok := listening[lit]; ok {
				if port != 0 {
					out = append(out, portFinding{line, call + " on fixed port " + host + colonPort + ": listen on port 0 and read the bound address"})
				}
				continue
			}
			if _, client := clientPorts[port]; port != 0 && !client && host != "" {
				out = append(out, portFinding{line, "fixed local address " + host + colonPort + ": listen on port 0 and pass the bound address along"})
			}
		}
		return true
	})
	return out
}

// callName is the last name of a function or type expression: net.Listen → Listen.
func callName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return e.Sel.Name
	case *ast.StarExpr:
		return callName(e.X)
	}
	return ""
}

func markLits(e ast.Expr, call string, into map[*ast.BasicLit]string) {
	ast.Inspect(e, func(n ast.Node) bool {
		if lit, ok := n.(*ast.BasicLit); ok {
			into[lit] = call
		}
		return true
	})
}
