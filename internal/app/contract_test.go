package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/fupinmarket/fupin/api"
	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/procurement"
)

// Every request the tests of this package send through fixture.Client.Do (TestMain sets
// fixture.Serve to serveChecked) and the contract tests of openapi_test.go, and every answer they get is held to api/openapi.yaml by kin-openapi's
// openapi3filter, a library that reads the document itself: an answer whose status, headers or
// body the document does not describe fails the test that received it, and so does a request the
// document refuses that the server accepts. Nothing here restates the document by hand.

var contract struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error

	mu        sync.Mutex
	succeeded map[string]bool // "GET /api/v1/orders/{id}": operations answered with a 2xx
}

// contractRouter loads api/openapi.yaml once for the package's tests.
func contractRouter() (routers.Router, error) {
	contract.once.Do(func() {
		// The document describes HTML pages, CSV exports and itself (YAML) as text, type string:
		// read them as text, as a client does, rather than refuse them (kin-openapi decodes YAML to
		// objects, and CSV to records of one width, which a statement's heading lines above its
		// table are not).
		openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
		openapi3filter.RegisterBodyDecoder("text/csv", openapi3filter.PlainBodyDecoder)
		openapi3filter.RegisterBodyDecoder("application/yaml", openapi3filter.PlainBodyDecoder)
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(api.OpenAPI)
		if err != nil {
			contract.err = err
			return
		}
		if err := doc.Validate(loader.Context); err != nil {
			contract.err = err
			return
		}
		// Routes are matched by path alone: tests call the router on whatever host httptest
		// names, not on the development server the document lists.
		doc.Servers = nil
		contract.doc = doc
		contract.router, contract.err = gorillamux.NewRouter(doc)
	})
	return contract.router, contract.err
}

// contractOptions validate what the document says, including that each answer's status is
// documented. Authentication is checked by the tests themselves; here a secured operation only
// needs a bearer token to be present.
var contractOptions = &openapi3filter.Options{
	IncludeResponseStatus: true,
	MultiError:            true,
	AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
		// The scheme name is case-insensitive (RFC 9110 §11.1), as the server reads it.
		scheme, _, ok := strings.Cut(in.RequestValidationInput.Request.Header.Get("Authorization"), " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return nil
		}
		return errors.New("no bearer token")
	},
}

// serveChecked serves req (whose body is body) on h and holds the exchange to api/openapi.yaml,
// reporting any mismatch as an error of t (not fatal: it may run on a test's goroutines).
func serveChecked(t testing.TB, h http.Handler, req *http.Request, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if err := checkContract(req, body, w); err != nil {
		msg := err.Error()
		if len(msg) > 2000 { // kin-openapi quotes whole schemas and bodies
			msg = msg[:2000] + "…"
		}
		t.Errorf("%s %s answered %d: the exchange does not match api/openapi.yaml: %s", req.Method, req.URL.RequestURI(), w.Code, msg)
	}
	return w
}

// checkContract validates one exchange against the document.
func checkContract(req *http.Request, body []byte, w *httptest.ResponseRecorder) error {
	router, err := contractRouter()
	if err != nil {
		return err
	}
	// A fresh copy of the request: validation reads the body, and the original is spent.
	vreq := req.Clone(context.Background())
	vreq.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := router.FindRoute(vreq)
	if err != nil {
		// A path or method the document does not describe: the server must refuse it as the
		// document's conventions say, with a problem.
		mt, _, _ := mime.ParseMediaType(w.Header().Get("Content-Type"))
		if (w.Code != http.StatusNotFound && w.Code != http.StatusMethodNotAllowed) || mt != "application/problem+json" {
			return errors.New("undocumented path or method answered " + http.StatusText(w.Code) + " as " + mt + ", not a 404 or 405 problem")
		}
		return nil
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: contractOptions}
	if reqErr := openapi3filter.ValidateRequest(context.Background(), in); reqErr != nil && w.Code < 400 {
		return errors.New("the server accepted (" + http.StatusText(w.Code) + ") a request the document refuses: " + reqErr.Error())
	}
	// openapi3filter lets 301, 304, 307 and 308 pass unchecked: an undocumented redirect is a
	// mismatch too.
	if route.Operation.Responses.Status(w.Code) == nil && route.Operation.Responses.Default() == nil {
		return fmt.Errorf("status %d is not documented for %s %s", w.Code, route.Method, route.Path)
	}
	if w.Code >= 200 && w.Code < 300 {
		contract.mu.Lock()
		if contract.succeeded == nil {
			contract.succeeded = map[string]bool{}
		}
		contract.succeeded[route.Method+" "+route.Path] = true
		contract.mu.Unlock()
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 w.Code,
		Header:                 w.Header(),
		Options:                contractOptions,
	}
	out.SetBodyBytes(w.Body.Bytes())
	return openapi3filter.ValidateResponse(context.Background(), out)
}

