package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

// Tokens are what a sign-in or a refresh gives: an access token to send
// with each request and a refresh token to get the next one.
type Tokens struct {
	AccessToken  string
	ExpiresAt    time.Time
	ExpiresIn    time.Duration // from now: what the client should count with
	RefreshToken string
	User         ports.User
}

// randomText returns n random bytes as URL-safe text.
func randomText(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

func digest(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func sameDigest(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// throttled refuses a key with `limit` failures in the window, saying when
// the oldest of them leaves it.
func (s *Service) throttled(ctx context.Context, key, what string, limit int, now time.Time) error {
	failures, err := s.d.Throttle.Failures(ctx, key, now.Add(-s.cfg.Window))
	if err != nil || len(failures) < limit {
		return err
	}
	wait := failures[len(failures)-limit].Add(s.cfg.Window).Sub(now)
	return &ThrottledError{What: what, RetryAfter: max(wait, time.Second)}
}

// SignIn checks a username and password and starts a session. After
// UserFailures wrong passwords for a username (or AddressFailures from one
// address) within the window, it refuses even the right password until
// the window has passed: an *ThrottledError says how long.
func (s *Service) SignIn(ctx context.Context, username, password, address string) (Tokens, error) {
	now := s.d.Clock.Now().UTC()
	userKey, addrKey := "user:"+username, "addr:"+address
	if err := s.throttled(ctx, userKey, "account", s.cfg.UserFailures, now); err != nil {
		return Tokens{}, err
	}
	if address != "" {
		if err := s.throttled(ctx, addrKey, "address", s.cfg.AddressFailures, now); err != nil {
			return Tokens{}, err
		}
	}
	u, err := s.d.Users.Get(ctx, username)
	ok := false
	switch {
	case errors.Is(err, ports.ErrNotFound) || !namePattern.MatchString(username):
		_, _ = checkPassword(password, s.dummy) // as long as for a real user
	case err != nil:
		return Tokens{}, err
	default:
		if ok, err = checkPassword(password, u.PasswordHash); err != nil {
			return Tokens{}, err
		}
	}
	if !ok {
		forget := now.Add(-s.cfg.Window)
		if err := s.d.Throttle.Fail(ctx, userKey, now, forget); err != nil {
			return Tokens{}, err
		}
		if address != "" {
			if err := s.d.Throttle.Fail(ctx, addrKey, now, forget); err != nil {
				return Tokens{}, err
			}
		}
		return Tokens{}, ErrBadCredentials
	}
	if err := s.d.Throttle.Clear(ctx, userKey); err != nil {
		return Tokens{}, err
	}
	secret := randomText(32)
	sess := ports.Session{ID: randomText(16), Username: u.Username, RefreshHash: digest(secret), CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	if err := s.d.Sessions.Create(ctx, sess); err != nil {
		return Tokens{}, err
	}
	return s.tokens(u, sess.ID, secret, now)
}

func (s *Service) tokens(u ports.User, sessionID, secret string, now time.Time) (Tokens, error) {
	at, err := s.d.Tokens.Issue(ports.Principal{Kind: ports.PrincipalUser, Subject: u.Username, Client: u.Client, Role: u.Role, SessionID: sessionID}, now)
	if err != nil {
		return Tokens{}, err
	}
	return Tokens{AccessToken: at.Token, ExpiresAt: at.ExpiresAt, ExpiresIn: at.ExpiresAt.Sub(now), RefreshToken: sessionID + "." + secret, User: u}, nil
}

// session finds the live session a refresh token belongs to.
func (s *Service) session(ctx context.Context, refresh string, now time.Time) (ports.Session, string, error) {
	id, secret, ok := strings.Cut(refresh, ".")
	if !ok || id == "" || secret == "" {
		return ports.Session{}, "", fmt.Errorf("malformed refresh token: %w", ErrUnauthorized)
	}
	sess, err := s.d.Sessions.Get(ctx, id)
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return sess, "", fmt.Errorf("unknown refresh token: %w", ErrUnauthorized)
	case err != nil:
		return sess, "", err
	case !sess.RevokedAt.IsZero():
		return sess, "", fmt.Errorf("the session was ended: %w", ErrUnauthorized)
	case !now.Before(sess.ExpiresAt):
		return sess, "", fmt.Errorf("the session expired: %w", ErrUnauthorized)
	}
	return sess, secret, nil
}

// Refresh trades a refresh token for new tokens; the old refresh token
// stops working. Presenting a refresh token that was already traded means
// it was copied: the whole session ends, for its owner too.
func (s *Service) Refresh(ctx context.Context, refresh string) (Tokens, error) {
	now := s.d.Clock.Now().UTC()
	sess, secret, err := s.session(ctx, refresh, now)
	if err != nil {
		return Tokens{}, err
	}
	if !sameDigest(digest(secret), sess.RefreshHash) {
		if err := s.d.Sessions.Revoke(ctx, sess.ID, now); err != nil {
			return Tokens{}, err
		}
		return Tokens{}, fmt.Errorf("the refresh token was used already; the session is ended: %w", ErrUnauthorized)
	}
	next := randomText(32)
	if err := s.d.Sessions.Rotate(ctx, sess.ID, sess.RefreshHash, digest(next), now.Add(s.cfg.SessionTTL)); err != nil {
		if errors.Is(err, ports.ErrConflict) {
			return Tokens{}, fmt.Errorf("the refresh token was used already: %w", ErrUnauthorized)
		}
		return Tokens{}, err
	}
	u, err := s.d.Users.Get(ctx, sess.Username)
	if err != nil {
		return Tokens{}, fmt.Errorf("the session's user is gone: %w", ErrUnauthorized)
	}
	return s.tokens(u, sess.ID, next, now)
}

// SignOut ends the session of a refresh token, or of an access token's
// principal. Ending an unknown or ended session is not an error.
func (s *Service) SignOut(ctx context.Context, refresh string, p *ports.Principal) error {
	now := s.d.Clock.Now().UTC()
	id := ""
	if refresh != "" {
		sess, secret, err := s.session(ctx, refresh, now)
		if errors.Is(err, ErrUnauthorized) {
			return nil
		}
		if err != nil {
			return err
		}
		if !sameDigest(digest(secret), sess.RefreshHash) {
			return nil
		}
		id = sess.ID
	} else if p != nil {
		id = p.SessionID
	}
	if id == "" {
		return invalid("refresh_token", "send the refresh token, or sign out with the access token of a session")
	}
	err := s.d.Sessions.Revoke(ctx, id, now)
	if errors.Is(err, ports.ErrNotFound) {
		return nil
	}
	return err
}

// Check confirms that a token's principal still stands: its session (when
// it has one of ours) is neither ended nor expired.
func (s *Service) Check(ctx context.Context, p ports.Principal) error {
	if p.SessionID == "" {
		return nil // a token of the cloud's identity provider: no session here
	}
	sess, err := s.d.Sessions.Get(ctx, p.SessionID)
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return fmt.Errorf("unknown session: %w", ErrUnauthorized)
	case err != nil:
		return err
	case !sess.RevokedAt.IsZero():
		return fmt.Errorf("signed out: %w", ErrUnauthorized)
	case sess.Username != p.Subject:
		return fmt.Errorf("the session is another user's: %w", ErrUnauthorized)
	}
	return nil
}
