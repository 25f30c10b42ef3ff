package jwtauth

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/unicornstore/unicorn/ports"
)

// Provider is an external identity provider whose tokens the store
// accepts (Cognito in the cloud): RS256 tokens of Issuer for Audience (an
// ID token's aud, or an access token's client_id), with keys from JWKSURL.
// The user's role is its custom:role claim, or the least role its Cognito
// groups name (ports.RoleOfGroups); its client, custom:client or
// DefaultClient.
type Provider struct {
	Issuer        string
	Audience      string
	JWKSURL       string
	DefaultClient string
	HTTP          *http.Client

	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

// cognitoIssuer is a Cognito user pool's issuer:
// https://cognito-idp.<region>.amazonaws.com/<region>_<id>.
var cognitoIssuer = regexp.MustCompile(`^https://cognito-idp\.([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com/(([a-z]{2}(?:-[a-z]+)+-\d)_[0-9A-Za-z]+)$`)

// CognitoPool is the region and the user pool id of a Cognito user pool's
// issuer URL, and whether issuer is one.
func CognitoPool(issuer string) (region, pool string, ok bool) {
	m := cognitoIssuer.FindStringSubmatch(issuer)
	if m == nil || m[1] != m[3] {
		return "", "", false
	}
	return m[1], m[2], true
}

// refetchEvery bounds how often an unknown key id makes the provider fetch
// the key set again (keys rotate; a flood of bogus kids must not become a
// flood of fetches).
const refetchEvery = time.Minute

// key returns the public key of kid, fetching the key set when it is
// unknown and the last fetch is old enough.
func (p *Provider) key(ctx context.Context, kid string, now time.Time) (*rsa.PublicKey, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if k, ok := p.keys[kid]; ok {
		return k, nil
	}
	if !p.fetched.IsZero() && now.Sub(p.fetched) < refetchEvery {
		return nil, fmt.Errorf("unknown key id %q", kid)
	}
	keys, err := p.fetch(ctx)
	p.fetched = now
	if err != nil {
		return nil, err
	}
	p.keys = keys
	if k, ok := keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("unknown key id %q", kid)
}

func (p *Provider) fetch(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.JWKSURL, nil)
	if err != nil {
		return nil, err
	}
	client := p.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch the provider's keys: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch the provider's keys: %s", resp.Status)
	}
	var set struct{ Keys []jwk }
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("the provider's keys: %w", err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" {
			continue
		}
		n, err1 := b64.DecodeString(k.N)
		e, err2 := b64.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) > 4 {
			continue
		}
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	return keys, nil
}

// providerClaims are what the store reads of a provider's token.
type providerClaims struct {
	jwt.RegisteredClaims
	ClientID string   `json:"client_id"`
	TokenUse string   `json:"token_use"`
	Username string   `json:"username"`
	CogUser  string   `json:"cognito:username"`
	Groups   []string `json:"cognito:groups"`
	Role     string   `json:"custom:role"`
	Client   string   `json:"custom:client"`
}

func (p *Provider) verify(ctx context.Context, token string, now time.Time) (ports.Principal, error) {
	var c providerClaims
	parser := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(p.Issuer), jwt.WithExpirationRequired(),
		jwt.WithLeeway(leeway), jwt.WithTimeFunc(func() time.Time { return now }))
	_, err := parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return p.key(ctx, kid, now)
	})
	if err != nil {
		return ports.Principal{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if !slices.Contains(c.Audience, p.Audience) && c.ClientID != p.Audience {
		return ports.Principal{}, fmt.Errorf("%w: not for this audience", ErrInvalid)
	}
	if c.TokenUse != "" && c.TokenUse != "access" && c.TokenUse != "id" {
		return ports.Principal{}, fmt.Errorf("%w: token_use %q", ErrInvalid, c.TokenUse)
	}
	role := c.Role
	if role == "" {
		role = ports.RoleOfGroups(c.Groups)
	}
	if !slices.Contains(ports.Roles, role) {
		return ports.Principal{}, fmt.Errorf("%w: the token names no role", ErrInvalid)
	}
	subject := c.Username
	if subject == "" {
		subject = c.CogUser
	}
	if subject == "" {
		subject = c.Subject
	}
	client := c.Client
	if client == "" {
		client = p.DefaultClient
	}
	return ports.Principal{Kind: ports.PrincipalUser, Subject: subject, Client: client, Role: role}, nil
}
