package jwtauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/unicornstore/unicorn/ports"
)

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

const (
	issuer   = "unicorn-store"
	audience = "unicorn-api"
)

func newSigner(t *testing.T) *Signer {
	t.Helper()
	der, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(der, issuer, audience, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var derick = ports.Principal{Kind: ports.PrincipalUser, Subject: "derick", Client: "UnicornStore", Role: ports.RoleCustomer, SessionID: "s1"}

func TestIssueAndVerify(t *testing.T) {
	s := newSigner(t)
	tok, err := s.Issue(derick, t0)
	if err != nil || !tok.ExpiresAt.Equal(t0.Add(15*time.Minute)) {
		t.Fatalf("Issue = %+v, %v", tok, err)
	}
	v := NewVerifier(s, nil, func() time.Time { return t0.Add(time.Minute) })
	got, err := v.Verify(context.Background(), tok.Token)
	if err != nil || got.Subject != derick.Subject || got.Client != derick.Client || got.Role != derick.Role || got.SessionID != derick.SessionID || got.Kind != derick.Kind {
		t.Errorf("Verify = %+v, %v; want %+v", got, err, derick)
	}
	var set struct{ Keys []jwk }
	if err := json.Unmarshal(s.JWKS(), &set); err != nil || len(set.Keys) != 1 || set.Keys[0].Kid != s.kid || set.Keys[0].Alg != "ES256" {
		t.Errorf("JWKS = %s, %v", s.JWKS(), err)
	}
}

// sign makes a token with any method, header and claims: how an attacker
// would.
func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRefusals(t *testing.T) {
	s := newSigner(t)
	other := newSigner(t)
	now := t0.Add(time.Minute)
	v := NewVerifier(s, nil, func() time.Time { return now })
	good := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": issuer, "aud": audience, "sub": "derick", "client": "UnicornStore", "role": "customer",
			"iat": t0.Unix(), "nbf": t0.Unix(), "exp": t0.Add(15 * time.Minute).Unix()}
	}
	with := func(k string, val any) jwt.MapClaims {
		c := good()
		if val == nil {
			delete(c, k)
		} else {
			c[k] = val
		}
		return c
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&s.key.PublicKey)
	tests := []struct {
		name  string
		token string
	}{
		{"expired", sign(t, jwt.SigningMethodES256, s.key, s.kid, with("exp", t0.Add(-time.Hour).Unix()))},
		{"not yet valid", sign(t, jwt.SigningMethodES256, s.key, s.kid, with("nbf", now.Add(time.Hour).Unix()))},
		{"issued in the future", sign(t, jwt.SigningMethodES256, s.key, s.kid, with("iat", now.Add(time.Hour).Unix()))},
		{"no expiry", sign(t, jwt.SigningMethodES256, s.key, s.kid, with("exp", nil))},
		{"another key, its own kid", sign(t, jwt.SigningMethodES256, other.key, other.kid, good())},
		{"another key, our kid", sign(t, jwt.SigningMethodES256, other.key, s.kid, good())},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, s.kid, good())},
		{"HS256 keyed with our public key", sign(t, jwt.SigningMethodHS256, pubDER, s.kid, good())},
		{"HS256 keyed with our JWKS", sign(t, jwt.SigningMethodHS256, s.JWKS(), s.kid, good())},
		{"wrong audience", sign(t, jwt.SigningMethodES256, s.key, s.kid, with("aud", "someone-else"))},
		{"wrong issuer", sign(t, jwt.SigningMethodES256, s.key, s.kid, with("iss", "evil"))},
		{"no role", sign(t, jwt.SigningMethodES256, s.key, s.kid, with("role", nil))},
		{"unknown role", sign(t, jwt.SigningMethodES256, s.key, s.kid, with("role", "root"))},
		{"tampered payload", func() string {
			tok, _ := s.Issue(derick, t0)
			parts := strings.Split(tok.Token, ".")
			c := good()
			c["role"] = "admin"
			payload, _ := json.Marshal(c)
			return parts[0] + "." + b64.EncodeToString(payload) + "." + parts[2]
		}()},
		{"not a token", "hello"},
	}
	for _, tt := range tests {
		if p, err := v.Verify(context.Background(), tt.token); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: accepted as %+v (%v)", tt.name, p, err)
		}
	}
	// The good claims themselves pass: the refusals above are for what
	// each changed.
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodES256, s.key, s.kid, good())); err != nil {
		t.Errorf("good token refused: %v", err)
	}
}

