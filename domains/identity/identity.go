// Package identity holds who may use the store: users (customers,
// marketers, admins of a client) who sign in with a password and get
// short-lived access tokens and a refresh token, API keys of programs, the
// throttling of sign-ins, and which client each points account belongs to.
// What a principal may do on each route is the HTTP adapter's policy table;
// this package answers who the principal is and what it reaches.
package identity

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/unicornstore/unicorn/ports"
)

// Errors. The HTTP adapter maps them to statuses.
var (
	ErrInvalid        = ports.ErrInvalid // a *ports.FieldError names the field
	ErrExists         = errors.New("exists already")
	ErrNotFound       = errors.New("not found")
	ErrBadCredentials = errors.New("wrong username or password")
	ErrUnauthorized   = errors.New("missing, expired or revoked credentials")
	ErrForbidden      = errors.New("not allowed")
	ErrThrottled      = errors.New("too many failed sign-ins")
)

// invalid says which field of a request is wrong.
var invalid = ports.Invalid

// ThrottledError says when to try again; errors.Is(err, ErrThrottled).
type ThrottledError struct {
	What       string // "account" or "address"
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("too many failed sign-ins for this %s: try again in %s", e.What, e.RetryAfter.Round(time.Second))
}

func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// Scopes an API key can hold.
const (
	ScopePointsRead  = "points:read"
	ScopePointsWrite = "points:write"
)

// Scopes are every scope, in the order they are listed.
var Scopes = []string{ScopePointsRead, ScopePointsWrite}

// TokenIssuer signs access tokens.
type TokenIssuer interface {
	Issue(p ports.Principal, now time.Time) (ports.AccessToken, error)
}

// Deps are the ports identity works through.
type Deps struct {
	Users    ports.Users
	APIKeys  ports.APIKeys
	Sessions ports.Sessions
	Throttle ports.Throttle
	Accounts ports.Accounts
	Tokens   TokenIssuer
	Clock    ports.Clock
	IDs      ports.IDs
}

// Config holds identity's choices; zero values take the defaults.
type Config struct {
	Hash HashParams
	// SessionTTL is how long a refresh token lives unused (30 days).
	SessionTTL time.Duration
	// UserFailures failed sign-ins of one username within Window lock it
	// until the oldest of them is Window old (5 in 15 minutes).
	UserFailures int
	// AddressFailures is the same for one network address (20).
	AddressFailures int
	Window          time.Duration
}

func (c Config) withDefaults() Config {
	if c.Hash == (HashParams{}) {
		c.Hash = DefaultHashParams
	}
	if c.SessionTTL <= 0 {
		c.SessionTTL = 30 * 24 * time.Hour
	}
	if c.UserFailures <= 0 {
		c.UserFailures = 5
	}
	if c.AddressFailures <= 0 {
		c.AddressFailures = 20
	}
	if c.Window <= 0 {
		c.Window = 15 * time.Minute
	}
	return c
}

// Service is identity's use cases.
type Service struct {
	d     Deps
	cfg   Config
	dummy string // a hash to check unknown usernames against, so they take as long
}

// NewService returns the identity service.
func NewService(d Deps, cfg Config) (*Service, error) {
	if d.Users == nil || d.APIKeys == nil || d.Sessions == nil || d.Throttle == nil || d.Accounts == nil ||
		d.Tokens == nil || d.Clock == nil || d.IDs == nil {
		return nil, errors.New("identity: every dependency is required")
	}
	cfg = cfg.withDefaults()
	dummy, err := hashPassword("not a password anyone has", cfg.Hash)
	if err != nil {
		return nil, err
	}
	return &Service{d: d, cfg: cfg, dummy: dummy}, nil
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9._@:-]{1,128}$`)

// Roles are the roles a user can have.
var Roles = []string{ports.RoleCustomer, ports.RoleMarketer, ports.RoleAdmin}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 12

// CreateUser adds a user. A customer's username is also a points account:
// it is claimed for the user's client, and refused if another client's
// program already uses that account.
func (s *Service) CreateUser(ctx context.Context, username, client, role, password string) (ports.User, error) {
	switch {
	case !namePattern.MatchString(username):
		return ports.User{}, invalid("username", "a username is 1 to 128 characters from A-Z a-z 0-9 . _ @ : -")
	case !namePattern.MatchString(client):
		return ports.User{}, invalid("client", "a client is 1 to 128 characters from A-Z a-z 0-9 . _ @ : -")
	case !slices.Contains(Roles, role):
		return ports.User{}, invalid("role", "role must be one of %v", Roles)
	case len(password) < MinPasswordLength:
		return ports.User{}, invalid("password", "a password has at least %d characters", MinPasswordLength)
	case len(password) > 1024:
		return ports.User{}, invalid("password", "a password has at most 1024 characters")
	}
	hash, err := hashPassword(password, s.cfg.Hash)
	if err != nil {
		return ports.User{}, err
	}
	owner, err := s.d.Accounts.Claim(ctx, username, client)
	if err != nil {
		return ports.User{}, err
	}
	if owner != client {
		return ports.User{}, fmt.Errorf("username %s is an account of another client: %w", username, ErrExists)
	}
	u := ports.User{Username: username, Client: client, Role: role, PasswordHash: hash, CreatedAt: s.d.Clock.Now().UTC()}
	if err := s.d.Users.Create(ctx, u); err != nil {
		if errors.Is(err, ports.ErrConflict) {
			return u, fmt.Errorf("user %s: %w", username, ErrExists)
		}
		return u, err
	}
	return u, nil
}

// Users lists a client's users.
func (s *Service) Users(ctx context.Context, client string) ([]ports.User, error) {
	return s.d.Users.List(ctx, client)
}

// User returns one user.
func (s *Service) User(ctx context.Context, username string) (ports.User, error) {
	u, err := s.d.Users.Get(ctx, username)
	if errors.Is(err, ports.ErrNotFound) {
		return u, fmt.Errorf("user %s: %w", username, ErrNotFound)
	}
	return u, err
}

// SetPassword replaces a user's password.
func (s *Service) SetPassword(ctx context.Context, username, password string) error {
	if len(password) < MinPasswordLength || len(password) > 1024 {
		return invalid("password", "a password has %d to 1024 characters", MinPasswordLength)
	}
	hash, err := hashPassword(password, s.cfg.Hash)
	if err != nil {
		return err
	}
	err = s.d.Users.SetPassword(ctx, username, hash)
	if errors.Is(err, ports.ErrNotFound) {
		return fmt.Errorf("user %s: %w", username, ErrNotFound)
	}
	return err
}
