package webhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/unicornstore/unicorn/ports"
)

// resolver is a WebhookSender that only resolves, from a table.
type resolver map[string][]string

func (r resolver) Resolve(_ context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	names, ok := r[host]
	if !ok {
		return nil, fmt.Errorf("no such host %s", host)
	}
	var out []netip.Addr
	for _, n := range names {
		out = append(out, netip.MustParseAddr(n))
	}
	return out, nil
}

func (resolver) Send(context.Context, ports.WebhookRequest) (ports.WebhookResponse, error) {
	return ports.WebhookResponse{}, errors.New("resolver sends nothing")
}

var hosts = resolver{
	"hooks.example.com":    {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"},
	"internal.example.com": {"10.1.2.3"},
	"rebind.example.com":   {"93.184.216.34", "127.0.0.1"},
	"metadata.example.com": {"169.254.169.254"},
	"cgnat.example.com":    {"100.64.1.1"},
	"v6local.example.com":  {"fd00::1"},
	"mapped.example.com":   {"::ffff:192.168.1.1"},
}

func TestEndpointURLRules(t *testing.T) {
	cases := []struct {
		url          string
		allowPrivate bool
		wantErr      string // "" for accepted
	}{
		{"https://hooks.example.com/unicorn", false, ""},
		{"https://hooks.example.com:8443/unicorn?tenant=1", false, ""},
		{"HTTPS://hooks.example.com/", false, ""},
		{"http://hooks.example.com/unicorn", false, "an https URL"},
		{"http://127.0.0.1:8080/hook", true, ""},
		{"https://internal.example.com/", true, ""},
		{"ftp://hooks.example.com/", false, "an https URL"},
		{"ftp://hooks.example.com/", true, "an https URL"},
		{"/relative/path", false, "absolute"},
		{"hooks.example.com/unicorn", false, "absolute"},
		{"https://user:pass@hooks.example.com/", false, "no user name or password"},
		{"https://token@hooks.example.com/", true, "no user name or password"},
		{"https://hooks.example.com/#frag", false, "no fragment"},
		{"https:///nohost", false, "a host name"},
		{"https://hooks.example.com/" + strings.Repeat("a", MaxURLLength), false, "at most 2048"},
		{"https://nowhere.example.com/", false, "does not resolve"},
		{"https://internal.example.com/", false, "not public"},
		{"https://rebind.example.com/", false, "not public"},
		{"https://metadata.example.com/latest/meta-data", false, "not public"},
		{"https://cgnat.example.com/", false, "not public"},
		{"https://v6local.example.com/", false, "not public"},
		{"https://mapped.example.com/", false, "not public"},
		{"https://127.0.0.1/", false, "not public"},
		{"https://[::1]/", false, "not public"},
		{"https://0.0.0.0/", false, "not public"},
		{"https://169.254.169.254/", false, "not public"},
		{"https://[fe80::1]/", false, "not public"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%.60s private=%v", c.url, c.allowPrivate), func(t *testing.T) {
			s := &Service{d: Deps{Sender: hosts}, cfg: Config{AllowPrivate: c.allowPrivate}, rule: addressRule{c.allowPrivate}}
			_, err := s.checkURL(context.Background(), c.url)
			switch {
			case c.wantErr == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.wantErr != "" && err == nil:
				t.Errorf("accepted, want %q", c.wantErr)
			case c.wantErr != "":
				var fe *ports.FieldError
				if !errors.As(err, &fe) || fe.Field != "url" || !strings.Contains(fe.Message, c.wantErr) {
					t.Errorf("error %v, want a url field error saying %q", err, c.wantErr)
				}
			}
		})
	}
}

func TestAddressRule(t *testing.T) {
	strict, open := addressRule{}, addressRule{allowPrivate: true}
	for _, a := range []string{"93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"} {
		if err := strict.allow(netip.MustParseAddr(a)); err != nil {
			t.Errorf("public %s refused: %v", a, err)
		}
	}
	for _, a := range []string{"127.0.0.1", "127.8.8.8", "10.0.0.1", "172.16.5.4", "192.168.0.1", "169.254.169.254", "100.100.100.200",
		"0.0.0.0", "255.255.255.255", "224.0.0.1", "::1", "::", "fe80::1", "fc00::1", "ff02::1", "::ffff:10.0.0.1", "64:ff9b::a00:1",
		"192.0.2.1", "198.18.0.1", "240.0.0.1"} {
		if err := strict.allow(netip.MustParseAddr(a)); err == nil {
			t.Errorf("%s allowed", a)
		}
		if err := open.allow(netip.MustParseAddr(a)); err != nil {
			t.Errorf("%s refused though private addresses are allowed: %v", a, err)
		}
	}
	if err := open.allow(netip.Addr{}); err == nil {
		t.Error("no address allowed")
	}
}

