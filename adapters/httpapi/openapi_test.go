package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/unicornstore/unicorn/adapters/httpapi"
)

// The contract tests: the OpenAPI document (openapi.json) describes every
// route of the route table and nothing else, is a valid OpenAPI 3.1
// document, says who may call each route as the access matrix does, and,
// through the harness (api.do), fits every request the HTTP tests make
// and every answer they get.

// contract is the API's OpenAPI document with its operations, loaded once
// for all the tests of the package.
type contract struct {
	doc *openapi3.T
	ops []contractOp
	// routes is a mux of the route table's patterns, and byRoute the
	// operations each serves, found by routing a request to each
	// operation's path (with "p1" for each parameter).
	routes  *http.ServeMux
	byRoute map[string][]*contractOp
	// schemas compiles the document's schemas for bodies, each once.
	schemas *jsonschema.Compiler
	mu      sync.Mutex
	bodies  map[string]*jsonschema.Schema // by JSON pointer into the document
}

// contractOp is one operation: a method on a path template.
type contractOp struct {
	method, path string
	segments     []string // of path; "{name}" for a parameter
	item         *openapi3.PathItem
	op           *openapi3.Operation
}

var loadContract = sync.OnceValues(func() (*contract, error) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("load the OpenAPI document: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("the OpenAPI document is not valid: %w", err)
	}
	parsed, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	schemas := jsonschema.NewCompiler()
	schemas.DefaultDraft(jsonschema.Draft2020) // OpenAPI 3.1's dialect
	schemas.AssertFormat()                     // date and date-time are checked, not only noted
	if err := schemas.AddResource(contractURL, parsed); err != nil {
		return nil, err
	}
	c := &contract{doc: doc, schemas: schemas, bodies: map[string]*jsonschema.Schema{}}
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		for method, op := range item.Operations() {
			c.ops = append(c.ops, contractOp{method: method, path: path, segments: strings.Split(path, "/"), item: item, op: op})
		}
	}
	slices.SortFunc(c.ops, func(a, b contractOp) int { return strings.Compare(a.path+" "+a.method, b.path+" "+b.method) })
	c.routes, c.byRoute = http.NewServeMux(), map[string][]*contractOp{}
	for _, pattern := range httpapi.Routes() {
		c.routes.HandleFunc(pattern, func(http.ResponseWriter, *http.Request) {})
	}
	for i := range c.ops {
		if pattern := c.route(c.ops[i].method, c.ops[i].sample()); pattern != "" {
			c.byRoute[pattern] = append(c.byRoute[pattern], &c.ops[i])
		}
	}
	if _, err := c.schema("#/components/schemas/Problem"); err != nil {
		return nil, err
	}
	return c, nil
})

// contractURL names the document for its schemas' references.
const contractURL = "urn:unicorn:openapi.json"

// schema is the compiled schema at a JSON pointer into the document.
func (c *contract) schema(pointer string) (*jsonschema.Schema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if sch, ok := c.bodies[pointer]; ok {
		return sch, nil
	}
	sch, err := c.schemas.Compile(contractURL + pointer)
	if err != nil {
		return nil, fmt.Errorf("compile the schema at %s: %w", pointer, err)
	}
	c.bodies[pointer] = sch
	return sch, nil
}

// pointerTo escapes a name for a JSON pointer in a URL's fragment.
func pointerTo(names ...string) string {
	var b strings.Builder
	b.WriteString("#")
	for _, n := range names {
		b.WriteString("/" + url.PathEscape(strings.NewReplacer("~", "~0", "/", "~1").Replace(n)))
	}
	return b.String()
}

