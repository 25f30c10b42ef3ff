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
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/unicornstore/unicorn/limits"
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

// Throttle keys: what a sign-in attempt is counted under.
func pairKey(username, address string) string { return "pair:" + username + "|" + address }
func addressKey(address string) string        { return "addr:" + address }
func userKey(username string) string          { return "user:" + username }

// AddressGroup is the address sign-ins (and requests without
// credentials, at the HTTP edge) are counted under: an IPv4
// address as it is (also when it arrives IPv4-mapped, so that one host is
// not two), an IPv6 address by its /64, the block a single host or home
// network is given and draws addresses from at will; counting each IPv6
// address alone would let one machine start afresh with every attempt.
// Anything else (the store's own calls pass "") is used as it is, cut to
// an id's length.
func AddressGroup(address string) string {
	a, err := netip.ParseAddr(address)
	if err != nil {
		return address[:min(len(address), limits.IDChars)]
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64) // never fails for an IPv6 address
	return p.String()
}

// SignIn checks a username and password and starts a session.
//
// Each attempt first takes a slot under its throttle keys (Config): the
// username at this address, the address, and, from an address the user
// has not signed in from, the username. It takes them all at once and
// atomically, before the password is checked, so concurrent attempts
// cannot outrun the count; a full key refuses with a *ThrottledError
// saying how long to wait. A wrong password keeps its slots: it is a
// failure. A right one gives them back, forgets the failures of the
// username at this address, and makes the address known for the user.
func (s *Service) SignIn(ctx context.Context, username, password, address string) (Tokens, error) {
	// Nothing is recorded for a name no user can have, or a password
	// nobody was given.
	if !namePattern.MatchString(username) {
		return Tokens{}, invalid("username", "a username is %s", limits.IDRule)
	}
	if len(password) > limits.PasswordChars {
		return Tokens{}, invalid("password", "a password has at most %d characters", limits.PasswordChars)
	}
	now := s.d.Clock.Now().UTC()
	addr := AddressGroup(address)
	known, err := s.d.Throttle.Known(ctx, username, addr, now)
	if err != nil {
		return Tokens{}, err
	}
	keys := []ports.ThrottleKey{{Key: pairKey(username, addr), Limit: s.cfg.PairFailures}, {Key: addressKey(addr), Limit: s.cfg.AddressFailures}}
	if !known {
		keys = append(keys, ports.ThrottleKey{Key: userKey(username), Limit: s.cfg.UserFailures})
	}
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.Key
	}
	attempt := s.d.IDs.NewID()
	if err := s.d.Throttle.Take(ctx, attempt, keys, now, now.Add(-s.cfg.Window)); err != nil {
		return Tokens{}, s.refusal(err, keys, now)
	}
	u, ok, err := s.verify(ctx, username, password)
	if err != nil {
		// Not checked (busy), or the store failed: no failure to count.
		// The slots go back even if the caller has gone.
		return Tokens{}, errors.Join(err, s.d.Throttle.Release(context.WithoutCancel(ctx), attempt, names))
	}
	if !ok {
		return Tokens{}, ErrBadCredentials
	}
	if err := s.d.Throttle.Release(ctx, attempt, names[1:]); err != nil { // the pair is cleared next
		return Tokens{}, err
	}
	if err := s.d.Throttle.Clear(ctx, names[0]); err != nil {
		return Tokens{}, err
	}
	if err := s.d.Throttle.Remember(ctx, username, addr, now, now.Add(s.cfg.KnownFor)); err != nil {
		return Tokens{}, err
	}
	secret := randomText(32)
	sess := ports.Session{ID: randomText(16), Username: u.Username, RefreshHash: digest(secret), CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	if err := s.d.Sessions.Create(ctx, sess); err != nil {
		return Tokens{}, err
	}
	return s.tokens(u, sess.ID, secret, now)
}