// cognito is a stand-in for Cognito: an RSA key and its JWKS endpoint.
type cognito struct {
	key     *rsa.PrivateKey
	srv     *httptest.Server
	fetches atomic.Int64
}

func newCognito(t *testing.T) *cognito {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	c := &cognito{key: k}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.fetches.Add(1)
		e := big.NewInt(int64(k.E)).Bytes()
		json.NewEncoder(w).Encode(map[string]any{"keys": []jwk{{Kty: "RSA", Kid: "cog-1", Alg: "RS256", N: b64.EncodeToString(k.N.Bytes()), E: b64.EncodeToString(e)}}})
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func TestExternalProvider(t *testing.T) {
	s := newSigner(t)
	cog := newCognito(t)
	const pool = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool"
	now := t0.Add(time.Minute)
	v := NewVerifier(s, &Provider{Issuer: pool, Audience: "app-client", JWKSURL: cog.srv.URL, DefaultClient: "UnicornStore"}, func() time.Time { return now })
	base := func() jwt.MapClaims {
		return jwt.MapClaims{"iss": pool, "sub": "0f8e-uuid", "exp": t0.Add(time.Hour).Unix(), "iat": t0.Unix()}
	}
	access := base()
	access["token_use"], access["client_id"], access["username"], access["cognito:groups"] = "access", "app-client", "ann", []string{"staff", "marketer"}
	got, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, cog.key, "cog-1", access))
	if err != nil || got.Subject != "ann" || got.Role != "marketer" || got.Client != "UnicornStore" || got.SessionID != "" {
		t.Errorf("access token = %+v, %v", got, err)
	}
	id := base()
	id["token_use"], id["aud"], id["cognito:username"], id["custom:role"], id["custom:client"] = "id", "app-client", "bob", "admin", "Other"
	if got, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, cog.key, "cog-1", id)); err != nil || got.Subject != "bob" || got.Role != "admin" || got.Client != "Other" {
		t.Errorf("id token = %+v, %v", got, err)
	}
	wrongAud := base()
	wrongAud["client_id"], wrongAud["custom:role"] = "another-app", "admin"
	noRole := base()
	noRole["client_id"] = "app-client"
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for name, tok := range map[string]string{
		"another audience":        sign(t, jwt.SigningMethodRS256, cog.key, "cog-1", wrongAud),
		"no role":                 sign(t, jwt.SigningMethodRS256, cog.key, "cog-1", noRole),
		"ES256 for the provider":  sign(t, jwt.SigningMethodES256, ecKey, "cog-1", access),
		"unknown key id":          sign(t, jwt.SigningMethodRS256, cog.key, "cog-2", access),
		"RS256 claiming our name": sign(t, jwt.SigningMethodRS256, cog.key, s.kid, jwt.MapClaims{"iss": issuer, "aud": audience, "sub": "x", "client": "c", "role": "admin", "exp": t0.Add(time.Hour).Unix()}),
	} {
		if p, err := v.Verify(context.Background(), tok); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: accepted as %+v (%v)", name, p, err)
		}
	}
	// Unknown key ids do not refetch the key set more than once a minute.
	before := cog.fetches.Load()
	for range 5 {
		v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, cog.key, "cog-3", access))
	}
	if n := cog.fetches.Load() - before; n > 1 {
		t.Errorf("%d fetches of the key set for 5 unknown key ids within a minute", n)
	}
}

func TestCognitoPool(t *testing.T) {
	for issuer, want := range map[string]string{
		"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123":         "eu-west-1",
		"https://cognito-idp.us-gov-west-1.amazonaws.com/us-gov-west-1_x9":     "us-gov-west-1",
		"https://cognito-idp.eu-west-1.amazonaws.com/us-east-1_AbC123":         "", // a pool of another region
		"https://cognito-idp.eu-west-1.amazonaws.com.evil.example/eu-west-1_A": "",
		"http://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123":          "",
		"https://accounts.example.com":                                         "",
		"":                                                                     "",
	} {
		got, pool, ok := CognitoPool(issuer)
		if got != want || ok != (want != "") || (ok && !strings.HasSuffix(issuer, "/"+pool)) {
			t.Errorf("CognitoPool(%q) = %q, %q, %v; want region %q", issuer, got, pool, ok, want)
		}
	}
}
