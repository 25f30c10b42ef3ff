// Package cognito reads the store's people from a Cognito user pool, where
// they sign in in the cloud shape: their role is their group (customer,
// marketer, admin), their client the custom:client attribute (the store's
// when absent), as in the tokens the store accepts (adapters/jwtauth).
package cognito

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"

	"github.com/unicornstore/unicorn/ports"
)

// ClientAttribute is the attribute that names the client a user works for.
const ClientAttribute = "custom:client"

// Actions are the IAM actions the directory uses, on its user pool.
var Actions = []string{"cognito-idp:AdminGetUser", "cognito-idp:AdminListGroupsForUser", "cognito-idp:ListUsersInGroup"}

// API is what the directory asks of Cognito (the SDK's client has it).
type API interface {
	AdminGetUser(ctx context.Context, in *cip.AdminGetUserInput, opts ...func(*cip.Options)) (*cip.AdminGetUserOutput, error)
	AdminListGroupsForUser(ctx context.Context, in *cip.AdminListGroupsForUserInput, opts ...func(*cip.Options)) (*cip.AdminListGroupsForUserOutput, error)
	ListUsersInGroup(ctx context.Context, in *cip.ListUsersInGroupInput, opts ...func(*cip.Options)) (*cip.ListUsersInGroupOutput, error)
}

// Directory is a user pool's people, as ports.People.
type Directory struct {
	api           API
	pool          string
	defaultClient string
}

// NewDirectory reads the people of pool; a user without custom:client
// belongs to defaultClient (the store's).
func NewDirectory(api API, pool, defaultClient string) (*Directory, error) {
	if api == nil || pool == "" || defaultClient == "" {
		return nil, errors.New("cognito directory: a client, the user pool id and the default client are required")
	}
	return &Directory{api: api, pool: pool, defaultClient: defaultClient}, nil
}

// Get returns the user of exactly this username. Cognito finds users
// regardless of case where the pool says so; the store's lookups are
// exact (a username is an account id), so another case is not found.
func (d *Directory) Get(ctx context.Context, username string) (ports.User, error) {
	if username == "" {
		// Cognito refuses an empty name as invalid: nobody has it.
		return ports.User{}, fmt.Errorf("user %q: %w", username, ports.ErrNotFound)
	}
	out, err := d.api.AdminGetUser(ctx, &cip.AdminGetUserInput{UserPoolId: &d.pool, Username: &username})
	var missing *types.UserNotFoundException
	switch {
	case errors.As(err, &missing):
		return ports.User{}, fmt.Errorf("user %s: %w", username, ports.ErrNotFound)
	case err != nil:
		return ports.User{}, fmt.Errorf("cognito: get user %s: %w", username, err)
	case deref(out.Username) != username:
		return ports.User{}, fmt.Errorf("user %s: %w", username, ports.ErrNotFound)
	}
	groups, err := d.groups(ctx, username)
	if err != nil {
		return ports.User{}, err
	}
	return ports.User{Username: username, Client: d.client(out.UserAttributes), Role: ports.RoleOfGroups(groups),
		CreatedAt: timeOf(out.UserCreateDate)}, nil
}

func (d *Directory) groups(ctx context.Context, username string) ([]string, error) {
	var names []string
	var next *string
	for {
		out, err := d.api.AdminListGroupsForUser(ctx, &cip.AdminListGroupsForUserInput{UserPoolId: &d.pool, Username: &username, NextToken: next})
		if err != nil {
			return nil, fmt.Errorf("cognito: groups of %s: %w", username, err)
		}
		for _, g := range out.Groups {
			names = append(names, deref(g.GroupName))
		}
		if next = out.NextToken; next == nil || *next == "" {
			return names, nil
		}
	}
}

// List returns a client's users ("" for every client) by username: the
// members of the role groups, each with the least role it has (as
// ports.RoleOfGroups gives it: the groups are read least first).
func (d *Directory) List(ctx context.Context, client string) ([]ports.User, error) {
	byName := map[string]ports.User{}
	for _, role := range ports.Roles {
		var next *string
		for {
			out, err := d.api.ListUsersInGroup(ctx, &cip.ListUsersInGroupInput{UserPoolId: &d.pool, GroupName: &role, NextToken: next})
			if err != nil {
				return nil, fmt.Errorf("cognito: users of group %s: %w", role, err)
			}
			for _, u := range out.Users {
				name := deref(u.Username)
				if _, seen := byName[name]; seen {
					continue
				}
				byName[name] = ports.User{Username: name, Client: d.client(u.Attributes), Role: role, CreatedAt: timeOf(u.UserCreateDate)}
			}
			if next = out.NextToken; next == nil || *next == "" {
				break
			}
		}
	}
	var users []ports.User
	for _, u := range byName {
		if client == "" || u.Client == client {
			users = append(users, u)
		}
	}
	slices.SortFunc(users, func(a, b ports.User) int { return strings.Compare(a.Username, b.Username) })
	return users, nil
}

func (d *Directory) client(attrs []types.AttributeType) string {
	for _, a := range attrs {
		if deref(a.Name) == ClientAttribute && deref(a.Value) != "" {
			return *a.Value
		}
	}
	return d.defaultClient
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
