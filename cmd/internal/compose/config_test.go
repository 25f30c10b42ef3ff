package compose

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/domains/campaign"
)

func TestConfig(t *testing.T) {
	t.Parallel()
	env := map[string]string{"UNICORN_ADDR": ":9000", "POINT_TTL_DAYS": "2", "LOG_LEVEL": "debug", "UNICORN_WEBAPP_DIR": "shop/dist", "UNICORN_STORE_CLIENT": "Shop-1", "UNICORN_POINTS_CEILING": "0.5+100"}
	c, err := ParseConfig("serve", []string{"-db", "x.db", "-point-ttl-days", "7", "-return-days", "3"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ceiling, err := campaign.ParseCeiling("0.5+100")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Addr: ":9000", DBPath: "x.db", TTLDays: 7, SweepEvery: time.Hour, LogLevel: slog.LevelDebug, LogFormat: "text",
		PointValue: decimal.RequireFromString("0.01"), PurchaseWait: 5 * time.Second, ReservationTTL: 15 * time.Minute, ReturnDays: 3, SagaWorkers: 16,
		WebhookTimeout: 10 * time.Second, WebhookWorkers: 8, WebhookScanEvery: 24 * time.Hour,
		ClientRate: 1000, CallerRate: 200, MaxInFlight: 512, MaxSagas: 64, Demo: true,
		TokenTTL: 15 * time.Minute, TokenIssuer: "unicorn-store", TokenAudience: "unicorn-api", WebAppDir: "shop/dist", StoreClient: "Shop-1", PointsCeiling: ceiling, Store: "sqlite", TablePrefix: "unicorn-"}
	if diff := cmp.Diff(want, c, cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	bad := []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"-point-ttl-days", "0"}, nil},
		{[]string{"-point-ttl-days", "30"}, nil}, // the default 30-day return window would outlive the points
		{[]string{"-return-days", "0"}, nil},
		{[]string{"-webhook-timeout", "1h"}, nil},
		{[]string{"-webhook-workers", "0"}, nil},
		{[]string{"-webhook-scan-interval", "5s"}, nil},
		{nil, map[string]string{"UNICORN_WEBHOOK_ALLOW_PRIVATE": "perhaps"}},
		{[]string{"-point-ttl-days", "x"}, nil},
		{nil, map[string]string{"POINT_TTL_DAYS": "-1"}},
		{[]string{"-sweep-interval", "soon"}, nil},
		{[]string{"-log-format", "xml"}, nil},
		{[]string{"-log-level", "loud"}, nil},
		{[]string{"-point-value", "-1"}, nil},
		{[]string{"-purchase-wait", "2h"}, nil},
		{[]string{"-saga-workers", "0"}, nil},
		{[]string{"-client-rate", "-1"}, nil},
		{[]string{"-caller-rate", "NaN"}, nil},
		{[]string{"-max-in-flight", "1.5"}, nil},
		{nil, map[string]string{"UNICORN_MAX_SAGAS": "-3"}},
		{[]string{"-demo", "maybe"}, nil},
		{[]string{"-webapp-dir", ""}, nil},
		{[]string{"-store-client", "the store"}, nil},
		{[]string{"-points-ceiling", "lots"}, nil},
		{[]string{"-store", "postgres"}, nil},
		{nil, map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "localhost:8000"}},
		{[]string{"-table-prefix", "a b"}, nil},
		{[]string{"-create-tables", "yes please"}, nil},
		{[]string{"-state-machine-arn", "purchase"}, nil},
		{nil, map[string]string{"UNICORN_POINTS_CEILING": "-1"}},
		{nil, map[string]string{"UNICORN_STORE_CLIENT": "a/b"}},
		{[]string{"-nope"}, nil},
		{[]string{"stray"}, nil},
	}
	for _, b := range bad {
		if _, err := ParseConfig("serve", b.args, func(k string) string { return b.env[k] }, io.Discard); err == nil {
			t.Errorf("ParseConfig(%v, %v) accepted", b.args, b.env)
		}
	}
	if c := Defaults(); c.WebAppDir != "webapp/dist" {
		t.Errorf("default web app directory = %q", c.WebAppDir)
	}
	// A command only takes its own flags.
	if _, err := ParseConfig("points expire", []string{"-addr", ":1"}, func(string) string { return "" }, io.Discard, "db"); err == nil {
		t.Error("points expire accepted -addr")
	}
}

func TestOnThisMachine(t *testing.T) {
	for endpoint, want := range map[string]bool{
		"http://localhost:8000": true, "http://127.0.0.1:8000": true, "http://[::1]:8000": true,
		"https://vpce-123.dynamodb.us-east-1.vpce.amazonaws.com": false, "https://dynamodb.eu-west-1.amazonaws.com": false, "": false,
	} {
		if got := onThisMachine(endpoint); got != want {
			t.Errorf("onThisMachine(%q) = %v, want %v", endpoint, got, want)
		}
	}
}