// contractUnexercised lists the documented operations that no exchange so far answered with a
// 2xx: their success answers were never held to the document. TestMain fails a full run of the
// package on any (a new operation needs a successful call here, say in TestContractTourActions).
func contractUnexercised() []string {
	if _, err := contractRouter(); err != nil {
		return []string{err.Error()}
	}
	contract.mu.Lock()
	defer contract.mu.Unlock()
	var missing []string
	for path, item := range contract.doc.Paths.Map() {
		for method := range item.Operations() {
			if op := method + " " + path; !contract.succeeded[op] {
				missing = append(missing, op)
			}
		}
	}
	slices.Sort(missing)
	return missing
}

// TestContractTour reads every resource of a world in which an order was placed, paid, shipped,
// received and partly refunded, as each role allowed to, so that each read operation's answer,
// with its lists filled, goes through the contract check above. (Writes are exercised by the other
// tests.)
func TestContractTour(t *testing.T) { contractTour(t, newWorld(t)) }

// contractTour is TestContractTour's walk on w (TestNoRequestNeedsASecondConnection walks it too).
func contractTour(t *testing.T, w world) {
	anon := fixture.Client{T: t, H: w.Admin.H}
	var u struct{ ID string }
	w.Admin.Do("POST", "/api/v1/units", map[string]any{"name": "空单位" + fixture.RandDigits(4), "credit_code": fixture.CreditCode(),
		"kind": "state_owned"}).Want(201).JSON(&u)
	unit := u.ID
	month := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01")
	h := w.Households[0]
	// Before any sale: the lists are empty, [] and not null.
	for _, path := range []string{"/api/v1/orders", "/api/v1/households/" + h + "/ledger", "/api/v1/households/" + h + "/audit",
		"/api/v1/households/" + h + "/history", "/api/v1/payouts/waiting", "/api/v1/payouts/delays", "/api/v1/reports/below-line",
		"/api/v1/poverty-lines", "/api/v1/products/" + w.Product + "/batches", "/api/v1/products/" + w.Product + "/certifications",
		"/api/v1/reports/monthly?region_code=433124&month=" + month,
		"/api/v1/units/" + unit + "/statement?period=" + month, "/api/v1/units/" + unit + "/contacts",
		"/api/v1/units/" + unit + "/pairings", "/api/v1/units/" + unit + "/progress"} {
		w.Admin.Do("GET", path, nil).Want(200)
	}
	o, _ := w.ReceivedOrder(t)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "quantity": 1}}},
		"Idempotency-Key", "tour-refund").Want(201)
	var batches struct{ Batches []struct{ ID string } }
	w.OpA.Do("GET", "/api/v1/products/"+w.Product+"/batches", nil).Want(200).JSON(&batches)
	if len(batches.Batches) == 0 {
		t.Fatal("no batch listed")
	}
	batch := batches.Batches[0].ID
	var codes struct{ Codes []struct{ Code string } }
	w.OpA.Do("GET", "/api/v1/batches/"+batch+"/codes", nil).Want(200).JSON(&codes)
	if len(codes.Codes) == 0 {
		t.Fatal("no code listed")
	}
	code := codes.Codes[0].Code
	// The keyset cursor pages from the code given (typed as people type it), and is a code.
	var page struct{ Codes []struct{ Code string } }
	w.OpA.Do("GET", "/api/v1/batches/"+batch+"/codes?after="+strings.ToLower(code), nil).Want(200).JSON(&page)
	if len(codes.Codes) > 1 && (len(page.Codes) == 0 || page.Codes[0].Code != codes.Codes[1].Code) {
		t.Errorf("after the first code: %+v, want %s first", page.Codes, codes.Codes[1].Code)
	}
	wrongCheck := code[:13] + map[bool]string{true: "Y", false: "Z"}[code[13] == 'Z']
	for _, bad := range []string{"bogus", code + "0", wrongCheck} {
		w.OpA.Do("GET", "/api/v1/batches/"+batch+"/codes?after="+bad, nil).Problem(422, "after")
	}
	w.a.DB.Raw("SELECT unit_id FROM orders WHERE id = ?", o.ID).Scan(&unit)

	reads := map[string][]fixture.Client{
		"/api/v1/stations":                                          {w.Admin, w.OpA, w.Buyer1},
		"/api/v1/stations/" + w.StationA:                            {w.Admin, w.OpA, w.Buyer1},
		"/api/v1/products":                                          {w.Admin, w.OpA, w.Buyer1},
		"/api/v1/products/" + w.Product:                             {w.Admin, w.OpA, w.Buyer1},
		"/api/v1/products/" + w.Product + "/certifications":         {w.Admin, w.OpA, w.Buyer1},
		"/api/v1/catalog/products":                                  {w.Admin, w.OpA, w.Buyer1},
		"/api/v1/batches/" + batch + "/codes":                       {w.Admin, w.OpA},
		"/api/v1/households":                                        {w.Admin, w.OpA},
		"/api/v1/households/" + h:                                   {w.Admin, w.OpA},
		"/api/v1/households/" + h + "/ledger":                       {w.Admin, w.OpA},
		"/api/v1/households/" + h + "/audit":                        {w.Admin, w.OpA},
		"/api/v1/households/" + h + "/history":                      {w.Admin, w.OpA},
		"/api/v1/households/" + h + "/income":                       {w.Admin, w.OpA},
		"/api/v1/payouts/waiting":                                   {w.Admin, w.OpA},
		"/api/v1/payouts/delays":                                    {w.Admin, w.OpA},
		"/api/v1/poverty-lines":                                     {w.Admin, w.OpA},
		"/api/v1/reports/below-line":                                {w.Admin, w.OpA},
		"/api/v1/reports/monthly?region_code=433124&month=" + month: {w.Admin},
		"/api/v1/units":                                             {w.Admin},
		"/api/v1/units/" + unit:                                     {w.Admin, w.Buyer1},
		"/api/v1/units/" + unit + "/statement?period=" + month:      {w.Admin, w.Buyer1},
		"/api/v1/units/" + unit + "/contacts":                       {w.Admin, w.Buyer1},
		"/api/v1/units/" + unit + "/pairings":                       {w.Admin, w.Buyer1},
		"/api/v1/units/" + unit + "/progress":                       {w.Admin, w.Buyer1},
		"/api/v1/orders":                                            {w.Admin, w.OpA, w.Buyer1},
		"/api/v1/orders/" + o.ID:                                    {w.Admin, w.OpA, w.Buyer1},
		"/api/v1/orders/" + o.ID + "/payment":                       {w.Admin, w.Buyer1},
		"/api/v1/orders/" + o.ID + "/refunds":                       {w.Admin, w.OpA, w.Buyer1},
		"/api/v1/regions/433124110226":                              {anon},
		"/api/v1/trace/" + code:                                     {anon},
		"/api/v1/codes/" + code + "/qr.png":                         {anon},
		"/t/" + code:                                                {anon},
	}
	for path, who := range reads {
		for _, c := range who {
			c.Do("GET", path, nil).Want(200)
		}
	}
}

