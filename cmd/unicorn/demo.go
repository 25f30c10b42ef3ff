package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/domains/campaign"
	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/ports"
)

// demoProducts are seed 003's unicorn and a few friends.
var demoProducts = []retail.ProductDraft{
	{ID: "1", Name: "Unicorn Air (2023 Model)", Description: "Latest Unicorn Air model from re:Invent 2023", Image: "/images/unicorn-air.svg", Price: decimal.NewFromInt(1700), Stock: 4},
	{ID: "2", Name: "Pink Pony Deluxe", Description: "A pink unicorn that sparkles in the sun", Image: "/images/pink-pony.svg", Price: decimal.RequireFromString("899.99"), Stock: 12},
	{ID: "3", Name: "Midnight Galloper", Description: "Quiet hooves, dark mane, for night rides", Image: "/images/midnight-galloper.svg", Price: decimal.NewFromInt(2450), Stock: 3},
	{ID: "4", Name: "Rainbow Dash X", Description: "The fastest unicorn we sell, with a rainbow trail", Image: "/images/rainbow-dash-x.svg", Price: decimal.NewFromInt(3100), Stock: 2},
	{ID: "5", Name: "Golden Mane", Description: "A calm unicorn with a golden mane, good with children", Image: "/images/golden-mane.svg", Price: decimal.RequireFromString("1299.50"), Stock: 7},
	{ID: "6", Name: "Cloud Strider", Description: "Light as a cloud, for long walks", Image: "/images/cloud-strider.svg", Price: decimal.NewFromInt(650), Stock: 20},
}

// seedRules is seed 003's campaign rule.
const seedRules = `[{"variable":"$.amount","condition":{"rule":"numeric_greater_than","value":100},"action":{"command":"issue","formula":"$.amount/10"}}]`

// loadDemo fills an empty store with the demo catalog, derick's wallet
// (3300) and seed 003's campaign. A store with products is left alone.
func loadDemo(ctx context.Context, a *app) error {
	existing, err := a.Catalog.Products(ctx, "")
	if err != nil || len(existing) > 0 {
		return err
	}
	for _, p := range demoProducts {
		if _, err := a.Catalog.Create(ctx, p); err != nil {
			return err
		}
	}
	if _, err := a.Wallets.Deposit(ctx, "derick", decimal.NewFromInt(3300), "demo:derick"); err != nil {
		return err
	}
	_, err = a.Campaigns.Create(ctx, campaign.Draft{Client: a.cfg.StoreClient, Name: "1", Description: "A point for every 10.00 you spend", Rules: json.RawMessage(seedRules)}, "demo")
	if errors.Is(err, campaign.ErrExists) {
		err = nil
	}
	if err == nil {
		a.log.Info("demo data loaded", "products", len(demoProducts), "wallet", "derick: 3300", "campaign", "1")
	}
	return err
}

// demoUsers are the demo's sign-ins, one of each role.
var demoUsers = []struct{ username, role string }{
	{"derick", ports.RoleCustomer},
	{"marketer", ports.RoleMarketer},
	{"admin", ports.RoleAdmin},
}

// loadDemoUsers creates the demo users in a store without users and says,
// this once, who they are and where to sign in. Standard output is the log
// stream of a container, so it holds no token, and a password only when
// this function made it up (a random one per user, which nobody could
// know otherwise); a password given with -demo-password is not repeated.
func loadDemoUsers(ctx context.Context, a *app, password, baseURL string, out io.Writer) error {
	existing, err := a.Identity.Users(ctx, "")
	if err != nil || len(existing) > 0 {
		return err
	}
	generated := password == ""
	if generated {
		fmt.Fprintln(out, "Demo users (the passwords are shown this once):")
	} else {
		fmt.Fprintln(out, "Demo users (their password is the one set with -demo-password or UNICORN_DEMO_PASSWORD):")
	}
	derick := "<the demo password>"
	for _, u := range demoUsers {
		pw := password
		if generated {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			pw = base64.RawURLEncoding.EncodeToString(b)
		}
		if _, err := a.Identity.CreateUser(ctx, u.username, a.cfg.StoreClient, u.role, pw); err != nil {
			return err
		}
		if !generated {
			fmt.Fprintf(out, "  %-9s %s\n", u.username, u.role)
			continue
		}
		fmt.Fprintf(out, "  %-9s %-9s %s\n", u.username, u.role, pw)
		if u.username == "derick" {
			derick = pw
		}
	}
	fmt.Fprintf(out, `Shop, run campaigns or keep the store in a browser: %[1]s/ (sign in as one of them).
Or sign in with curl:
  curl -X POST %[1]s/auth/token -H 'Content-Type: application/json' -d '{"username":"derick","password":"%[2]s"}'
and send the access_token it returns with each call:
  curl -H 'Authorization: Bearer <access_token>' '%[1]s/points?account_id=derick'
`, baseURL, derick)
	return nil
}
