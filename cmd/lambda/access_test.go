package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/unicornstore/unicorn/adapters/dynamodb"
	"github.com/unicornstore/unicorn/adapters/lambda"
)

// accessRecorder stands between the functions and DynamoDB Local and
// writes down which function asked for which action on which table, as
// IAM would see it. Each function names itself in its SDK's user agent
// (AWS_SDK_UA_APP_ID), as each deployed function signs with its own role
// (DynamoDB Local keeps a database per access key, so the keys must be
// the same). At the end of a run
// the test checks that everything a function did is in what the catalog
// of functions lets it do, the policy the CDK stack grants.
type accessRecorder struct {
	mu   sync.Mutex
	seen map[string]map[access]bool // by function
	// unknown are requests the recorder could not read: a test failure,
	// or a function could do something no check saw.
	unknown []string
	prefix  string // the deployment's table prefix
	// denied are the functions whose every request is refused, as IAM
	// refuses a role that lacks the grant: a test's outage of one
	// function's DynamoDB.
	denied map[string]bool
}

// access is one IAM action on one table (or one of its indexes).
type access struct {
	Action string // dynamodb:GetItem, ...
	Table  string // without the deployment's prefix: "ledger"
	Index  string
}

var appID = regexp.MustCompile(`(?:^| )app/([^ ]+)`)

// startAccessRecorder returns the address to give the functions as their
// DynamoDB endpoint.
func startAccessRecorder(t *testing.T, target, prefix string) (*accessRecorder, string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rec := &accessRecorder{seen: map[string]map[access]bool{}, prefix: prefix}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		fn := "?"
		if m := appID.FindStringSubmatch(r.Header.Get("User-Agent")); m != nil {
			fn = m[1]
		}
		action := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
		if rec.isDenied(fn) {
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"__type":"com.amazon.coral.service#AccessDeniedException","message":"the role of %s is not authorized to perform dynamodb:%s"}`, fn, action)
			return
		}
		rec.record(fn, action, body)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return rec, srv.URL
}

// record reads one request as IAM does: a transaction or batch is an
// action per item, on that item's table.
func (a *accessRecorder) record(fn, action string, body []byte) {
	type target struct {
		TableName string
		IndexName string
	}
	var req struct {
		target
		RequestItems  map[string]json.RawMessage
		TransactItems []map[string]target
	}
	var found []access
	if err := json.Unmarshal(body, &req); err != nil {
		a.fail(fn + " " + action + ": " + err.Error())
		return
	}
	switch action {
	case "TransactWriteItems", "TransactGetItems":
		perItem := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
			"ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
		for _, it := range req.TransactItems {
			for kind, tg := range it {
				found = append(found, access{Action: perItem[kind], Table: tg.TableName})
			}
		}
	case "BatchGetItem", "BatchWriteItem":
		for table := range req.RequestItems {
			found = append(found, access{Action: action, Table: table})
		}
	default:
		found = append(found, access{Action: action, Table: req.TableName, Index: req.IndexName})
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ac := range found {
		if ac.Action == "" || !strings.HasPrefix(ac.Table, a.prefix) {
			a.unknown = append(a.unknown, fn+" "+action+" on "+ac.Table)
			continue
		}
		ac.Action, ac.Table = "dynamodb:"+ac.Action, strings.TrimPrefix(ac.Table, a.prefix)
		if a.seen[fn] == nil {
			a.seen[fn] = map[access]bool{}
		}
		a.seen[fn][ac] = true
	}
}

// deny refuses every request of a function from now on, or (deny false)
// lets them through again.
func (a *accessRecorder) deny(fn string, deny bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.denied == nil {
		a.denied = map[string]bool{}
	}
	a.denied[fn] = deny
}

func (a *accessRecorder) isDenied(fn string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.denied[fn]
}

func (a *accessRecorder) fail(msg string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.unknown = append(a.unknown, msg)
}

// check fails the test for anything a function did that the catalog does
// not grant it.
func (a *accessRecorder) check(t *testing.T) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, u := range a.unknown {
		t.Errorf("a DynamoDB request the recorder could not attribute: %s", u)
	}
	if len(a.seen) == 0 {
		t.Error("no function's DynamoDB request was recorded: is the recorder in the way?")
	}
	tables := dynamodb.TablesNamed("")
	for fn, seen := range a.seen {
		def, ok := lambda.FunctionNamed(fn)
		if !ok {
			t.Errorf("%s called DynamoDB and is no function of the catalog", fn)
			continue
		}
		var used []string
		for ac := range seen {
			used = append(used, ac.Action+" "+ac.Table+" "+ac.Index)
			if !slices.Contains(tables.All(), ac.Table) {
				t.Errorf("%s: %s on %s, which is no table of the store", fn, ac.Action, ac.Table)
			}
			if !slices.Contains(def.Tables[ac.Table].Actions(), ac.Action) {
				t.Errorf("%s did %s on %s (index %q), which its grants (%v) do not allow", fn, ac.Action, ac.Table, ac.Index, def.Tables[ac.Table])
			}
		}
		sort.Strings(used)
		t.Logf("%s used: %s", fn, strings.Join(used, ", "))
	}
}
