// Package webhookhttp sends webhooks over HTTP (ports.WebhookSender): one
// POST per attempt, no redirect followed, no proxy, and no connection to
// an address the request's Allow refuses — asked at connection time, after
// the host is resolved, so that a name that resolves to a private address
// at delivery time (DNS rebinding) is refused even if it did not when the
// endpoint was registered.
package webhookhttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

// Sender posts webhooks. It is safe for concurrent use and keeps
// connections open between attempts.
type Sender struct {
	client   *http.Client
	resolver *net.Resolver
}

var _ ports.WebhookSender = (*Sender)(nil)

// allowKey carries a request's Allow to the dialer.
type allowKey struct{}

// New returns a sender.
func New() *Sender {
	dialer := &net.Dialer{
		Timeout: 10 * time.Second,
		// ControlContext runs for every address the dialer is about to
		// connect to, after resolution: the one place no address escapes.
		ControlContext: func(ctx context.Context, network, address string, _ syscall.RawConn) error {
			allow, _ := ctx.Value(allowKey{}).(func(netip.Addr) error)
			if allow == nil {
				return errors.New("webhook sender: no address rule for this connection")
			}
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("webhook sender: address %q: %w", address, err)
			}
			if err := allow(ap.Addr()); err != nil {
				return fmt.Errorf("refused to connect to %s: %w", ap.Addr(), err)
			}
			return nil
		},
	}
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would connect for us, unchecked
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
	}
	return &Sender{
		client: &http.Client{Transport: transport,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		resolver: net.DefaultResolver,
	}
}

// Send posts r.Body to r.URL with r.Headers, within r.Timeout.
func (s *Sender) Send(ctx context.Context, r ports.WebhookRequest) (ports.WebhookResponse, error) {
	if r.Allow == nil {
		return ports.WebhookResponse{}, errors.New("webhook sender: a request needs an address rule (Allow)")
	}
	if r.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.Timeout)
		defer cancel()
	}
	ctx = context.WithValue(ctx, allowKey{}, r.Allow)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return ports.WebhookResponse{}, err
	}
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return ports.WebhookResponse{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, ports.WebhookResponseLimit))
	if err != nil {
		// The status came; a body cut short changes nothing of it.
		body = nil
	}
	return ports.WebhookResponse{Status: resp.StatusCode, Body: body}, nil
}

// Resolve returns the host's addresses.
func (s *Sender) Resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a}, nil
	}
	addrs, err := s.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	return addrs, nil
}
