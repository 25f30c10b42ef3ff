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
	"slices"
	"time"

	"github.com/unicornstore/unicorn/limits"
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
	// ErrPeopleElsewhere: people are managed at the identity provider
	// (Deps.People), not by the store.
	ErrPeopleElsewhere = errors.New("people are managed at the identity provider")
)

// invalid says which field of a request is wrong.
var invalid = ports.Invalid

// ThrottledError refuses a sign-in and says when to try again;
// errors.Is(err, ErrThrottled).
type ThrottledError struct {
	Reason     string // what is throttled, for people
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%s: try again in %s", e.Reason, e.RetryAfter.Round(time.Second))
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
	Users ports.Users
	// People, when set, is who the store's people are instead of Users:
	// an identity provider's (Cognito's in the cloud). Users are then
	// only read from it; creating one or setting a password is done at
	// the provider.
	People   ports.People
	APIKeys  ports.APIKeys
	Sessions ports.Sessions
	Throttle ports.Throttle
	Tokens   TokenIssuer
	Clock    ports.Clock
	IDs      ports.IDs
}

// Config holds identity's choices; zero values take the defaults.
type Config struct {
	Hash HashParams
	// SessionTTL is how long a refresh token lives unused (30 days).
	SessionTTL time.Duration

	// Sign-in throttling (docs/decisions/0009-identity-and-access.md).
	// Failed sign-ins within Window are counted per username at an
	// address (PairFailures, 5), per address (AddressFailures, 20) and per
	// username from the addresses it has not signed in from within
	// KnownFor (UserFailures, 10; 30 days). A count at its limit refuses
	// further attempts it covers, even with the right password, until its
	// oldest failure leaves the window (15 minutes). An address a user
	// signed in from is not counted per username, so failures elsewhere
	// never lock the user out there.
	PairFailures    int
	AddressFailures int
	UserFailures    int
	Window          time.Duration
	KnownFor        time.Duration

	// Hashers is how many passwords are hashed at once (4): argon2id holds
	// Hash.MemoryKiB for each. A sign-in that gets no turn within HashWait
	// (1 s) is refused as busy instead of queueing.
	Hashers  int
	HashWait time.Duration
}

func (c Config) withDefaults() Config {
	if c.Hash == (HashParams{}) {
		c.Hash = DefaultHashParams
	}
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	setDuration := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	setDuration(&c.SessionTTL, 30*24*time.Hour)
	set(&c.PairFailures, 5)
	set(&c.AddressFailures, 20)
	set(&c.UserFailures, 10)
	setDuration(&c.Window, 15*time.Minute)
	setDuration(&c.KnownFor, 30*24*time.Hour)
	set(&c.Hashers, 4)
	setDuration(&c.HashWait, time.Second)
	return c
}

// Service is identity's use cases.
type Service struct {
	d       Deps
	cfg     Config
	dummy   string // a hash to check unknown usernames against, so they take as long
	hashing gate   // turns to hash a password
}

// NewService returns the identity service.
func NewService(d Deps, cfg Config) (*Service, error) {
	if d.Users == nil || d.APIKeys == nil || d.Sessions == nil || d.Throttle == nil ||
		d.Tokens == nil || d.Clock == nil || d.IDs == nil {
		return nil, errors.New("identity: every dependency is required")
	}
	cfg = cfg.withDefaults()
	dummy, err := hashPassword("not a password anyone has", cfg.Hash)
	if err != nil {
		return nil, err
	}
	return &Service{d: d, cfg: cfg, dummy: dummy, hashing: make(gate, cfg.Hashers)}, nil
}

var namePattern = limits.ID

// Roles are the roles a user can have.
var Roles = ports.Roles

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 12

// CreateUser adds a user. A customer's username is also a points account:
// it is claimed for the user's client, and refused if another client's
// program already uses that account.
func (s *Service) CreateUser(ctx context.Context, username, client, role, password string) (ports.User, error) {
	if s.d.People != nil {
		return ports.User{}, fmt.Errorf("add %s to the identity provider's directory instead: %w", username, ErrPeopleElsewhere)
	}
	switch {
	case !namePattern.MatchString(username):
		return ports.User{}, invalid("username", "a username is 1 to 128 characters from A-Z a-z 0-9 . _ @ : -")
	case !limits.PathName(username):
		return ports.User{}, invalid("username", "a username is not . or ..: /users/{username}/wallet could not reach it")
	case !namePattern.MatchString(client):
		return ports.User{}, invalid("client", "a client is 1 to 128 characters from A-Z a-z 0-9 . _ @ : -")
	case !slices.Contains(Roles, role):
		return ports.User{}, invalid("role", "role must be one of %v", Roles)
	case len(password) < MinPasswordLength:
		return ports.User{}, invalid("password", "a password has at least %d characters", MinPasswordLength)
	case len(password) > limits.PasswordChars:
		return ports.User{}, invalid("password", "a password has at most %d characters", limits.PasswordChars)
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return ports.User{}, err
	}
	u := ports.User{Username: username, Client: client, Role: role, PasswordHash: hash, CreatedAt: s.d.Clock.Now().UTC()}
	if err := s.d.Users.Create(ctx, u); err != nil {
		if errors.Is(err, ports.ErrConflict) {
			return u, fmt.Errorf("username %s is taken (usernames are unique regardless of case): %w", username, ErrExists)
		}
		return u, err
	}
	return u, nil
}

// Users lists a client's users.
func (s *Service) Users(ctx context.Context, client string) ([]ports.User, error) {
	return s.people().List(ctx, client)
}

// people is where users are read: the provider's when there is one.
func (s *Service) people() ports.People {
	if s.d.People != nil {
		return s.d.People
	}
	return s.d.Users
}

// User returns one user.
func (s *Service) User(ctx context.Context, username string) (ports.User, error) {
	u, err := s.people().Get(ctx, username)
	if errors.Is(err, ports.ErrNotFound) {
		return u, fmt.Errorf("user %s: %w", username, ErrNotFound)
	}
	return u, err
}

// SetPassword replaces a user's password.
func (s *Service) SetPassword(ctx context.Context, username, password string) error {
	if s.d.People != nil {
		return fmt.Errorf("change the password of %s at the identity provider instead: %w", username, ErrPeopleElsewhere)
	}
	if len(password) < MinPasswordLength || len(password) > limits.PasswordChars {
		return invalid("password", "a password has %d to %d characters", MinPasswordLength, limits.PasswordChars)
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	err = s.d.Users.SetPassword(ctx, username, hash)
	if errors.Is(err, ports.ErrNotFound) {
		return fmt.Errorf("user %s: %w", username, ErrNotFound)
	}
	return err
}