func TestEventSubscriptionRules(t *testing.T) {
	got, err := parseEvents([]string{"order.returned", "points.expiring", "order.returned"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]EventType{PointsExpiring, OrderReturned}, got, cmp.Comparer(func(a, b EventType) bool { return a == b })); diff != "" {
		t.Errorf("parseEvents (-want +got):\n%s", diff)
	}
	for _, bad := range [][]string{nil, {}, {"points.issued"}, {"order.completed", "Order.Completed"}, {""}} {
		var fe *ports.FieldError
		if _, err := parseEvents(bad); !errors.As(err, &fe) || fe.Field != "events" {
			t.Errorf("parseEvents(%q) = %v, want an events field error", bad, err)
		}
	}
	for _, t0 := range EventTypes() {
		if got, err := ParseEventType(t0.String()); err != nil || got != t0 {
			t.Errorf("ParseEventType(%s) = %v, %v", t0, got, err)
		}
	}
	for n, want := range map[int]int{0: DefaultExpiringDays, 1: 1, MaxExpiringDays: MaxExpiringDays} {
		if got, err := checkExpiringDays(n); err != nil || got != want {
			t.Errorf("checkExpiringDays(%d) = %d, %v; want %d", n, got, err, want)
		}
	}
	for _, n := range []int{-1, MaxExpiringDays + 1} {
		if _, err := checkExpiringDays(n); !errors.Is(err, ErrInvalid) {
			t.Errorf("checkExpiringDays(%d) = %v, want ErrInvalid", n, err)
		}
	}
}

func ledgerMessage(t *testing.T, account string, seq int64, typ string, data any) ports.Message {
	t.Helper()
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	ev := ports.Event{ID: fmt.Sprintf("id-%d", seq), Account: account, Seq: seq, Type: typ, Version: 1, Data: raw,
		RecordedAt: time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC)}
	payload, _ := json.Marshal(ev)
	return ports.Message{ID: seq, Topic: ports.TopicPointsLedger, Key: account, Payload: payload}
}

func TestMessagesMapToEvents(t *testing.T) {
	lot := map[string]any{"lot": "2026-01-02", "expires_on": "2027-01-02", "amount": 40}
	purchase, _ := json.Marshal(ports.PurchaseCompleted{OrderID: "o-1", UserID: "alice", Client: "UnicornStore",
		Lines: []ports.OrderLine{{ProductID: "p1", Name: "Sparkle", Quantity: 2}}, At: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)})
	ret, _ := json.Marshal(ports.OrderReturned{OrderID: "o-1", ReturnID: "r1", UserID: "alice", Client: "UnicornStore", Whole: true})
	cases := []struct {
		name     string
		m        ports.Message
		typ      EventType
		client   string
		dataJSON string
	}{
		{"matured", ledgerMessage(t, "acme/alice", 3, "points.matured", lot), PointsMatured, "acme",
			`{"account_id":"alice","lot":"2026-01-02","expires_on":"2027-01-02","points":40}`},
		{"expired", ledgerMessage(t, "acme/alice", 4, "points.expired", lot), PointsExpired, "acme",
			`{"account_id":"alice","lot":"2026-01-02","expires_on":"2027-01-02","points":40}`},
		{"tier changed", ledgerMessage(t, "acme/bob", 9, "points.tier_changed", map[string]any{"from": "silver", "to": "gold", "earned": 1200,
			"window_days": 365, "reason": "earned 1200 points"}), TierChanged, "acme",
			`{"account_id":"bob","from":"silver","to":"gold","earned":1200,"window_days":365,"reason":"earned 1200 points"}`},
		{"purchase", ports.Message{Topic: ports.TopicPurchases, Key: "order:o-1:completed", Payload: purchase}, OrderCompleted, "UnicornStore",
			`{"order_id":"o-1","user_id":"alice","lines":[{"product_id":"p1","name":"Sparkle","quantity":2,"unit_price":"0","amount":"0"}],` +
				`"total":"0","charged":"0","points_redeemed":0,"points_awarded":0}`},
		{"return", ports.Message{Topic: ports.TopicReturns, Key: "order:o-1:return:r1:returned", Payload: ret}, OrderReturned, "UnicornStore",
			`{"order_id":"o-1","return_id":"r1","user_id":"alice","lines":[],"value":"0","refunded":"0","points_restored":0,` +
				`"points_reversed":0,"points_unrecovered":0,"whole":true}`},
	}
	ids := map[string]string{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev, typ, ok, err := eventOf(c.m)
			if err != nil || !ok || typ != c.typ || ev.Type != c.typ.String() || ev.Client != c.client {
				t.Fatalf("eventOf = %+v, %v, %v, %v", ev, typ, ok, err)
			}
			data, _ := json.Marshal(ev.Data)
			if diff := cmp.Diff(c.dataJSON, string(data)); diff != "" {
				t.Errorf("data (-want +got):\n%s", diff)
			}
			if !strings.HasPrefix(ev.ID, "evt_") || len(ev.ID) != 36 {
				t.Errorf("id %q", ev.ID)
			}
			again, _, _, _ := eventOf(c.m)
			if again.ID != ev.ID {
				t.Errorf("the same message made ids %s and %s", ev.ID, again.ID)
			}
			if other, dup := ids[ev.ID]; dup {
				t.Errorf("%s has the id of %s", c.name, other)
			}
			ids[ev.ID] = c.name
		})
	}
	for _, m := range []ports.Message{
		ledgerMessage(t, "acme/alice", 1, "points.issued", map[string]any{"amount": 5}),
		ledgerMessage(t, "acme/alice", 2, "points.redeemed", map[string]any{"amount": 5}),
		{Topic: ports.TopicProducts, Key: "p1", Payload: []byte(`{}`)},
	} {
		if _, _, ok, err := eventOf(m); ok || err != nil {
			t.Errorf("message %s %s made an event (%v, %v)", m.Topic, m.Payload, ok, err)
		}
	}
	if _, _, _, err := eventOf(ports.Message{Topic: ports.TopicPurchases, Payload: []byte("{")}); err == nil {
		t.Error("a malformed message was no error")
	}
	if _, _, _, err := eventOf(ledgerMessage(t, "no-client", 1, "points.expired", lot)); err == nil {
		t.Error("an account without a client was no error")
	}
}

