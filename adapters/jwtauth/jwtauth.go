// Package jwtauth signs and checks access tokens: JWTs signed with the
// store's own ES256 key (made on first start and kept in the database),
// published at /.well-known/jwks.json; and, in the cloud, tokens of an
// external identity provider such as Cognito (RS256, keys fetched from its
// JWKS URL). The algorithm is pinned per issuer, so "none", HS256 with the
// public key as secret, or an RS256 token claiming our issuer are refused.
package jwtauth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/unicornstore/unicorn/ports"
)

// ErrInvalid wraps every reason a token is refused.
var ErrInvalid = errors.New("invalid token")

// leeway tolerates clocks that differ a little between machines.
const leeway = 30 * time.Second

// NewKey returns a fresh P-256 private key, PKCS#8 DER encoded: what the
// store keeps as its signing key.
func NewKey() ([]byte, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return x509.MarshalPKCS8PrivateKey(k)
}

// Signer issues the store's access tokens.
type Signer struct {
	key      *ecdsa.PrivateKey
	kid      string
	issuer   string
	audience string
	ttl      time.Duration
}

// NewSigner reads a key made by NewKey.
func NewSigner(der []byte, issuer, audience string, ttl time.Duration) (*Signer, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("signing key: not a P-256 key")
	}
	if issuer == "" || audience == "" || ttl <= 0 {
		return nil, errors.New("signer: an issuer, an audience and a lifetime are required")
	}
	return &Signer{key: ec, kid: thumbprint(&ec.PublicKey), issuer: issuer, audience: audience, ttl: ttl}, nil
}

// jwk is a public key as JSON Web Key.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Kid string `json:"kid,omitempty"`
	Use string `json:"use,omitempty"`
	Alg string `json:"alg,omitempty"`
}

var b64 = base64.RawURLEncoding

func ecJWK(pub *ecdsa.PublicKey) jwk {
	b, _ := pub.Bytes() // uncompressed point: 0x04 || X || Y, 32 bytes each on P-256
	return jwk{Kty: "EC", Crv: "P-256", X: b64.EncodeToString(b[1:33]), Y: b64.EncodeToString(b[33:])}
}

// thumbprint is the RFC 7638 thumbprint of a P-256 key: its key id.
func thumbprint(pub *ecdsa.PublicKey) string {
	j := ecJWK(pub)
	sum := sha256.Sum256(fmt.Appendf(nil, `{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}`, j.X, j.Y))
	return b64.EncodeToString(sum[:])
}

// JWKS is the public key set to publish at /.well-known/jwks.json.
func (s *Signer) JWKS() []byte {
	j := ecJWK(&s.key.PublicKey)
	j.Kid, j.Use, j.Alg = s.kid, "sig", "ES256"
	b, _ := json.Marshal(map[string][]jwk{"keys": {j}})
	return b
}

// claims are the store's access token claims.
type claims struct {
	jwt.RegisteredClaims
	Client    string `json:"client"`
	Role      string `json:"role"`
	SessionID string `json:"sid,omitempty"`
}

// Issue signs an access token for a user principal, valid from now for
// the signer's lifetime.
func (s *Signer) Issue(p ports.Principal, now time.Time) (ports.AccessToken, error) {
	exp := now.Add(s.ttl)
	id := make([]byte, 12)
	_, _ = rand.Read(id)
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: s.issuer, Subject: p.Subject, Audience: jwt.ClaimStrings{s.audience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp), ID: b64.EncodeToString(id)},
		Client: p.Client, Role: p.Role, SessionID: p.SessionID,
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, c)
	t.Header["kid"] = s.kid
	signed, err := t.SignedString(s.key)
	if err != nil {
		return ports.AccessToken{}, err
	}
	return ports.AccessToken{Token: signed, ExpiresAt: exp}, nil
}

// Verifier checks access tokens: the store's own, and those of an
// external provider when one is configured.
type Verifier struct {
	own      *Signer
	external *Provider
	now      func() time.Time
}

// NewVerifier checks tokens of signer, and of external when it is not nil.
// now is the clock (tokens' exp and nbf are checked against it).
func NewVerifier(signer *Signer, external *Provider, now func() time.Time) *Verifier {
	return &Verifier{own: signer, external: external, now: now}
}

// Verify returns the principal of a valid token; every refusal wraps
// ErrInvalid and says why.
func (v *Verifier) Verify(ctx context.Context, token string) (ports.Principal, error) {
	var unverified jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &unverified); err != nil {
		return ports.Principal{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	switch {
	case unverified.Issuer == v.own.issuer:
		return v.verifyOwn(token)
	case v.external != nil && unverified.Issuer == v.external.Issuer:
		return v.external.verify(ctx, token, v.now())
	}
	return ports.Principal{}, fmt.Errorf("%w: unknown issuer %q", ErrInvalid, unverified.Issuer)
}

func (v *Verifier) verifyOwn(token string) (ports.Principal, error) {
	var c claims
	p := jwt.NewParser(jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(v.own.issuer), jwt.WithAudience(v.own.audience),
		jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(leeway), jwt.WithTimeFunc(v.now))
	_, err := p.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		if kid, _ := t.Header["kid"].(string); kid != v.own.kid {
			return nil, fmt.Errorf("unknown key id %q", kid)
		}
		return &v.own.key.PublicKey, nil
	})
	if err != nil {
		return ports.Principal{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if c.Subject == "" || c.Client == "" || !slices.Contains(ports.Roles, c.Role) {
		return ports.Principal{}, fmt.Errorf("%w: subject, client or role missing", ErrInvalid)
	}
	return ports.Principal{Kind: ports.PrincipalUser, Subject: c.Subject, Client: c.Client, Role: c.Role, SessionID: c.SessionID}, nil
}
