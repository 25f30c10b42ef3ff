package identity

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// HashParams are argon2id's costs. The defaults are OWASP's minimum for
// argon2id (19 MiB, 2 passes, 1 lane): about 30 ms a sign-in here, and
// 19 MiB of memory per sign-in in flight.
type HashParams struct {
	MemoryKiB uint32
	Passes    uint32
	Lanes     uint8
}

// DefaultHashParams are the production costs.
var DefaultHashParams = HashParams{MemoryKiB: 19 * 1024, Passes: 2, Lanes: 1}

const (
	saltLen = 16
	keyLen  = 32
)

var b64 = base64.RawStdEncoding

// hashPassword returns the PHC string of argon2id over password with a
// fresh salt: $argon2id$v=19$m=...,t=...,p=...$salt$hash.
func hashPassword(password string, p HashParams) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Passes, p.MemoryKiB, p.Lanes, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Passes, p.Lanes,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// checkPassword reports whether password matches the PHC string, with the
// costs the string names, comparing in constant time.
func checkPassword(password, phc string) (bool, error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("stored password hash is not argon2id")
	}
	var version int
	var p HashParams
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, fmt.Errorf("stored password hash: version %q", parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Passes, &p.Lanes); err != nil {
		return false, fmt.Errorf("stored password hash: parameters %q", parts[3])
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("stored password hash: salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, fmt.Errorf("stored password hash: key: %v", err)
	}
	got := argon2.IDKey([]byte(password), salt, p.Passes, p.MemoryKiB, p.Lanes, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// gate bounds the password hashes in flight: argon2id holds its memory
// cost (19 MiB by default) for each, so forty sign-ins at once would hold
// 760 MiB, and more hashes than cores only make each one slower.
type gate chan struct{}

// enter waits for a turn until ctx ends.
func (g gate) enter(ctx context.Context) error {
	select {
	case g <- struct{}{}:
		return nil
	default:
	}
	select {
	case g <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g gate) leave() { <-g }

// hash hashes a new password in its turn. It is an admin's or the
// operator's request: it waits as long as its context lets it.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := s.hashing.enter(ctx); err != nil {
		return "", fmt.Errorf("hash a password: %w", err)
	}
	defer s.hashing.leave()
	return hashPassword(password, s.cfg.Hash)
}

// check checks a password in its turn, waiting at most HashWait: anyone
// can ask for a sign-in, so a sign-in that gets no turn is refused as busy
// rather than queued without bound.
func (s *Service) check(ctx context.Context, password, phc string) (bool, error) {
	wait, cancel := context.WithTimeout(ctx, s.cfg.HashWait)
	defer cancel()
	if err := s.hashing.enter(wait); err != nil {
		return false, &ThrottledError{Reason: "too many sign-ins are being checked at once", RetryAfter: time.Second}
	}
	defer s.hashing.leave()
	return checkPassword(password, phc)
}
