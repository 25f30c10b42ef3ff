package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/unicornstore/unicorn/limits"
	"github.com/unicornstore/unicorn/ports"
)

// Limits of endpoints. (They belong in limits/limits.go with the others,
// listed in the README.)
const (
	// MaxEndpoints is the most endpoints a client may have.
	MaxEndpoints = limits.WebhookEndpointsPerClient
	// MaxURLLength bounds an endpoint's URL, in bytes.
	MaxURLLength = limits.WebhookURLChars
	// DefaultExpiringDays is how many days before its points expire an
	// endpoint is told so, unless it says otherwise.
	DefaultExpiringDays = 7
	// MaxExpiringDays bounds ExpiringDays, and so how far ahead the daily
	// scan looks.
	MaxExpiringDays = 60
)

// secretPrefix marks an endpoint's secret, as Standard Webhooks does.
const secretPrefix = "whsec_"

// secretBytes is the size of a secret.
const secretBytes = 32

// Endpoint is a URL of a client's that is sent the events it subscribes
// to. Its secret is never shown after it is made.
type Endpoint struct {
	id, client, url string
	events          []EventType
	secret          string
	expiringDays    int
	active          bool
	createdAt       time.Time
	updatedAt       time.Time
	version         int64
}

func (e *Endpoint) ID() string     { return e.id }
func (e *Endpoint) Client() string { return e.client }
func (e *Endpoint) URL() string    { return e.url }

// Events are the event types the endpoint is sent, in EventTypes' order.
func (e *Endpoint) Events() []EventType { return slices.Clone(e.events) }

// ExpiringDays is how many days before a lot expires the endpoint is told
// so (when it subscribes to PointsExpiring).
func (e *Endpoint) ExpiringDays() int { return e.expiringDays }

// Active says whether the endpoint is sent events; an inactive one is
// sent nothing, and what was pending for it fails.
func (e *Endpoint) Active() bool         { return e.active }
func (e *Endpoint) CreatedAt() time.Time { return e.createdAt }
func (e *Endpoint) UpdatedAt() time.Time { return e.updatedAt }
func (e *Endpoint) Version() int64       { return e.version }

// Subscribed says whether the endpoint is sent events of type t.
func (e *Endpoint) Subscribed(t EventType) bool { return slices.Contains(e.events, t) }

// wants says whether an event of type t is sent to the endpoint now.
func (e *Endpoint) wants(t EventType) bool { return e.active && e.Subscribed(t) }

func (e *Endpoint) record() ports.WebhookEndpoint {
	events := make([]string, len(e.events))
	for i, t := range e.events {
		events[i] = t.name
	}
	return ports.WebhookEndpoint{ID: e.id, Client: e.client, URL: e.url, Events: events, Secret: e.secret, ExpiringDays: e.expiringDays,
		Active: e.active, CreatedAt: e.createdAt, UpdatedAt: e.updatedAt, Version: e.version}
}

// endpointFromStore rebuilds an endpoint as stored. It checks nothing
// that may have changed since it was stored (the rules of URLs): what is
// stored stays readable. An event type no longer known is dropped.
func endpointFromStore(r ports.WebhookEndpoint) *Endpoint {
	e := &Endpoint{id: r.ID, client: r.Client, url: r.URL, secret: r.Secret, expiringDays: r.ExpiringDays, active: r.Active,
		createdAt: r.CreatedAt, updatedAt: r.UpdatedAt, version: r.Version}
	for _, name := range r.Events {
		if t, err := ParseEventType(name); err == nil {
			e.events = append(e.events, t)
		}
	}
	if e.expiringDays <= 0 {
		e.expiringDays = DefaultExpiringDays
	}
	return e
}

// EndpointSpec is what a client says of a new endpoint.
type EndpointSpec struct {
	URL    string
	Events []string
	// ExpiringDays: 0 for DefaultExpiringDays.
	ExpiringDays int
}

// EndpointChange is a change of an endpoint: nil fields stay as they are.
type EndpointChange struct {
	URL          *string
	Events       []string // nil: unchanged
	ExpiringDays *int
	Active       *bool
}