// TestContractTourActions takes the operations no other test of this package answers with a 2xx
// (measured: 13 of 75 before this test) through their success, so that their answers are held
// to the document too: users, cooperatives, issuances, the life of a code and of a batch, labels,
// GTINs, the GS1 Digital Link path and HEAD of the scan routes, readiness.
func TestContractTourActions(t *testing.T) { contractTourActions(t, newWorld(t)) }

// contractTourActions is TestContractTourActions' walk on w (TestNoRequestNeedsASecondConnection
// walks it too).
func contractTourActions(t *testing.T, w world) {
	anon := fixture.Client{T: t, H: w.Admin.H}
	anon.Do("GET", "/readyz", nil).Want(200)
	// The county office's checks (TestRefundProviderDown in procurement checks their content).
	w.Admin.Do("GET", "/api/v1/returns/owed", nil).Want(200)
	// verify: the routine run by default, the full one on asking (TestVerifyHandlerRuns checks which ran).
	w.Admin.Do("GET", "/api/v1/ledger/verify", nil).Want(200)
	w.Admin.Do("GET", "/api/v1/ledger/verify?full=true", nil).Want(200)
	w.Admin.Do("GET", "/api/v1/ledger/verify?full=yes", nil).Want(422)
	w.Admin.Do("GET", "/api/v1/audit?limit=5", nil).Want(200)
	var op struct{ ID, Username string }
	w.Admin.Do("POST", "/api/v1/users", map[string]any{"username": "op." + fixture.RandDigits(6), "password": fixture.Password,
		"role": "station", "station_id": w.StationA}).Want(201).JSON(&op)
	w.Admin.Do("POST", "/api/v1/users", map[string]any{"username": op.Username, "password": fixture.Password,
		"role": "station", "station_id": w.StationA}).Problem(409, "username")
	// Accounts and sessions (the console's): TestPasswordChangeAndAccountManagement checks their effects.
	w.Admin.Do("GET", "/api/v1/users", nil).Want(200)
	w.Admin.Do("POST", "/api/v1/users/"+op.ID+"/disable", nil).Want(200)
	w.Admin.Do("POST", "/api/v1/users/"+op.ID+"/enable", nil).Want(200)
	w.Admin.Do("PUT", "/api/v1/users/"+op.ID+"/password", map[string]string{"password": "handed over 2026"}).Want(204)
	var tok struct{ Token string }
	anon.Do("POST", "/api/v1/auth/login", map[string]string{"username": op.Username, "password": "handed over 2026"}).Want(200).JSON(&tok)
	opNew := fixture.Client{T: t, H: w.Admin.H, Token: tok.Token}
	opNew.Do("GET", "/api/v1/auth/me", nil).Want(200)
	opNew.Do("PUT", "/api/v1/auth/password", map[string]string{"current_password": "handed over 2026", "new_password": fixture.Password}).Want(204)
	opNew.Do("POST", "/api/v1/auth/logout", nil).Want(204)

	var coop struct{ ID string }
	w.OpA.Do("POST", "/api/v1/cooperatives", map[string]any{"name": "十八洞猕猴桃合作社", "village_code": "433124110226",
		"members": []map[string]any{{"household_id": w.Households[0], "share_bp": 5000}, {"household_id": w.Households[1], "share_bp": 5000}}}).
		Want(201).JSON(&coop)
	w.OpA.Do("GET", "/api/v1/cooperatives/"+coop.ID, nil).Want(200)

	batchNo := "GS" + fixture.RandDigits(6)
	var batch struct{ ID string }
	w.OpA.Do("POST", "/api/v1/products/"+w.Product+"/batches", map[string]any{"batch_no": batchNo, "produced_on": "2026-11-20", "quantity": 5}).
		Want(201).JSON(&batch)
	fixture.Certify(w.OpA, batch.ID)
	// The certificate's reads (internal/certificate tests their content and refusals).
	var certs struct{ Certificates []struct{ Serial string } }
	w.OpA.Do("GET", "/api/v1/batches/"+batch.ID+"/certificates", nil).Want(200).JSON(&certs)
	if len(certs.Certificates) != 1 {
		t.Fatalf("certificates %+v", certs)
	}
	serial := certs.Certificates[0].Serial
	anon.Do("GET", "/api/v1/certificates/"+serial, nil).Want(200)
	anon.Do("GET", "/c/"+serial, nil).Want(200)
	w.OpA.Do("GET", "/api/v1/certificates/"+serial+"/certificate.pdf", nil).Want(200)
	w.Admin.Do("PUT", "/api/v1/certificate-coverage/"+url.PathEscape("鲜笋"), map[string]any{"class": "vegetables", "note": "第三条（一）"}).Want(200)
	var issued struct {
		Codes    []struct{ Code string }
		Issuance struct{ ID string }
	}
	w.OpA.Do("POST", "/api/v1/batches/"+batch.ID+"/codes", map[string]any{"count": 3}, "Idempotency-Key", "tour-"+fixture.RandDigits(6)).
		Want(201).JSON(&issued)
	if len(issued.Codes) != 3 || issued.Issuance.ID == "" {
		t.Fatalf("issued %+v", issued)
	}
	w.OpA.Do("GET", "/api/v1/issuances/"+issued.Issuance.ID, nil).Want(200)
	w.OpA.Do("GET", "/api/v1/issuances/"+issued.Issuance.ID+"/codes.csv", nil).Want(200)
	w.OpA.Do("GET", "/api/v1/batches/"+batch.ID+"/labels.pdf?columns=2&rows=3", nil).Want(200)
	w.OpA.Do("GET", "/api/v1/batches/"+batch.ID+"/labels.zip", nil).Want(200)

	code := issued.Codes[0].Code
	w.OpA.Do("POST", "/api/v1/codes/"+code+"/activate", nil).Want(200)
	var view struct{ Events []struct{ ID string } }
	anon.Do("GET", "/api/v1/trace/"+code, nil).Want(200).JSON(&view)
	if len(view.Events) == 0 {
		t.Fatal("no event after activation")
	}
	w.OpA.Do("POST", "/api/v1/trace-events/"+view.Events[len(view.Events)-1].ID+"/error-declaration",
		map[string]any{"reason": "贴错了标签"}).Want(201)
	w.OpA.Do("POST", "/api/v1/codes/"+issued.Codes[1].Code+"/void", map[string]any{"reason": "damaged"}).Want(200)

	gtin := newGTIN13() // of its own: a GTIN names one product, and the walk runs on the package's database twice
	w.OpA.Do("PUT", "/api/v1/products/"+w.Product+"/gtin", map[string]any{"gtin": gtin}).Want(200)
	for _, method := range []string{"GET", "HEAD"} {
		anon.Do(method, "/01/0"+gtin+"/10/"+batchNo+"/21/"+issued.Codes[2].Code, nil).Want(200)
		anon.Do(method, "/t/"+issued.Codes[2].Code, nil).Want(200)
		anon.Do(method, "/api/v1/trace/"+issued.Codes[2].Code, nil).Want(200)
	}
	w.OpA.Do("POST", "/api/v1/batches/"+batch.ID+"/recall", map[string]any{"note": "检出农残超标"}).Want(200)

	// The buying side's actions; their behaviour is tested in internal/procurement.
	var o fixture.FullOrder
	var placed struct {
		UnitID string `json:"unit_id"`
	}
	item := map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 1}}}
	w.Buyer1.Do("POST", "/api/v1/orders", item, "Idempotency-Key", "tour-cancel").Want(201).JSON(&placed)
	w.Buyer1.Do("POST", "/api/v1/orders", item, "Idempotency-Key", "tour-cancel").Want(200).JSON(&o)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/cancel", nil).Want(200)
	w.Buyer1.Do("POST", "/api/v1/orders", item, "Idempotency-Key", "tour-callback").Want(201).JSON(&o)
	body := fmt.Sprintf(`{"order_id":%q,"provider_ref":"TOUR-%s","amount_fen":%d,"status":"succeeded"}`, o.ID, fixture.RandDigits(8), o.TotalFen)
	anon.Do("POST", "/api/v1/payments/callback", body, procurement.SignatureHeader,
		procurement.Sign([]byte(w.a.Config.PaymentSecret), []byte(body))).Want(200)
	shipCodes := w.Issue(t, w.Product, 1)
	w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{
		{"line_id": o.Lines[0].ID, "codes": shipCodes}}}).Want(200)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/shipments/"+w.StationA+"/receipt", nil).Want(200)
	u := "/api/v1/units/" + placed.UnitID
	w.Buyer1.Do("POST", u+"/contacts", map[string]any{"name": "龙金花", "phone": "13974301234", "title": "工会主席"}).Want(201)
	w.Admin.Do("POST", u+"/pairings", map[string]any{"village_code": "433124110226", "starts_on": "2026-01-01"}).Want(201)
	w.Admin.Do("PUT", u+"/targets/2026", map[string]any{"amount_fen": 100000}).Want(200)
}
