package webhooks

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

func TestSignatureVerifies(t *testing.T) {
	secret, err := newSecret(defaultRandom)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := newSecret(defaultRandom)
	now := time.Date(2026, 11, 21, 9, 30, 0, 0, time.UTC)
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte(`{"id":"evt_1","type":"order.completed","data":{"total":"10.00"}}`)
	sig, err := Sign(secret, "evt_1", ts, body)
	if err != nil {
		t.Fatal(err)
	}
	otherSig, _ := Sign(other, "evt_1", ts, body)
	cases := []struct {
		name              string
		secret, id, stamp string
		body              []byte
		header            string
		now               time.Time
		want              error
	}{
		{"as signed", secret, "evt_1", ts, body, sig, now, nil},
		{"a little later", secret, "evt_1", ts, body, sig, now.Add(4 * time.Minute), nil},
		{"among other signatures (a rotation)", secret, "evt_1", ts, body, otherSig + " v2,xyz " + sig, now, nil},
		{"wrong secret", other, "evt_1", ts, body, sig, now, ErrBadSignature},
		{"tampered body", secret, "evt_1", ts, []byte(`{"id":"evt_1","type":"order.completed","data":{"total":"99.00"}}`), sig, now, ErrBadSignature},
		{"another id", secret, "evt_2", ts, body, sig, now, ErrBadSignature},
		{"another timestamp", secret, "evt_1", strconv.FormatInt(now.Unix()+1, 10), body, sig, now, ErrBadSignature},
		{"old timestamp (a replayed capture)", secret, "evt_1", ts, body, sig, now.Add(6 * time.Minute), ErrBadTimestamp},
		{"timestamp from the future", secret, "evt_1", ts, body, sig, now.Add(-6 * time.Minute), ErrBadTimestamp},
		{"timestamp not a number", secret, "evt_1", "yesterday", body, sig, now, ErrBadTimestamp},
		{"no signature", secret, "evt_1", ts, body, "", now, ErrBadSignature},
		{"unknown version", secret, "evt_1", ts, body, "v0," + sig[3:], now, ErrBadSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := VerifySignature(c.secret, c.id, c.stamp, c.body, c.header, c.now, DefaultTolerance)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("VerifySignature = %v, want %v", err, c.want)
			}
		})
	}
	if err := VerifySignature("not a secret!", "evt_1", ts, body, sig, now, DefaultTolerance); err == nil {
		t.Error("a malformed secret verified")
	}
}

// The scheme is Standard Webhooks': a signature made by its reference
// implementation verifies.
func TestSignatureMatchesStandardWebhooks(t *testing.T) {
	// From the Standard Webhooks specification's test vectors.
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	id, ts := "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330"
	body := []byte(`{"test": 2432232314}`)
	want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	got, err := Sign(secret, id, ts, body)
	if err != nil || got != want {
		t.Errorf("Sign = %q, %v; want %q", got, err, want)
	}
	if err := VerifySignature(secret, id, ts, body, want, time.Unix(1614265330, 0), DefaultTolerance); err != nil {
		t.Errorf("VerifySignature: %v", err)
	}
}

func TestSecretsAreRandomAndLongEnough(t *testing.T) {
	a, err := newSecret(defaultRandom)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := newSecret(defaultRandom)
	if a == b {
		t.Error("two secrets are the same")
	}
	key, err := secretKey(a)
	if err != nil || len(key) != secretBytes {
		t.Errorf("a secret's key has %d bytes (%v), want %d", len(key), err, secretBytes)
	}
}
