package dynamodb

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/unicornstore/unicorn/ports"
)

// Campaigns stores versioned campaigns and their budgets on DynamoDB
// (ports.Campaigns). A save is one transaction: the current item, on
// condition that it is at the previous version, and the history item.
type Campaigns struct {
	client *ddb.Client
	table  string
}

// Campaigns returns the store's campaign store.
func (s *Store) Campaigns() *Campaigns {
	return &Campaigns{client: s.client, table: s.tables.Campaigns}
}

var _ ports.Campaigns = (*Campaigns)(nil)

func campaignKey(client, name string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str("C#" + client), "sk": str(name)}
}

func versionKey(client, name string, version int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str("V#" + client + "#" + name), "sk": str(fmt.Sprintf("%019d", version))}
}

func campaignItem(key map[string]types.AttributeValue, r ports.CampaignRecord) map[string]types.AttributeValue {
	key["client"], key["name"], key["version"] = str(r.Client), str(r.Name), num(r.Version)
	key["def"], key["at"], key["by"] = str(string(r.Definition)), str(formatTime(r.UpdatedAt)), str(r.UpdatedBy)
	key["deleted"] = &types.AttributeValueMemberBOOL{Value: r.Deleted}
	return key
}

func campaignFrom(m map[string]types.AttributeValue) (ports.CampaignRecord, error) {
	it := item{m: m}
	r := ports.CampaignRecord{Client: it.str("client"), Name: it.str("name"), Version: it.num("version"),
		Definition: json.RawMessage(it.str("def")), UpdatedAt: it.time("at"), UpdatedBy: it.str("by")}
	if b, ok := m["deleted"].(*types.AttributeValueMemberBOOL); ok {
		r.Deleted = b.Value
	}
	return r, it.err
}