// verify checks the password of a user. An unknown username is checked
// against a dummy hash, so that it takes as long as a wrong password.
func (s *Service) verify(ctx context.Context, username, password string) (ports.User, bool, error) {
	u, err := s.d.Users.Get(ctx, username)
	switch {
	case errors.Is(err, ports.ErrNotFound):
		_, err := s.check(ctx, password, s.dummy)
		return u, false, err
	case err != nil:
		return u, false, err
	}
	ok, err := s.check(ctx, password, u.PasswordHash)
	return u, ok, err
}

// refusal turns a full throttle key into a *ThrottledError that says why
// and how long: until the oldest failure that keeps the key full leaves
// the window.
func (s *Service) refusal(err error, keys []ports.ThrottleKey, now time.Time) error {
	var full *ports.ThrottleFullError
	if !errors.As(err, &full) {
		if errors.Is(err, ports.ErrConflict) {
			// The store gave up on a key too many attempts write at once.
			return &ThrottledError{Reason: "too many sign-ins at once", RetryAfter: time.Second}
		}
		return err
	}
	reasons := map[string]string{
		keys[0].Key: "too many failed sign-ins for this account from this address",
		keys[1].Key: "too many failed sign-ins from this address",
	}
	if len(keys) > 2 {
		reasons[keys[2].Key] = "too many failed sign-ins for this account from addresses it has not signed in from"
	}
	limit := 1
	for _, k := range keys {
		if k.Key == full.Key {
			limit = k.Limit
		}
	}
	wait := s.cfg.Window
	if n := len(full.Attempts); n >= limit && limit > 0 {
		wait = full.Attempts[n-limit].Add(s.cfg.Window).Sub(now)
	}
	return &ThrottledError{Reason: reasons[full.Key], RetryAfter: max(wait, time.Second)}
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
	if !ok || id == "" || secret == "" || len(refresh) > limits.RefreshTokenChars {
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

// Which refresh token of its session a secret is.
type refreshToken int

const (
	wrongToken   refreshToken = iota // never one of the session's: a guess
	currentToken                     // the one to trade now
	usedToken                        // one already traded: a copy
)

func which(sess ports.Session, secret string) refreshToken {
	h := digest(secret)
	if sameDigest(h, sess.RefreshHash) {
		return currentToken
	}
	for _, prev := range sess.PreviousHashes {
		if sameDigest(h, prev) {
			return usedToken
		}
	}
	return wrongToken
}

// Refresh trades a refresh token for new tokens; the old refresh token
// stops working. Presenting a refresh token that was already traded means
// it was copied: the whole session ends, for its owner too. A secret that
// was never the session's changes nothing: the session id is in every
// access token, so anyone who saw one could otherwise end the session.
func (s *Service) Refresh(ctx context.Context, refresh string) (Tokens, error) {
	now := s.d.Clock.Now().UTC()
	sess, secret, err := s.session(ctx, refresh, now)
	if err != nil {
		return Tokens{}, err
	}
	switch which(sess, secret) {
	case wrongToken:
		return Tokens{}, fmt.Errorf("wrong refresh token: %w", ErrUnauthorized)
	case usedToken:
		if err := s.d.Sessions.Revoke(ctx, sess.ID, now); err != nil {
			return Tokens{}, err
		}
		return Tokens{}, fmt.Errorf("the refresh token was used already; the session is ended: %w", ErrUnauthorized)
	}
	next := randomText(32)
	rotated := sess
	rotated.RefreshHash, rotated.ExpiresAt = digest(next), now.Add(s.cfg.SessionTTL)
	previous := append(slices.Clone(sess.PreviousHashes), sess.RefreshHash)
	rotated.PreviousHashes = previous[max(0, len(previous)-limits.PreviousRefreshTokens):]
	if err := s.d.Sessions.Rotate(ctx, rotated, sess.RefreshHash); err != nil {
		if errors.Is(err, ports.ErrConflict) {
			// A concurrent refresh with the same token won; presenting
			// it once more will end the session.
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

// SignOut ends the session of a refresh token (the current one, or one it
// traded already), or of an access token's principal. Ending an unknown or
// ended session is not an error, and a wrong secret ends nothing.
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
		if which(sess, secret) == wrongToken {
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