func mustContract(t testing.TB) *contract {
	t.Helper()
	c, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sample is a path of the operation: "p1" for each parameter.
func (op *contractOp) sample() *url.URL {
	segs := slices.Clone(op.segments)
	for i, seg := range segs {
		if strings.HasPrefix(seg, "{") {
			segs[i] = "p1"
		}
	}
	return &url.URL{Path: strings.Join(segs, "/")}
}

// route is the pattern of the route table that a request reaches, or "".
func (c *contract) route(method string, u *url.URL) string {
	_, pattern := c.routes.Handler(&http.Request{Method: method, URL: u, Host: "store.example"})
	return pattern
}

// find is the operation a request reaches, with its path parameters: one
// of those its route serves (HEAD reaches a GET's) whose path matches,
// the most literal one first, as the route's handler decides (seed 003's
// /users/balance/{username} wins over /users/{username}/wallet). The last
// parameter of a route that serves a subtree (GET /assets/) takes the
// rest of the path, slashes and all.
func (c *contract) find(method string, u *url.URL) (*contractOp, map[string]string, bool) {
	pattern := c.route(method, u)
	if method == http.MethodHead {
		method = http.MethodGet
	}
	subtree := strings.HasSuffix(pattern, "/")
	segments := strings.Split(u.EscapedPath(), "/")
	var best *contractOp
	var bestParams map[string]string
	for _, op := range c.byRoute[pattern] {
		if op.method != method {
			continue
		}
		params, ok := op.match(segments, subtree)
		if ok && (best == nil || moreLiteral(op, best)) {
			best, bestParams = op, params
		}
	}
	return best, bestParams, best != nil
}

// match matches a path's segments to the operation's, with the values of
// its parameters.
func (op *contractOp) match(segments []string, subtree bool) (map[string]string, bool) {
	last := len(op.segments) - 1
	rest := subtree && strings.HasPrefix(op.segments[last], "{") && len(segments) > len(op.segments)
	if len(segments) != len(op.segments) && !rest {
		return nil, false
	}
	if rest {
		segments = append(segments[:last:last], strings.Join(segments[last:], "/"))
	}
	params := map[string]string{}
	for i, seg := range op.segments {
		value, err := url.PathUnescape(segments[i])
		if err != nil {
			return nil, false
		}
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			if value == "" {
				return nil, false
			}
			params[strings.TrimSuffix(name, "}")] = value
		} else if seg != value {
			return nil, false
		}
	}
	return params, true
}

// moreLiteral reports whether a's first segment unlike b's is a literal.
func moreLiteral(a, b *contractOp) bool {
	for i := range min(len(a.segments), len(b.segments)) {
		la, lb := !strings.HasPrefix(a.segments[i], "{"), !strings.HasPrefix(b.segments[i], "{")
		if la != lb {
			return la
		}
	}
	return false
}

// contractOptions: openapi3filter checks an exchange's security, path,
// query and header parameters, status (one the operation does not list is
// a mismatch) and response headers; the bodies are checked by
// checkBody. openapi3filter would check them too, but it compiles an
// OpenAPI 3.1 schema again for every body it validates: 3 ms a body, 11
// ms under the race detector, which made this package's tests take half
// as long again. checkBody validates them against the same schemas with
// the JSON Schema 2020-12 validator openapi3filter uses for OpenAPI 3.1,
// each schema compiled once.
var contractOptions = &openapi3filter.Options{
	IncludeResponseStatus: true,
	ExcludeRequestBody:    true,
	ExcludeResponseBody:   true,
	AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
		h := in.RequestValidationInput.Request.Header
		switch s := in.SecurityScheme; s.Type {
		case "http":
			if scheme, token, ok := strings.Cut(h.Get("Authorization"), " "); ok && strings.EqualFold(scheme, s.Scheme) && token != "" {
				return nil
			}
		case "apiKey":
			if s.In == "header" && h.Get(s.Name) != "" {
				return nil
			}
		}
		return in.NewError(nil)
	},
}