func (c *Campaigns) Get(ctx context.Context, client, name string) (ports.CampaignRecord, error) {
	out, err := c.client.GetItem(ctx, &ddb.GetItemInput{TableName: aws.String(c.table), Key: campaignKey(client, name), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return ports.CampaignRecord{}, fmt.Errorf("campaign %s/%s: %w", client, name, err)
	}
	if out.Item == nil {
		return ports.CampaignRecord{}, fmt.Errorf("campaign %s/%s: %w", client, name, ports.ErrNotFound)
	}
	return campaignFrom(out.Item)
}

type itemPage = []map[string]types.AttributeValue

// collect reads every page of a query or scan into campaign records.
func collect(ctx context.Context, more func() bool, next func(context.Context) (itemPage, error)) ([]ports.CampaignRecord, error) {
	var out []ports.CampaignRecord
	for more() {
		items, err := next(ctx)
		if err != nil {
			return nil, err
		}
		for _, m := range items {
			r, err := campaignFrom(m)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	return out, nil
}

func (c *Campaigns) query(ctx context.Context, in *ddb.QueryInput) ([]ports.CampaignRecord, error) {
	p := ddb.NewQueryPaginator(c.client, in)
	return collect(ctx, p.HasMorePages, func(ctx context.Context) (itemPage, error) {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		return page.Items, nil
	})
}

func (c *Campaigns) List(ctx context.Context, client string) ([]ports.CampaignRecord, error) {
	notDeleted := map[string]types.AttributeValue{":no": &types.AttributeValueMemberBOOL{Value: false}}
	if client != "" {
		notDeleted[":pk"] = str("C#" + client)
		out, err := c.query(ctx, &ddb.QueryInput{
			TableName: aws.String(c.table), KeyConditionExpression: aws.String("pk = :pk"),
			FilterExpression: aws.String("deleted = :no"), ExpressionAttributeValues: notDeleted, ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return nil, fmt.Errorf("list campaigns: %w", err)
		}
		return out, nil
	}
	notDeleted[":c"] = str("C#")
	p := ddb.NewScanPaginator(c.client, &ddb.ScanInput{
		TableName: aws.String(c.table), FilterExpression: aws.String("begins_with(pk, :c) AND deleted = :no"),
		ExpressionAttributeValues: notDeleted, ConsistentRead: aws.Bool(true),
	})
	out, err := collect(ctx, p.HasMorePages, func(ctx context.Context) (itemPage, error) {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		return page.Items, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Client < out[j].Client || out[i].Client == out[j].Client && out[i].Name < out[j].Name
	})
	return out, nil
}

func (c *Campaigns) History(ctx context.Context, client, name string) ([]ports.CampaignRecord, error) {
	out, err := c.query(ctx, &ddb.QueryInput{
		TableName: aws.String(c.table), KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("V#" + client + "#" + name)}, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("history of campaign %s/%s: %w", client, name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("history of campaign %s/%s: %w", client, name, ports.ErrNotFound)
	}
	return out, nil
}

func (c *Campaigns) Save(ctx context.Context, r ports.CampaignRecord) error {
	if r.Version < 1 {
		return fmt.Errorf("save campaign %s/%s: version %d: %w", r.Client, r.Name, r.Version, ports.ErrConflict)
	}
	current := &types.Put{TableName: aws.String(c.table), Item: campaignItem(campaignKey(r.Client, r.Name), r)}
	if r.Version == 1 {
		current.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		current.ConditionExpression = aws.String("version = :prev")
		current.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": num(r.Version - 1)}
	}
	_, err := c.client.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: current},
		{Put: &types.Put{TableName: aws.String(c.table), Item: campaignItem(versionKey(r.Client, r.Name, r.Version), r),
			ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}})
	if lostRace(err) {
		return fmt.Errorf("save campaign %s/%s v%d: %w", r.Client, r.Name, r.Version, ports.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("save campaign %s/%s: %w", r.Client, r.Name, err)
	}
	return nil
}

func budgetKey(client, name string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str("B#" + client + "#" + name), "sk": str("-")}
}

func grantKey(client, name, key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str("G#" + client + "#" + name), "sk": str(key)}
}

// awarded reads the budget item: what was awarded and whether it exists.
func (c *Campaigns) awarded(ctx context.Context, client, name string) (int64, bool, error) {
	out, err := c.client.GetItem(ctx, &ddb.GetItemInput{TableName: aws.String(c.table), Key: budgetKey(client, name), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return 0, false, err
	}
	it := item{m: out.Item}
	return it.num("awarded"), true, it.err
}

func (c *Campaigns) Budget(ctx context.Context, client, name, key string) (ports.BudgetRecord, error) {
	var b ports.BudgetRecord
	awarded, _, err := c.awarded(ctx, client, name)
	if err != nil {
		return b, fmt.Errorf("budget of campaign %s/%s: %w", client, name, err)
	}
	b.Awarded = awarded
	out, err := c.client.GetItem(ctx, &ddb.GetItemInput{TableName: aws.String(c.table), Key: grantKey(client, name, key), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return b, fmt.Errorf("budget of campaign %s/%s: %w", client, name, err)
	}
	if out.Item != nil {
		it := item{m: out.Item}
		b.Granted, b.HasGrant = it.num("points"), true
		if it.err != nil {
			return b, fmt.Errorf("budget of campaign %s/%s: %w", client, name, it.err)
		}
	}
	return b, nil
}

// Grant writes the grant and the new total in one transaction, each on
// condition: the total as read (or no budget item, for 0), the key new.
func (c *Campaigns) Grant(ctx context.Context, client, name, key string, awarded, points int64) error {
	budgetItem := budgetKey(client, name)
	budgetItem["awarded"] = num(awarded + points)
	cond := "awarded = :was"
	if awarded == 0 {
		cond = "attribute_not_exists(pk) OR awarded = :was"
	}
	grant := grantKey(client, name, key)
	// A grant answers a repeat of its award key as long as the ledger
	// remembers the key (the port gives no time: the grant's own is close
	// enough for the table to forget it).
	grant["points"], grant[ttlAttribute] = num(points), expiry(time.Now().Add(idempotencyRetention))
	_, err := c.client.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(c.table), Item: budgetItem, ConditionExpression: aws.String(cond),
			ExpressionAttributeValues: map[string]types.AttributeValue{":was": num(awarded)}}},
		{Put: &types.Put{TableName: aws.String(c.table), Item: grant, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}})
	if lostRace(err) {
		return fmt.Errorf("grant from the budget of campaign %s/%s: the total moved or key %s has a grant: %w", client, name, key, ports.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("grant from the budget of campaign %s/%s: %w", client, name, err)
	}
	return nil
}

func (c *Campaigns) Awarded(ctx context.Context, client, name string) (int64, error) {
	awarded, _, err := c.awarded(ctx, client, name)
	if err != nil {
		return 0, fmt.Errorf("budget of campaign %s/%s: %w", client, name, err)
	}
	return awarded, nil
}

// settingKey is where a client's setting is: one item per setting under
// the client's "L#" partition. The ceiling, the first setting, keeps the
// sort key "-" it was stored under before there were others.
func settingKey(client, name string) map[string]types.AttributeValue {
	sk := name
	if name == ports.SettingCeiling {
		sk = "-"
	}
	return map[string]types.AttributeValue{"pk": str("L#" + client), "sk": str(sk)}
}

func (c *Campaigns) Setting(ctx context.Context, client, name string) (ports.SettingRecord, error) {
	r := ports.SettingRecord{Client: client, Name: name}
	out, err := c.client.GetItem(ctx, &ddb.GetItemInput{TableName: aws.String(c.table), Key: settingKey(client, name), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return r, fmt.Errorf("%s of %s: %w", name, client, err)
	}
	if out.Item == nil {
		return r, fmt.Errorf("%s of %s: %w", name, client, ports.ErrNotFound)
	}
	it := item{m: out.Item}
	r.Version, r.Definition, r.UpdatedAt, r.UpdatedBy = it.num("version"), json.RawMessage(it.str("def")), it.time("at"), it.str("by")
	if it.err != nil {
		return r, fmt.Errorf("%s of %s: %w", name, client, it.err)
	}
	return r, nil
}

// SaveSetting puts the item on condition that it is at the previous
// version (or absent, for the first).
func (c *Campaigns) SaveSetting(ctx context.Context, r ports.SettingRecord) error {
	if r.Version < 1 {
		return fmt.Errorf("save %s of %s: version %d: %w", r.Name, r.Client, r.Version, ports.ErrConflict)
	}
	it := settingKey(r.Client, r.Name)
	it["version"], it["def"], it["at"], it["by"] = num(r.Version), str(string(r.Definition)), str(formatTime(r.UpdatedAt)), str(r.UpdatedBy)
	put := &ddb.PutItemInput{TableName: aws.String(c.table), Item: it, ConditionExpression: aws.String("attribute_not_exists(pk)")}
	if r.Version > 1 {
		put.ConditionExpression = aws.String("version = :prev")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": num(r.Version - 1)}
	}
	_, err := c.client.PutItem(ctx, put)
	if lostRace(err) {
		return fmt.Errorf("save %s of %s v%d: %w", r.Name, r.Client, r.Version, ports.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("save %s of %s: %w", r.Name, r.Client, err)
	}
	return nil
}
