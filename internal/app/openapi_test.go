package app

import (
	"fmt"
	"log/slog"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/google/uuid"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/fupinmarket/fupin/api"
	"github.com/fupinmarket/fupin/internal/console"
	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/config"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// These tests hold api/openapi.yaml to the router: the same routes, every operation named and
// answered, every $ref defined, and, for every operation, the roles the document claims: a request
// without a token or with a role not listed in x-roles is refused, and whatever the router answers
// is a status (and media type) the document lists for that operation.
//
// The routes test needs no database: its app is wired on a PostgreSQL and a Redis that cannot be
// reached. The roles test runs on the package's database, since every token's session is checked
// live; its requests are chosen to be settled by routing, authentication and input checks.

// openAPIApp wires the application on a database and a cache that are never reached.
func openAPIApp(t *testing.T) *App {
	t.Helper()
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	db, err := gorm.Open(postgres.New(postgres.Config{
		DSN: "host=/nonexistent/fupin-openapi-test user=fupin dbname=fupin sslmode=disable connect_timeout=1",
	}), &gorm.Config{DisableAutomaticPing: true, Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(cfg, db, dbtest.DeadRedis(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	// Feature packages that still log on the default logger (trace, procurement) would log the
	// unreachable services' failures there.
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	t.Cleanup(func() { slog.SetDefault(prev) })
	return a
}

type openAPIDoc = map[string]any

func openAPILoad(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := yaml.Unmarshal(api.OpenAPI, &doc); err != nil {
		t.Fatalf("api/openapi.yaml does not parse: %v", err)
	}
	return doc
}

var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// openAPIOp is one operation of the document.
type openAPIOp struct {
	method, path string // GET, /api/v1/orders/{id}
	op           map[string]any
	pathItem     map[string]any
}

func (o openAPIOp) String() string { return o.method + " " + o.path }

func openAPIOps(t *testing.T, doc openAPIDoc) []openAPIOp {
	t.Helper()
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		t.Fatal("api/openapi.yaml has no paths")
	}
	var ops []openAPIOp
	for path, item := range paths {
		pi, ok := item.(map[string]any)
		if !ok {
			t.Fatalf("paths[%s] is not a mapping", path)
		}
		for _, m := range openAPIMethods {
			if op, ok := pi[m].(map[string]any); ok {
				ops = append(ops, openAPIOp{method: strings.ToUpper(m), path: path, op: op, pathItem: pi})
			}
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].String() < ops[j].String() })
	return ops
}

var ginParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

// TestOpenAPIRoutes: the document describes exactly the routes the router registers.
func TestOpenAPIRoutes(t *testing.T) {
	a := openAPIApp(t)
	doc := openAPILoad(t)

	router := map[string]bool{}
	for _, r := range a.Router.Routes() {
		// The web console's files, and the root that redirects to it, are not API operations:
		// internal/console and TestConsoleIsServedUnderItsPrefixOnly test them.
		if r.Path == "/" || r.Path == "/console" || strings.HasPrefix(r.Path, console.Prefix) {
			continue
		}
		router[r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	documented := map[string]bool{}
	for _, op := range openAPIOps(t, doc) {
		documented[op.String()] = true
	}
	var missing, extra []string
	for k := range router {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !router[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes the router registers but api/openapi.yaml does not describe:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(extra) > 0 {
		t.Errorf("operations api/openapi.yaml describes but the router does not register:\n  %s", strings.Join(extra, "\n  "))
	}
	if len(router) == 0 {
		t.Error("the router registers no routes")
	}
}

// TestOpenAPIDocument checks the document on its own: operations complete, path parameters
// declared, roles consistent with security, every $ref defined and every component used.
func TestOpenAPIDocument(t *testing.T) {
	doc := openAPILoad(t)
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi = %q; want 3.1.x", v)
	}
	info, _ := doc["info"].(map[string]any)
	if info["title"] != "Fupin Market API" || info["version"] == nil || info["description"] == nil {
		t.Errorf("info lacks a title, version or description: %v", info)
	}

	ids := map[string]string{}
	for _, o := range openAPIOps(t, doc) {
		id, _ := o.op["operationId"].(string)
		switch {
		case id == "":
			t.Errorf("%s has no operationId", o)
		case ids[id] != "":
			t.Errorf("%s reuses operationId %q of %s", o, id, ids[id])
		default:
			ids[id] = o.String()
		}
		if s, _ := o.op["summary"].(string); strings.TrimSpace(s) == "" {
			t.Errorf("%s has no summary", o)
		}
		if tags, _ := o.op["tags"].([]any); len(tags) == 0 {
			t.Errorf("%s has no tags", o)
		}
		responses, _ := o.op["responses"].(map[string]any)
		if len(responses) == 0 {
			t.Errorf("%s has no responses", o)
		}
		for code := range responses {
			if n, err := strconv.Atoi(code); err != nil || n < 100 || n > 599 {
				t.Errorf("%s: response %q is not an HTTP status code", o, code)
			}
		}

		// Path parameters: each {name} of the template declared, and nothing else.
		declared := map[string]bool{}
		for _, params := range []any{o.pathItem["parameters"], o.op["parameters"]} {
			list, _ := params.([]any)
			for _, p := range list {
				pm := openAPIDeref(t, doc, p)
				if pm["in"] == "path" {
					declared[pm["name"].(string)] = true
					if pm["required"] != true {
						t.Errorf("%s: path parameter %v must be required", o, pm["name"])
					}
				}
			}
		}
		for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(o.path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter {%s} is not declared", o, m[1])
			}
			delete(declared, m[1])
		}
		for name := range declared {
			t.Errorf("%s declares path parameter %q that its path lacks", o, name)
		}

		// Roles: x-roles on exactly the operations that need a token, which document 401 and 403.
		roles := openAPIRoles(o)
		if openAPIPublic(doc, o) {
			if roles != nil {
				t.Errorf("%s is public (security: []) but lists x-roles %v", o, roles)
			}
			continue
		}
		if len(roles) == 0 {
			t.Errorf("%s needs a token but lists no x-roles", o)
		}
		for _, r := range roles {
			if !auth.Role(r).Valid() {
				t.Errorf("%s: x-roles names %q, not a role", o, r)
			}
		}
		for _, code := range []string{"401", "403"} {
			if _, ok := responses[code]; !ok {
				t.Errorf("%s needs a token but does not document %s", o, code)
			}
		}
	}

	// Every $ref resolves, and every component is referenced somewhere.
	used := map[string]bool{}
	var walk func(n any, at string)
	walk = func(n any, at string) {
		switch v := n.(type) {
		case map[string]any:
			if ref, ok := v["$ref"]; ok {
				s, _ := ref.(string)
				if _, err := openAPIResolve(doc, s); err != nil {
					t.Errorf("%s: $ref %q: %v", at, s, err)
				}
				used[s] = true
			}
			for k, c := range v {
				walk(c, at+"/"+k)
			}
		case []any:
			for i, c := range v {
				walk(c, fmt.Sprintf("%s/%d", at, i))
			}
		}
	}
	walk(doc, "#")
	components, _ := doc["components"].(map[string]any)
	for _, section := range []string{"schemas", "parameters", "responses", "headers", "requestBodies"} {
		entries, _ := components[section].(map[string]any)
		for name := range entries {
			if ref := "#/components/" + section + "/" + name; !used[ref] {
				t.Errorf("%s is defined but never referenced", ref)
			}
		}
	}
}

// TestOpenAPIRoles calls every operation without a token, with a bad token and as each role, and
// checks the answers against the document: 401 without a valid token, 403 for a role not in
// x-roles, and otherwise a status and media type the operation documents.
func TestOpenAPIRoles(t *testing.T) {
	a := testApp(t)
	doc := openAPILoad(t)
	admin := fixture.Login(t, a.Router, a.Users, auth.RoleAdmin, nil, nil)
	var st, unit struct{ ID uuid.UUID }
	admin.Do("POST", "/api/v1/stations", map[string]any{"name": "角色测试服务点" + fixture.RandDigits(4), "level": "village",
		"region_code": "433124110226", "village_codes": []string{"433124110226"}}).Want(201).JSON(&st)
	admin.Do("POST", "/api/v1/units", map[string]any{"name": "角色测试单位" + fixture.RandDigits(4), "credit_code": fixture.CreditCode(),
		"kind": "state_owned"}).Want(201).JSON(&unit)
	// A session per call, as one call (POST /auth/logout) ends the session it is made in.
	principals := map[auth.Role]auth.Principal{}
	for _, u := range []auth.NewUser{
		{Role: auth.RoleAdmin},
		{Role: auth.RoleStation, StationID: &st.ID},
		{Role: auth.RoleBuyer, UnitID: &unit.ID},
	} {
		u.Username, u.Password = string(u.Role)+"-roles-"+fixture.RandDigits(6), fixture.Password
		user, err := a.Users.Create(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		principals[u.Role] = user.Principal()
	}
	session := func(role auth.Role) string {
		tok, _, err := a.Users.Start(t.Context(), principals[role])
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	call := func(o openAPIOp, authz string) *httptest.ResponseRecorder {
		// Malformed path parameters, and no body: each handler refuses the input before it needs
		// a row, or reaches for the unreachable database.
		path := strings.NewReplacer("{id}", "not-a-uuid", "{code}", "not-a-code").Replace(o.path)
		req := httptest.NewRequest(o.method, path, nil)
		if authz != "" {
			req.Header.Set("Authorization", authz)
		}
		return serveChecked(t, a.Router, req, nil)
	}
	documented := func(o openAPIOp, who string, w *httptest.ResponseRecorder) {
		t.Helper()
		responses, _ := o.op["responses"].(map[string]any)
		resp, ok := responses[strconv.Itoa(w.Code)]
		if !ok {
			t.Errorf("%s %s: status %d is not documented (body %.200s)", who, o, w.Code, w.Body)
			return
		}
		content, _ := openAPIDeref(t, doc, resp)["content"].(map[string]any)
		if len(content) == 0 {
			return
		}
		mt, _, _ := mime.ParseMediaType(w.Header().Get("Content-Type"))
		if _, ok := content[mt]; !ok {
			t.Errorf("%s %s: %d answered as %q; the document lists %v", who, o, w.Code, mt, slices.Sorted(maps.Keys(content)))
		}
	}
	for _, o := range openAPIOps(t, doc) {
		if openAPIPublic(doc, o) {
			w := call(o, "")
			if w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden {
				t.Errorf("public %s answered %d without a token", o, w.Code)
			}
			documented(o, "public", w)
			continue
		}
		for who, authz := range map[string]string{"no token": "", "bad token": "Bearer not.a.jwt"} {
			if w := call(o, authz); w.Code != http.StatusUnauthorized {
				t.Errorf("%s %s: %d; want 401", who, o, w.Code)
			}
		}
		roles := openAPIRoles(o)
		for role := range principals {
			w := call(o, "Bearer "+session(role))
			if !slices.Contains(roles, string(role)) {
				if w.Code != http.StatusForbidden {
					t.Errorf("%s %s: %d; x-roles %v leaves it out, so want 403", role, o, w.Code, roles)
				}
				continue
			}
			if w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden {
				t.Errorf("%s %s: %d; x-roles %v lets it in", role, o, w.Code, roles)
			}
			documented(o, string(role), w)
		}
	}
}

// openAPIPublic reports whether an operation needs no token (security: [] or an empty requirement).
func openAPIPublic(doc openAPIDoc, o openAPIOp) bool {
	sec, ok := o.op["security"]
	if !ok {
		sec = doc["security"]
	}
	list, _ := sec.([]any)
	for _, req := range list {
		if m, _ := req.(map[string]any); len(m) == 0 {
			return true
		}
	}
	return len(list) == 0
}

// openAPIRoles returns an operation's x-roles, nil when it has none.
func openAPIRoles(o openAPIOp) []string {
	list, ok := o.op["x-roles"].([]any)
	if !ok {
		return nil
	}
	roles := []string{}
	for _, r := range list {
		s, _ := r.(string)
		roles = append(roles, s)
	}
	return roles
}

// openAPIDeref follows a $ref (if n is one) to the mapping it names.
func openAPIDeref(t *testing.T, doc openAPIDoc, n any) map[string]any {
	t.Helper()
	m, _ := n.(map[string]any)
	for i := 0; i < 8; i++ {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		target, err := openAPIResolve(doc, ref)
		if err != nil {
			t.Fatalf("$ref %q: %v", ref, err)
		}
		m, _ = target.(map[string]any)
	}
	t.Fatalf("$ref chain too long at %v", m)
	return nil
}

// openAPIResolve resolves a local JSON pointer reference such as #/components/schemas/Order.
func openAPIResolve(doc openAPIDoc, ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("only local references (#/...) are used here")
	}
	var n any = doc
	for _, tok := range strings.Split(rest, "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		m, ok := n.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%q is not inside a mapping", tok)
		}
		if n, ok = m[tok]; !ok {
			return nil, fmt.Errorf("%q is not defined", tok)
		}
	}
	return n, nil
}