// parseEvents checks a subscription: known event types, at least one,
// each once.
func parseEvents(names []string) ([]EventType, error) {
	if len(names) == 0 {
		return nil, invalid("events", "name at least one event type of %s", eventNames())
	}
	var out []EventType
	for _, name := range names {
		t, err := ParseEventType(name)
		if err != nil {
			return nil, invalid("events", "%s: the event types are %s", err, eventNames())
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	order := EventTypes()
	slices.SortFunc(out, func(a, b EventType) int { return slices.Index(order, a) - slices.Index(order, b) })
	return out, nil
}

func eventNames() string {
	var names []string
	for _, t := range EventTypes() {
		names = append(names, t.name)
	}
	return strings.Join(names, ", ")
}

func checkExpiringDays(n int) (int, error) {
	if n == 0 {
		return DefaultExpiringDays, nil
	}
	if n < 1 || n > MaxExpiringDays {
		return 0, invalid("expiring_days", "from 1 to %d days", MaxExpiringDays)
	}
	return n, nil
}

func checkClient(client string) error {
	if !limits.ID.MatchString(client) {
		return invalid("client", "%s", limits.IDRule)
	}
	return nil
}

// newSecret makes a secret: 32 random bytes, in the Standard Webhooks
// form.
func newSecret(random io.Reader) (string, error) {
	b := make([]byte, secretBytes)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", fmt.Errorf("make a webhook secret: %w", err)
	}
	return secretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// secretKey is the HMAC key of a secret.
func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("a webhook secret is %s and base64", secretPrefix)
	}
	return key, nil
}

// addressRule decides which addresses webhooks may be sent to.
type addressRule struct{ allowPrivate bool }

// refusedPrefixes are public-looking ranges that reach no one's public
// endpoint: shared address space (carrier NAT), reserved, documentation
// and benchmarking ranges, and translations that embed an IPv4 address.
var refusedPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range []string{"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15", "198.51.100.0/24",
		"203.0.113.0/24", "240.0.0.0/4", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001:db8::/32", "2002::/16"} {
		out = append(out, netip.MustParsePrefix(p))
	}
	return out
}()

// allow refuses, unless private addresses are allowed, every address that
// is not a public unicast address: loopback, private, link-local (the
// cloud's metadata service), unspecified, multicast and reserved ranges.
func (r addressRule) allow(a netip.Addr) error {
	a = a.Unmap()
	if !a.IsValid() {
		return fmt.Errorf("no address")
	}
	if r.allowPrivate {
		return nil
	}
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() ||
		a.IsMulticast() || a.IsUnspecified() || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return fmt.Errorf("address %s is not public", a)
	}
	for _, p := range refusedPrefixes {
		if p.Contains(a) {
			return fmt.Errorf("address %s is not public", a)
		}
	}
	return nil
}

// checkURL applies the rules of an endpoint's URL: absolute, https (http
// only where private addresses are allowed: development and tests), no
// credentials or fragment, at most MaxURLLength, and a host that resolves
// to public addresses only.
func (s *Service) checkURL(ctx context.Context, raw string) (string, error) {
	if len(raw) > MaxURLLength {
		return "", invalid("url", "at most %d characters", MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" {
		return "", invalid("url", "an absolute https URL")
	}
	switch scheme := strings.ToLower(u.Scheme); {
	case scheme == "https":
	case scheme == "http" && s.cfg.AllowPrivate:
	default:
		return "", invalid("url", "an https URL")
	}
	if u.User != nil {
		return "", invalid("url", "no user name or password in the URL: receivers check the signature")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "", invalid("url", "no fragment (#...)")
	}
	host := u.Hostname()
	if host == "" {
		return "", invalid("url", "a host name")
	}
	if s.cfg.AllowPrivate {
		return u.String(), nil
	}
	addrs, err := s.d.Sender.Resolve(ctx, host)
	if err != nil || len(addrs) == 0 {
		return "", invalid("url", "the host %s does not resolve", host)
	}
	for _, a := range addrs {
		if err := s.rule.allow(a); err != nil {
			return "", invalid("url", "the host %s resolves to an address that is not public", host)
		}
	}
	return u.String(), nil
}

// defaultRandom is where secrets come from unless Deps say otherwise.
var defaultRandom io.Reader = rand.Reader
