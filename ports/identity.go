package ports

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Roles of users.
const (
	RoleCustomer = "customer"
	RoleMarketer = "marketer"
	RoleAdmin    = "admin"
)

// Roles are every role, the least first.
var Roles = []string{RoleCustomer, RoleMarketer, RoleAdmin}

// User is someone who signs in: a customer, a marketer or an admin of one
// client. A customer's username is also their points account and wallet.
type User struct {
	Username     string    `json:"username"`
	Client       string    `json:"client"`
	Role         string    `json:"role"`
	PasswordHash string    `json:"-"` // argon2id, PHC string
	CreatedAt    time.Time `json:"created_at"`
}

// Users stores users. Usernames are made of ASCII characters (limits.ID)
// and unique regardless of case: "Derick" is refused while "derick"
// exists. Lookups are exact: a username is an account id, and those are
// case-sensitive.
type Users interface {
	People
	// Create stores a new user; ErrConflict if the username is taken, in
	// any mix of upper and lower case.
	Create(ctx context.Context, u User) error
	// SetPassword replaces a user's password hash (ErrNotFound).
	SetPassword(ctx context.Context, username, hash string) error
}

// People says who the store's people are: the store's own users, or,
// where people sign in at an identity provider (a Cognito user pool in
// the cloud), the provider's. A user read from a provider has no
// password hash.
type People interface {
	// Get returns the user of exactly this username, or ErrNotFound.
	Get(ctx context.Context, username string) (User, error)
	// List returns a client's users by username ("" for every client).
	List(ctx context.Context, client string) ([]User, error)
}

// RoleOfGroups is the role a provider's groups give a user: the least
// of the roles the groups name (customer, then marketer, then admin),
// whatever their order, or "" when none does.
func RoleOfGroups(groups []string) string {
	for _, role := range Roles {
		if slices.Contains(groups, role) {
			return role
		}
	}
	return ""
}

// APIKey is a credential of a program calling the API for a client. Only
// a hash of its secret is stored.
type APIKey struct {
	ID         string    `json:"id"`
	Client     string    `json:"client"`
	Name       string    `json:"name"`
	Scopes     []string  `json:"scopes"`
	SecretHash string    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// APIKeys stores API keys.
type APIKeys interface {
	// Create stores a new key (ErrConflict if the id exists).
	Create(ctx context.Context, k APIKey) error
	// Get returns a key, or ErrNotFound.
	Get(ctx context.Context, id string) (APIKey, error)
	// List returns a client's keys, newest first ("" for every client).
	List(ctx context.Context, client string) ([]APIKey, error)
	// Revoke marks a key revoked at `at`, once (ErrNotFound).
	Revoke(ctx context.Context, id string, at time.Time) error
	// Used records when a key was last used.
	Used(ctx context.Context, id string, at time.Time) error
}

// Session is a sign-in. Its refresh token is "<id>.<secret>" and only a
// hash of the secret is kept; a refresh token is used once: refreshing
// replaces it with the next one of the same session. Access tokens carry
// the session id, so ending the session ends them too.
type Session struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	RefreshHash string `json:"-"` // of the current refresh token's secret
	// PreviousHashes are the hashes of the refresh tokens this session
	// rotated away, oldest first (the most recent few): presenting one of
	// them again is reuse of a copied token, unlike a wrong secret.
	PreviousHashes []string  `json:"-"`
	CreatedAt      time.Time `json:"created_at"`
	ExpiresAt      time.Time `json:"expires_at"`
	RevokedAt      time.Time `json:"revoked_at,omitzero"`
}

// Sessions stores sign-ins.
type Sessions interface {
	// Create stores a new session (ErrConflict if the id exists).
	Create(ctx context.Context, s Session) error
	// Get returns a session, or ErrNotFound.
	Get(ctx context.Context, id string) (Session, error)
	// Rotate stores next's refresh hash, previous hashes and expiry in the
	// session next.ID if its refresh hash is still oldHash and it is not
	// revoked; ErrConflict otherwise (the token was used already, or the
	// session ended).
	Rotate(ctx context.Context, next Session, oldHash string) error
	// Revoke ends a session at `at`, once (ErrNotFound).
	Revoke(ctx context.Context, id string, at time.Time) error
}

// Throttle counts sign-in attempts under keys (a username, an address, a
// username at an address) in a sliding window, and remembers the addresses
// each user signed in from. The identity domain chooses the keys, their
// limits and the window; the store only makes taking a slot atomic.
type Throttle interface {
	// Take records the attempt id at `at` under every key, all or none,
	// if each key holds fewer than its Limit attempts at or after `since`;
	// otherwise it records nothing and returns a *ThrottleFullError naming
	// a full key. Concurrent calls never overfill a key. Attempts before
	// `since` (of any key) may be forgotten.
	Take(ctx context.Context, id string, keys []ThrottleKey, at, since time.Time) error
	// Release removes the attempt id from keys: it was not a failure.
	Release(ctx context.Context, id string, keys []string) error
	// Clear forgets every attempt under key.
	Clear(ctx context.Context, key string) error
	// Remember records that username signed in from address, known until
	// `until`; it may forget the user's addresses that are no longer known
	// at `at`.
	Remember(ctx context.Context, username, address string, at, until time.Time) error
	// Known reports whether username signed in from address and that is
	// still remembered at `at`.
	Known(ctx context.Context, username, address string, at time.Time) (bool, error)
}

// ThrottleKey is a count of attempts and how many it may hold.
type ThrottleKey struct {
	Key   string
	Limit int
}

// ThrottleFullError is Take's refusal: Key holds its limit of attempts;
// Attempts are their times since the window's start, oldest first.
type ThrottleFullError struct {
	Key      string
	Attempts []time.Time
}

func (e *ThrottleFullError) Error() string {
	return fmt.Sprintf("throttle key %s holds %d attempts", e.Key, len(e.Attempts))
}

// Secrets keeps the store's own secrets, such as its token signing key.
type Secrets interface {
	// Secret returns the secret named name, storing create()'s result first
	// if there is none; concurrent first calls agree on one value.
	Secret(ctx context.Context, name string, create func() ([]byte, error)) ([]byte, error)
}

// Principal kinds.
const (
	PrincipalUser   = "user"
	PrincipalAPIKey = "apikey"
)

// Principal is who a request comes from: a signed-in user (from an access
// token) or an API client (from a key).
type Principal struct {
	Kind      string   // PrincipalUser or PrincipalAPIKey
	Subject   string   // the username, or the key id
	Client    string   // the client the principal belongs to
	Role      string   // users: customer, marketer or admin
	Scopes    []string // API keys: what they may do
	SessionID string   // users signed in here: their session
}

// AccessToken is a signed, short-lived token for a principal.
type AccessToken struct {
	Token     string
	ExpiresAt time.Time
}
