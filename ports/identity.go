package ports

import (
	"context"
	"time"
)

// Roles of users.
const (
	RoleCustomer = "customer"
	RoleMarketer = "marketer"
	RoleAdmin    = "admin"
)

// User is someone who signs in: a customer, a marketer or an admin of one
// client. A customer's username is also their points account and wallet.
type User struct {
	Username     string    `json:"username"`
	Client       string    `json:"client"`
	Role         string    `json:"role"`
	PasswordHash string    `json:"-"` // argon2id, PHC string
	CreatedAt    time.Time `json:"created_at"`
}

// Users stores users.
type Users interface {
	// Create stores a new user; ErrConflict if the username is taken.
	Create(ctx context.Context, u User) error
	// Get returns a user, or ErrNotFound.
	Get(ctx context.Context, username string) (User, error)
	// List returns a client's users by username ("" for every client).
	List(ctx context.Context, client string) ([]User, error)
	// SetPassword replaces a user's password hash (ErrNotFound).
	SetPassword(ctx context.Context, username, hash string) error
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
	ID          string    `json:"id"`
	Username    string    `json:"username"`
	RefreshHash string    `json:"-"` // of the current refresh token's secret
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	RevokedAt   time.Time `json:"revoked_at,omitzero"`
}

// Sessions stores sign-ins.
type Sessions interface {
	// Create stores a new session (ErrConflict if the id exists).
	Create(ctx context.Context, s Session) error
	// Get returns a session, or ErrNotFound.
	Get(ctx context.Context, id string) (Session, error)
	// Rotate replaces the session's refresh hash and expiry if the hash
	// is still oldHash and the session is not revoked; ErrConflict
	// otherwise (the token was used already, or the session ended).
	Rotate(ctx context.Context, id, oldHash, newHash string, expiresAt time.Time) error
	// Revoke ends a session at `at`, once (ErrNotFound).
	Revoke(ctx context.Context, id string, at time.Time) error
}

// Throttle counts failures (of sign-ins) per key.
type Throttle interface {
	// Fail records a failure of key at `at`, forgetting the key's
	// failures before `forget`.
	Fail(ctx context.Context, key string, at, forget time.Time) error
	// Failures returns key's failures since `since`, oldest first.
	Failures(ctx context.Context, key string, since time.Time) ([]time.Time, error)
	// Clear forgets key's failures (after a success).
	Clear(ctx context.Context, key string) error
}

// Accounts records which client a points account belongs to, so that an
// API client reaches only its own client's accounts.
type Accounts interface {
	// Owner returns the client an account belongs to, or ErrNotFound.
	Owner(ctx context.Context, account string) (string, error)
	// Claim gives the account to client unless it belongs to someone
	// already, and returns its owner either way.
	Claim(ctx context.Context, account, client string) (string, error)
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
