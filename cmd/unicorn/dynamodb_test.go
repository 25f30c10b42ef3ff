package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/adapters/dynamodb/dynamotest"
)

// TestServeOnDynamoDB runs the real binary on DynamoDB Local (tables
// created at start) with the local executor: the demo loads, a customer
// buys through the saga, the search index and the sales tallies are fed by
// the tables' streams, and a restart finds everything where it was. It
// proves every DynamoDB adapter is wired.
func TestServeOnDynamoDB(t *testing.T) {
	t.Parallel()
	dynamotest.Client(t) // skips, or fails where DynamoDB Local is required, when it is not there
	env := []string{"UNICORN_STORE=dynamodb", "AWS_ENDPOINT_URL_DYNAMODB=" + dynamotest.Endpoint(),
		fmt.Sprintf("UNICORN_TABLE_PREFIX=serve%d-", time.Now().UnixNano()), "UNICORN_CREATE_TABLES=true"}
	db := filepath.Join(t.TempDir(), "unused.db")
	p := startServe(t, db, env...)
	if !strings.Contains(p.log(), "store=dynamodb") {
		t.Errorf("the start-up line does not say the store is DynamoDB:\n%s", p.log())
	}
	derick, admin := signIn(t, p.url, "derick"), signIn(t, p.url, "admin")

	status, body, err := call("POST", p.url+"/purchase", `{"user_id":"derick","items":[{"product_id":"3","quantity":1}]}`,
		"Authorization", derick, "Idempotency-Key", "dynamo-1")
	if err != nil || status != 201 {
		t.Fatalf("purchase: %d %v %s", status, err, body)
	}
	var order struct {
		ID            string `json:"id"`
		Status        string `json:"status"`
		PointsAwarded int64  `json:"points_awarded"`
	}
	if err := json.Unmarshal(body, &order); err != nil || order.Status != "completed" || order.PointsAwarded != 245 {
		t.Fatalf("order %s: %v", body, err)
	}

	// The search index, fed by the retail table's stream.
	eventually(t, "the search index to find the Midnight Galloper", func() bool {
		status, body, err := call("GET", p.url+"/products?q=galloper", "")
		return err == nil && status == 200 && strings.Contains(string(body), `"id":"3"`)
	})
	// The sales tallies, fed by PurchaseCompleted on the messages table's stream.
	eventually(t, "the sales tallies to count the purchase", func() bool {
		status, body, err := call("GET", p.url+"/analytics/products", "", "Authorization", admin)
		return err == nil && status == 200 && strings.Contains(string(body), `"product_id":"3"`) && strings.Contains(string(body), `"units":1`)
	})

	// A restart on the same tables: the data is there, nothing is loaded twice.
	p.kill9(t)
	p = startServe(t, db, env...)
	status, body, err = call("GET", p.url+"/orders/"+order.ID, "", "Authorization", signIn(t, p.url, "derick"))
	if err != nil || status != 200 || !strings.Contains(string(body), `"status":"completed"`) {
		t.Errorf("the order after a restart: %d %v %s", status, err, body)
	}
	status, body, err = call("GET", p.url+"/products", "")
	if err != nil || status != 200 || strings.Count(string(body), `"id":`) != 6 {
		t.Errorf("the catalog after a restart: %d %v %s", status, err, body)
	}
}

// eventually polls done until it holds, for at most a minute.
func eventually(t *testing.T, what string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for delay := 20 * time.Millisecond; !done(); delay = min(2*delay, time.Second) {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(delay)
	}
}