// check validates one exchange of a test with the server: the request, if
// the server took it, and the answer, whatever it is. A request that
// reaches no operation must have been answered with a problem (404, 405)
// or be a CORS preflight.
func (c *contract) check(req *http.Request, body []byte, resp response) error {
	op, params, ok := c.find(req.Method, req.URL)
	if !ok {
		switch {
		case req.Method == http.MethodOptions && resp.status == http.StatusNoContent:
			return nil
		case resp.status == http.StatusNotFound || resp.status == http.StatusMethodNotAllowed:
			return c.checkBody(pointerTo("components", "schemas", "Problem"), "application/problem+json", resp.header.Get("Content-Type"), resp.body)
		}
		return fmt.Errorf("answered %d, but the contract has no operation %s %s", resp.status, req.Method, req.URL.Path)
	}
	ctx := context.Background()
	sent := req.Clone(ctx)
	sent.Body = readCloser{bytes.NewReader(body)}
	in := &openapi3filter.RequestValidationInput{Request: sent, PathParams: params, Options: contractOptions,
		Route: &routers.Route{Spec: c.doc, Path: op.path, PathItem: op.item, Method: op.method, Operation: op.op}}
	if took(op, resp) {
		err := openapi3filter.ValidateRequest(ctx, in)
		if err == nil {
			err = c.checkRequestBody(op, req.Header.Get("Content-Type"), body)
		}
		if err != nil {
			return fmt.Errorf("the server took a request the contract of %s %s does not describe: %w", op.method, op.path, err)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.status, Header: resp.header, Options: contractOptions}
	out.SetBodyBytes(resp.body)
	err := openapi3filter.ValidateResponse(ctx, out)
	if err == nil && req.Method != http.MethodHead {
		err = c.checkResponseBody(op, resp)
	}
	if err != nil {
		return fmt.Errorf("the answer does not fit the contract of %s %s: %w", op.method, op.path, err)
	}
	return nil
}

// took reports whether the server took a request: a 2xx, except where a
// 200 is how the operation refuses (its mistakes are its answer).
func took(op *contractOp, resp response) bool {
	if resp.status < 200 || resp.status > 299 {
		return false
	}
	if op.op.OperationID == "validateCampaign" {
		var v struct{ Valid bool }
		return json.Unmarshal(resp.body, &v) == nil && v.Valid
	}
	return true
}

// checkRequestBody validates a request's body against the operation's:
// one it requires must be there, and be of a media type it lists. A body
// sent without a Content-Type is JSON: the server reads it so.
func (c *contract) checkRequestBody(op *contractOp, contentType string, body []byte) error {
	rb := op.op.RequestBody
	if rb == nil || rb.Value == nil {
		return nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if rb.Value.Required {
			return fmt.Errorf("a body is required")
		}
		return nil
	}
	if contentType == "" {
		contentType = "application/json"
	}
	base := rb.Ref
	if base == "" {
		base = pointerTo("paths", op.path, strings.ToLower(op.method), "requestBody")
	}
	key, ok := mediaKey(rb.Value.Content, contentType)
	if !ok {
		return fmt.Errorf("a body of type %q, not one of the operation's", contentType)
	}
	return c.checkBody(base+pointerTo("content", key, "schema")[1:], key, contentType, body)
}

// checkResponseBody validates an answer's body against the response the
// operation lists for its status (openapi3filter found it).
func (c *contract) checkResponseBody(op *contractOp, resp response) error {
	status := strconv.Itoa(resp.status)
	r := op.op.Responses.Value(status)
	if r == nil || r.Value == nil || len(r.Value.Content) == 0 {
		if len(resp.body) > 0 {
			return fmt.Errorf("a %d without a body in the contract has one", resp.status)
		}
		return nil
	}
	base := r.Ref
	if base == "" {
		base = pointerTo("paths", op.path, strings.ToLower(op.method), "responses", status)
	}
	contentType := resp.header.Get("Content-Type")
	key, ok := mediaKey(r.Value.Content, contentType)
	if !ok {
		return fmt.Errorf("a %d of type %q, not one the contract lists", resp.status, contentType)
	}
	if s := r.Value.Content[key].Schema; s != nil && s.Value != nil && s.Value.ContentMediaType != "" {
		return nil // a file, not JSON
	}
	return c.checkBody(base+pointerTo("content", key, "schema")[1:], key, contentType, resp.body)
}

// mediaKey is the key of content that a media type matches, as
// openapi3filter matches it.
func mediaKey(content openapi3.Content, mediaType string) (string, bool) {
	want := content.Get(mediaType)
	for key, mt := range content {
		if mt == want && want != nil {
			return key, true
		}
	}
	return "", false
}

// checkBody validates a JSON body against the schema at pointer.
func (c *contract) checkBody(pointer, want, contentType string, body []byte) error {
	if mt, _, _ := strings.Cut(contentType, ";"); want != "*/*" && !strings.EqualFold(strings.TrimSpace(mt), want) {
		return fmt.Errorf("Content-Type %q, want %s", contentType, want)
	}
	sch, err := c.schema(pointer)
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("a body that is not JSON: %w", err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("the body does not fit %s: %w", pointer, err)
	}
	return nil
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// TestContractIsTheRouteTable: every operation of the contract is served
// by a route of the table, and every route serves one operation at least,
// as the server's own mux routes a request to each operation's path. The
// harness's router agrees with the mux on every one.
func TestContractIsTheRouteTable(t *testing.T) {
	t.Parallel()
	c := mustContract(t)
	for _, op := range c.ops {
		target := op.sample()
		pattern := c.route(op.method, target)
		if pattern == "" {
			t.Errorf("the contract's %s %s (%s) is no route of the table", op.method, op.path, target)
			continue
		}
		if found, _, ok := c.find(op.method, target); !ok || found.path != op.path || found.method != op.method {
			t.Errorf("the harness does not find %s %s for %s %s", op.method, op.path, op.method, target)
		}
	}
	for _, pattern := range httpapi.Routes() {
		if len(c.byRoute[pattern]) == 0 {
			t.Errorf("route %q has no operation in the contract (openapi.json)", pattern)
		}
	}
}

// TestContractIsValidOpenAPI31: the document is valid OpenAPI 3.1 as far
// as kin-openapi's loader and Validate check it (loadContract): its
// structure (an unknown member of an object of the specification is an
// error), its references, the path parameters of each path, unique
// operation ids, known security schemes, its schemas' keywords (3.1's type
// arrays and numeric exclusive bounds included) and regular expressions,
// and each example against the schema beside it. Validate does not check
// the document against the specification's own JSON Schema, and lets
// through a status or a media type that is no such thing and 3.0's
// nullable, which 3.1 no longer has: checked here, with every schema of the
// document compiled as JSON Schema 2020-12 (checked against that draft's
// meta-schema). Beyond validity: every operation has an id, a summary, a
// tag, its own security and the error responses every route can give.
func TestContractIsValidOpenAPI31(t *testing.T) {
	t.Parallel()
	c := mustContract(t)
	if !c.doc.IsOpenAPI31OrLater() || c.doc.IsOpenAPI32OrLater() {
		t.Errorf("openapi %q, want 3.1.x", c.doc.OpenAPI)
	}
	checkSchemas(t, c)
	ids := map[string]bool{}
	for _, op := range c.ops {
		what := op.method + " " + op.path
		for status, r := range op.op.Responses.Map() {
			if !responseKey.MatchString(status) {
				t.Errorf("%s: a response for %q, which is no status", what, status)
			}
			if r.Value != nil {
				checkMediaTypes(t, what+" "+status, r.Value.Content)
			}
		}
		if op.op.RequestBody != nil && op.op.RequestBody.Value != nil {
			checkMediaTypes(t, what+" request", op.op.RequestBody.Value.Content)
		}
		if op.op.OperationID == "" || ids[op.op.OperationID] {
			t.Errorf("%s: operationId %q missing or not unique", what, op.op.OperationID)
		}
		ids[op.op.OperationID] = true
		if op.op.Summary == "" || len(op.op.Tags) == 0 {
			t.Errorf("%s: no summary or no tag", what)
		}
		if op.op.Security == nil {
			t.Errorf("%s: no security of its own (an empty list for anyone)", what)
		}
		// Every route may refuse a malformed query and fail.
		for _, status := range []int{400, 500} {
			if op.op.Responses.Status(status) == nil {
				t.Errorf("%s: no %d response", what, status)
			}
		}
		// Every route but /healthz is rate-limited and shed under load.
		if op.path != "/healthz" {
			for _, status := range []int{429, 503} {
				if r := op.op.Responses.Status(status); r == nil || r.Value.Headers["Retry-After"] == nil {
					t.Errorf("%s: no %d response with Retry-After", what, status)
				}
			}
		}
		if op.op.RequestBody != nil {
			for _, status := range []int{413, 415} {
				if op.op.Responses.Status(status) == nil {
					t.Errorf("%s: a body, but no %d response", what, status)
				}
			}
		}
	}
}

// responseKey is a response's key: a status, a range of them, or default.
var responseKey = regexp.MustCompile(`^([1-5][0-9][0-9]|[1-5]XX|default)$`)

func checkMediaTypes(t *testing.T, what string, content openapi3.Content) {
	t.Helper()
	for key := range content {
		if _, _, err := mime.ParseMediaType(key); err != nil {
			t.Errorf("%s: %q is no media type: %v", what, key, err)
		}
	}
}

// checkSchemas compiles every schema of the document as JSON Schema
// 2020-12, and refuses OpenAPI 3.0's nullable.
func checkSchemas(t *testing.T, c *contract) {
	t.Helper()
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(v any, pointer []string, inSchema bool)
	walk = func(v any, pointer []string, inSchema bool) {
		switch v := v.(type) {
		case map[string]any:
			if inSchema {
				if _, ok := v["nullable"]; ok {
					t.Errorf("%s: nullable is OpenAPI 3.0's: use a type array with \"null\"", pointerTo(pointer...))
				}
			}
			for k, x := range v {
				p := append(slices.Clone(pointer), k)
				// A schema: under a media type, parameter or header, or a
				// component. Examples are data, not schemas.
				isSchema := k == "schema" && !inSchema || len(pointer) == 2 && pointer[0] == "components" && pointer[1] == "schemas"
				if isSchema {
					if _, err := c.schema(pointerTo(p...)); err != nil {
						t.Error(err)
					}
				}
				if k != "example" && k != "examples" {
					walk(x, p, inSchema || isSchema)
				}
			}
		case []any:
			for i, x := range v {
				walk(x, append(slices.Clone(pointer), strconv.Itoa(i)), inSchema)
			}
		}
	}
	walk(doc, nil, false)
}

// TestContractSecurityIsTheAccessMatrix: each operation's security admits
// the kinds of caller the access matrix lets call its route: none for
// anyone; bearer with the roles of the users it admits; bearer and
// apiKey with the scopes of the keys it admits.
func TestContractSecurityIsTheAccessMatrix(t *testing.T) {
	t.Parallel()
	c := mustContract(t)
	kinds := map[string][]string{derick: {"bearer:customer"}, mia: {"bearer:marketer"}, boss: {"bearer:admin"},
		keyRead: {"bearer:points:read", "apiKey:points:read"}, keyWrite: {"bearer:points:write", "apiKey:points:write"},
		signedInAs: {"bearer:"}}
	for pattern, ops := range c.byRoute {
		m, ok := matrix[pattern]
		if !ok {
			continue // TestAccessMatrix says why
		}
		var want []string
		if !slices.Contains(m.allowed, everyone) {
			for _, who := range m.allowed {
				want = append(want, kinds[who]...)
			}
		}
		slices.Sort(want)
		for _, op := range ops {
			var got []string
			if op.op.Security != nil {
				for _, req := range *op.op.Security {
					for scheme, roles := range req {
						if len(req) != 1 || len(roles) > 1 {
							t.Errorf("%s %s: a requirement %v: want one scheme with at most one role or scope each", op.method, op.path, req)
						}
						got = append(got, scheme+":"+strings.Join(roles, ""))
					}
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s %s (%s): security %v, want %v as the access matrix has it", op.method, op.path, pattern, got, want)
			}
		}
	}
}

// TestContractServed: GET /openapi.json serves the document, to anyone,
// revalidated by its ETag.
func TestContractServed(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	a := newAPI(t, 365)
	r := a.do("GET", "/openapi.json", "", "Authorization", "")
	if r.status != 200 || !bytes.Equal(r.body, want) || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi.json: %d %s, %d bytes; want 200 application/json, the %d bytes of openapi.json", r.status, r.header.Get("Content-Type"), len(r.body), len(want))
	}
	etag := r.header.Get("ETag")
	if etag == "" || r.header.Get("Cache-Control") != "no-cache" {
		t.Errorf("ETag %q, Cache-Control %q: want an ETag and no-cache", etag, r.header.Get("Cache-Control"))
	}
	if again := a.do("GET", "/openapi.json", "", "Authorization", "", "If-None-Match", etag); again.status != http.StatusNotModified {
		t.Errorf("GET /openapi.json with If-None-Match its ETag: %d, want 304", again.status)
	}
}

// TestContractCatchesMismatches: the harness's check refuses exchanges
// that do not fit the contract, each for its own reason, and passes one
// that does: it is not a check that passes everything.
func TestContractCatchesMismatches(t *testing.T) {
	t.Parallel()
	c := mustContract(t)
	product := `{"id":"1","name":"Unicorn","description":"","image":"","price":10.5,"stock":3,"version":1,"updated_at":"2026-03-02T12:00:00Z"}`
	problem := `{"type":"urn:unicorn:problem:not-found","title":"Not found","status":404,"detail":"no such thing","instance":"/x"}`
	jsonType, problemJSON := "application/json", "application/problem+json"
	tests := []struct {
		name, method, path, body string
		header                   []string
		status                   int
		contentType, answer      string
		answerHeader             []string
		wantErr                  string // "" for an exchange that fits
	}{
		{"fits", "GET", "/products/1", "", nil, 200, jsonType, product, nil, ""},
		{"a member missing", "GET", "/products/1", "", nil, 200, jsonType, strings.Replace(product, `"stock":3,`, "", 1), nil, "stock"},
		{"money as a string", "GET", "/products/1", "", nil, 200, jsonType, strings.Replace(product, `10.5`, `"10.5"`, 1), nil, "price"},
		{"a member the contract does not know", "GET", "/products/1", "", nil, 200, jsonType, strings.Replace(product, `{`, `{"colour":"pink",`, 1), nil, "colour"},
		{"a time that is not one", "GET", "/products/1", "", nil, 200, jsonType, strings.Replace(product, `2026-03-02T12:00:00Z`, `yesterday`, 1), nil, "date-time"},
		{"a status not listed", "GET", "/products/1", "", nil, 418, jsonType, product, nil, "status"},
		{"another media type", "GET", "/products/1", "", nil, 200, "text/plain", product, nil, "text/plain"},
		{"an error that is no problem", "GET", "/products/1", "", nil, 404, problemJSON, `{"error":"not found"}`, nil, "type"},
		{"a 429 without Retry-After", "GET", "/products", "", nil, 429, problemJSON,
			strings.Replace(problem, "404", "429", 1), nil, "Retry-After"},
		{"an order of no status", "GET", "/orders/o1", "", []string{"Authorization", "Bearer t"}, 200, jsonType,
			`{"id":"o1","user_id":"derick","client":"UnicornStore","lines":[],"total":1,"points_requested":0,"points_value":0,"amount_due":1,` +
				`"points_redeemed":0,"charged":1,"points_awarded":0,"status":"lost","attempt":1,"created_at":"2026-03-02T12:00:00Z",` +
				`"updated_at":"2026-03-02T12:00:00Z","version":1}`, nil, "status"},
		{"a request taken without a member it needs", "POST", "/points", `{"account_id":"1234"}`, []string{"Authorization", "Bearer t"}, 201, jsonType,
			`{"id":"t1","account_id":"1234","seq":1,"transaction_type":"issue","amount":1,"date_time":"2026-03-02T12:00:00Z"}`, nil, "amount"},
		{"a request taken with points as a string", "POST", "/points", `{"account_id":"1234","amount":"1"}`, []string{"Authorization", "Bearer t"}, 201, jsonType,
			`{"id":"t1","account_id":"1234","seq":1,"transaction_type":"issue","amount":1,"date_time":"2026-03-02T12:00:00Z"}`, nil, "amount"},
		{"a request taken without credentials", "GET", "/points?account_id=1234", "", nil, 200, jsonType,
			`{"account_id":"1234","balance":0,"balance_entries":[],"expiring_soon":{"days":30,"points":0},"as_of":"2026-03-02T12:00:00Z"}`, nil, "security"},
		{"an unknown path answered", "GET", "/nope", "", nil, 200, jsonType, `{}`, nil, "no operation"},
		{"an unknown path refused with no problem", "GET", "/nope", "", nil, 404, "text/plain", "404 page not found", nil, "Content-Type"},
		{"an unknown path refused", "GET", "/nope", "", nil, 404, problemJSON, problem, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, "http://store.example"+tt.path, strings.NewReader(tt.body))
			for i := 0; i+1 < len(tt.header); i += 2 {
				req.Header.Set(tt.header[i], tt.header[i+1])
			}
			h := http.Header{"Content-Type": {tt.contentType}, "X-Request-Id": {"r1"}}
			for i := 0; i+1 < len(tt.answerHeader); i += 2 {
				h.Set(tt.answerHeader[i], tt.answerHeader[i+1])
			}
			err := c.check(req, []byte(tt.body), response{tt.status, h, []byte(tt.answer)})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Errorf("passed; want a mismatch about %s", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("refused for %v; want a mismatch about %s", err, tt.wantErr)
			}
		})
	}
}

// TestContractRarerAnswers makes the successful calls that no other test
// of the package makes, so that the harness checks their answers against
// the contract too: adding a user, removing a product, seed 003's path to
// a wallet.
func TestContractRarerAnswers(t *testing.T) {
	t.Parallel()
	a := newAPI(t, 365)
	a.must(201, "POST", "/users", `{"username":"ann","role":"customer","password":"a-long-password-1"}`)
	a.must(201, "POST", "/users/ann/wallet/deposits", `{"amount":5}`)
	if w := a.must(200, "GET", "/users/balance/ann", ""); w["username"] != "ann" {
		t.Errorf("GET /users/balance/ann = %v", w)
	}
	a.must(201, "POST", "/products", `{"id":"p1","name":"Unicorn","price":1}`)
	if r := a.do("DELETE", "/products/p1", "", "If-Match", `"1"`); r.status != http.StatusNoContent {
		t.Errorf("DELETE /products/p1: %d %s", r.status, r.body)
	}
}
