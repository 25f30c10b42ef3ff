package main

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/domains/campaign"
	"github.com/unicornstore/unicorn/domains/retail"
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
	existing, err := a.catalog.Products(ctx, "")
	if err != nil || len(existing) > 0 {
		return err
	}
	for _, p := range demoProducts {
		if _, err := a.catalog.Create(ctx, p); err != nil {
			return err
		}
	}
	if _, err := a.wallets.Deposit(ctx, "derick", decimal.NewFromInt(3300), "demo:derick"); err != nil {
		return err
	}
	_, err = a.campaigns.Create(ctx, campaign.Draft{Client: campaign.DefaultClient, Name: "1", Rules: json.RawMessage(seedRules)}, "demo")
	if errors.Is(err, campaign.ErrExists) {
		err = nil
	}
	if err == nil {
		a.log.Info("demo data loaded", "products", len(demoProducts), "wallet", "derick: 3300", "campaign", "1")
	}
	return err
}
