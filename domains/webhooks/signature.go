package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Headers of a delivery (Standard Webhooks).
const (
	HeaderID        = "Webhook-Id"
	HeaderTimestamp = "Webhook-Timestamp"
	HeaderSignature = "Webhook-Signature"
)

// DefaultTolerance is how far a receiver should accept a timestamp from
// its own clock: older deliveries may be replays of a captured request.
const DefaultTolerance = 5 * time.Minute

// Errors of VerifySignature.
var (
	ErrBadSignature = errors.New("webhook signature does not match")
	ErrBadTimestamp = errors.New("webhook timestamp is outside the tolerance")
)

// Sign returns the signature of a delivery as the Webhook-Signature
// header carries it: "v1," and the base64 HMAC-SHA256, keyed by the
// secret, of id + "." + timestamp + "." + body.
func Sign(secret, id, timestamp string, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, timestamp, body)), nil
}

func mac(key []byte, id, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	h.Write([]byte("."))
	h.Write([]byte(timestamp))
	h.Write([]byte("."))
	h.Write(body)
	return h.Sum(nil)
}

// VerifySignature is a receiver's check of a delivery: the signature
// header (one or more space-separated "v1,<base64>") holds a signature of
// id, timestamp and body by secret, and the timestamp (unix seconds) is
// within tolerance of now. It compares in constant time. A receiver should
// then deduplicate by id: a delivery may come more than once.
func VerifySignature(secret, id, timestamp string, body []byte, header string, now time.Time, tolerance time.Duration) error {
	key, err := secretKey(secret)
	if err != nil {
		return err
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q is no unix time", ErrBadTimestamp, timestamp)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: %s away", ErrBadTimestamp, d.Round(time.Second))
	}
	want := mac(key, id, timestamp, body)
	for _, sig := range strings.Fields(header) {
		version, value, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(value)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrBadSignature
}
