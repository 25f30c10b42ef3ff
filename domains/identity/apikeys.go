package identity

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

// An API key reads "uk_<id>_<secret>": the id finds the stored key, the
// secret is compared with its hash. The id is hex, so the first "_" after
// the prefix ends it.
const keyPrefix = "uk_"

// lastUsedEvery is how stale a key's last-used time may get before a use
// writes it again: a busy key costs a write a minute, not one a request.
const lastUsedEvery = time.Minute

// CreateAPIKey makes a key for a program of client with the given scopes.
// The key is returned once, here; only its hash is kept.
func (s *Service) CreateAPIKey(ctx context.Context, client, name string, scopes []string) (string, ports.APIKey, error) {
	switch {
	case !namePattern.MatchString(client):
		return "", ports.APIKey{}, invalid("client", "a client is 1 to 128 characters from A-Z a-z 0-9 . _ @ : -")
	case len(name) > 200:
		return "", ports.APIKey{}, invalid("name", "a name has at most 200 characters")
	case len(scopes) == 0:
		return "", ports.APIKey{}, invalid("scopes", "give at least one scope of %v", Scopes)
	}
	for _, sc := range scopes {
		if !slices.Contains(Scopes, sc) {
			return "", ports.APIKey{}, invalid("scopes", "unknown scope %q: the scopes are %v", sc, Scopes)
		}
	}
	scopes = slices.Compact(slices.Sorted(slices.Values(scopes)))
	idBytes := make([]byte, 8)
	_, _ = rand.Read(idBytes)
	secret := randomText(32)
	k := ports.APIKey{ID: hex.EncodeToString(idBytes), Client: client, Name: name, Scopes: scopes, SecretHash: digest(secret),
		CreatedAt: s.d.Clock.Now().UTC()}
	if err := s.d.APIKeys.Create(ctx, k); err != nil {
		return "", k, err
	}
	return keyPrefix + k.ID + "_" + secret, k, nil
}

// APIKeys lists a client's keys ("" for every client), newest first.
func (s *Service) APIKeys(ctx context.Context, client string) ([]ports.APIKey, error) {
	return s.d.APIKeys.List(ctx, client)
}

// RevokeAPIKey stops a key from working, at once.
func (s *Service) RevokeAPIKey(ctx context.Context, id string) error {
	err := s.d.APIKeys.Revoke(ctx, id, s.d.Clock.Now().UTC())
	if errors.Is(err, ports.ErrNotFound) {
		return fmt.Errorf("api key %s: %w", id, ErrNotFound)
	}
	return err
}

// LooksLikeAPIKey tells an API key from a token, by its prefix.
func LooksLikeAPIKey(s string) bool { return strings.HasPrefix(s, keyPrefix) }

// AuthenticateKey returns the principal of an API key, or ErrUnauthorized
// for a key that is malformed, unknown, revoked or wrong.
func (s *Service) AuthenticateKey(ctx context.Context, raw string) (ports.Principal, error) {
	id, secret, ok := strings.Cut(strings.TrimPrefix(raw, keyPrefix), "_")
	if !ok || !LooksLikeAPIKey(raw) || id == "" || secret == "" {
		return ports.Principal{}, fmt.Errorf("malformed api key: %w", ErrUnauthorized)
	}
	k, err := s.d.APIKeys.Get(ctx, id)
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return ports.Principal{}, fmt.Errorf("unknown api key: %w", ErrUnauthorized)
	case err != nil:
		return ports.Principal{}, err
	case !sameDigest(digest(secret), k.SecretHash):
		return ports.Principal{}, fmt.Errorf("wrong api key: %w", ErrUnauthorized)
	case !k.RevokedAt.IsZero():
		return ports.Principal{}, fmt.Errorf("the api key was revoked: %w", ErrUnauthorized)
	}
	if now := s.d.Clock.Now().UTC(); now.Sub(k.LastUsedAt) >= lastUsedEvery {
		// Best effort: failing to note the time must not refuse the call.
		_ = s.d.APIKeys.Used(ctx, k.ID, now)
	}
	return ports.Principal{Kind: ports.PrincipalAPIKey, Subject: k.ID, Client: k.Client, Scopes: k.Scopes}, nil
}
