package compose

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/adapters/cognito"
	"github.com/unicornstore/unicorn/adapters/cognito/cognitotest"
	"github.com/unicornstore/unicorn/adapters/sqlite"
	"github.com/unicornstore/unicorn/domains/identity"
	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/ports"
)

// A Cognito issuer makes the pool's people the store's; any other issuer,
// or none, leaves the store's own users.
func TestCognitoPeople(t *testing.T) {
	for issuer, want := range map[string]bool{
		"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123": true,
		"https://accounts.example.com":                                 false,
		"":                                                             false,
	} {
		c := Defaults()
		c.OIDCIssuer, c.OIDCAudience = issuer, "app"
		p, err := CognitoPeople(t.Context(), c)
		_, isCognito := p.(*cognito.Directory)
		if err != nil || isCognito != want || (p == nil) == want {
			t.Errorf("%q: people %T, %v; want Cognito's: %v", issuer, p, err, want)
		}
	}
}

// Where people are a user pool's (cognito-local here), the store reads
// them there: a deposit goes to a customer of the pool, an admin of the
// pool is no customer, the users of a client are the pool's, and the
// store creates nobody itself.
func TestPeopleOfTheUserPool(t *testing.T) {
	c := cognitotest.Start(t)
	pool := cognitotest.NewPool(t, c)
	cognitotest.AddPerson(t, c, pool, "ada", "", ports.RoleCustomer)
	cognitotest.AddPerson(t, c, pool, "boss", "", ports.RoleAdmin)
	people, err := cognito.NewDirectory(c, pool, "UnicornStore")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "u.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	v, err := NewServices(t.Context(), Defaults(), SQLiteStores(db), Deps{People: people, Hash: identity.HashParams{MemoryKiB: 64, Passes: 1, Lanes: 1}},
		func(*retail.Steps) (Runners, error) { return Runners{Purchases: noSagas{}, Returns: noSagas{}}, nil })
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if w, err := v.Wallets.Deposit(ctx, "ada", decimal.NewFromInt(50), "k1"); err != nil || !w.Balance.Equal(decimal.NewFromInt(50)) {
		t.Errorf("deposit to the pool's customer: %v %v", w, err)
	}
	if _, err := v.Wallets.Deposit(ctx, "boss", decimal.NewFromInt(50), "k2"); !errors.Is(err, retail.ErrNotFound) {
		t.Errorf("deposit to the pool's admin: %v, want no such customer", err)
	}
	users, err := v.Identity.Users(ctx, "UnicornStore")
	var names []string
	for _, u := range users {
		names = append(names, u.Username)
	}
	if err != nil || !slices.Equal(names, []string{"ada", "boss"}) {
		t.Errorf("users of UnicornStore: %v %v", names, err)
	}
	if _, err := v.Identity.CreateUser(ctx, "eve", "UnicornStore", ports.RoleAdmin, "a long password!"); !errors.Is(err, identity.ErrPeopleElsewhere) {
		t.Errorf("create a user: %v, want ErrPeopleElsewhere", err)
	}
	if err := v.Identity.SetPassword(ctx, "ada", "a long password!"); !errors.Is(err, identity.ErrPeopleElsewhere) {
		t.Errorf("set a password: %v, want ErrPeopleElsewhere", err)
	}
	if _, err := db.Users().Get(ctx, "eve"); !errors.Is(err, ports.ErrNotFound) {
		t.Errorf("the store's users hold eve: %v", err)
	}
}
