package cognito_test

import (
	"testing"

	"github.com/unicornstore/unicorn/adapters/cognito"
	"github.com/unicornstore/unicorn/adapters/cognito/cognitotest"
	"github.com/unicornstore/unicorn/ports"
	"github.com/unicornstore/unicorn/ports/porttest"
)

// The directory passes the people contract over a user pool served by
// cognito-local, its people added as an admin adds them: a customer with
// no client (the store's), an admin of the store in two groups (the lesser
// role wins), a marketer of another client, and a user in no role group,
// whom the store does not list.
func TestDirectoryIsPeople(t *testing.T) {
	t.Parallel()
	c := cognitotest.Start(t)
	pool := cognitotest.NewPool(t, c)
	cognitotest.AddPerson(t, c, pool, "derick", "", ports.RoleCustomer)
	cognitotest.AddPerson(t, c, pool, "ann", "UnicornStore", ports.RoleAdmin)
	cognitotest.AddPerson(t, c, pool, "zed", "Other", ports.RoleMarketer, ports.RoleAdmin)
	cognitotest.AddPerson(t, c, pool, "visitor", "")
	d, err := cognito.NewDirectory(c, pool, "UnicornStore")
	if err != nil {
		t.Fatal(err)
	}
	porttest.TestPeople(t, d)

	// Someone in no role group exists, with no role: nothing admits them.
	u, err := d.Get(t.Context(), "visitor")
	if err != nil || u.Role != "" {
		t.Errorf("Get(visitor) = %+v, %v; want no role", u, err)
	}
}