func TestExpiringEvent(t *testing.T) {
	today := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	lot := ports.Lot{IssuedOn: "2025-11-24", ExpiresOn: "2026-11-24", Remaining: 70}
	ev := expiringEvent("acme", "alice", lot, today, today.Add(3*time.Hour))
	data, _ := json.Marshal(ev.Data)
	if want := `{"account_id":"alice","lot":"2025-11-24","expires_on":"2026-11-24","points":70,"days_left":3}`; string(data) != want {
		t.Errorf("data %s, want %s", data, want)
	}
	later := expiringEvent("acme", "alice", ports.Lot{IssuedOn: "2025-11-24", ExpiresOn: "2026-11-24", Remaining: 50}, today.AddDate(0, 0, 1), today)
	if later.ID != ev.ID {
		t.Error("the same lot found another day has another id")
	}
	if other := expiringEvent("acme", "bob", lot, today, today); other.ID == ev.ID {
		t.Error("two accounts' lots share an id")
	}
}

func TestBackoffSchedule(t *testing.T) {
	var total time.Duration
	for _, d := range DefaultBackoff {
		total += d
	}
	if attempts := len(DefaultBackoff) + 1; attempts != 12 {
		t.Errorf("%d attempts, want 12", attempts)
	}
	if total < 60*time.Hour || total > 80*time.Hour {
		t.Errorf("the retries span %s, want about three days", total)
	}
	for i := 1; i < len(DefaultBackoff); i++ {
		if DefaultBackoff[i] < DefaultBackoff[i-1] {
			t.Errorf("wait %d (%s) is shorter than the one before", i, DefaultBackoff[i])
		}
	}
	s := &Service{d: Deps{Random: defaultRandom}}
	for range 1000 {
		if j := s.jitter(time.Minute); j < 48*time.Second || j > 72*time.Second {
			t.Fatalf("jitter of a minute gave %s", j)
		}
	}
}

func TestTruncate(t *testing.T) {
	if got := truncate("short\x00one\n", 100); got != "short one " {
		t.Errorf("truncate = %q", got)
	}
	long := strings.Repeat("é", 400)
	got := truncate(long, maxErrorLength)
	if len(got) > maxErrorLength || !strings.HasSuffix(got, "…") || !strings.HasPrefix(got, "éé") {
		t.Errorf("truncate of a long error: %d bytes %q", len(got), got)
	}
	if got := truncate("bad \xff byte", 100); got != "bad   byte" {
		t.Errorf("truncate of invalid UTF-8 = %q", got)
	}
}
