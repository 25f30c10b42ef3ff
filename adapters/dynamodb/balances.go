package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/unicornstore/unicorn/ports"
)

// Balances is the points read model on DynamoDB (ports.Balances): one item
// per account holding its lots. An account keeps a lot per day, about 100
// bytes each, so the 400 KB item limit is years of daily lots away.
//
// Update is optimistic: the item carries a write counter ("w") and a put
// only succeeds if the counter is the one read.
type Balances struct {
	client *ddb.Client
	table  string
}

// Balances returns the store's read model.
func (s *Store) Balances() *Balances { return &Balances{client: s.client, table: s.tables.Balances} }

var _ ports.Balances = (*Balances)(nil)

// updateAttempts bounds the optimistic retries of one Update.
const updateAttempts = 50

func (b *Balances) get(ctx context.Context, account string) (ports.BalanceView, int64, error) {
	v := ports.BalanceView{Account: account}
	out, err := b.client.GetItem(ctx, &ddb.GetItemInput{
		TableName:      aws.String(b.table),
		Key:            map[string]types.AttributeValue{"pk": str(account)},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return v, 0, err
	}
	if out.Item == nil {
		return v, 0, ports.ErrNotFound
	}
	it := item{m: out.Item}
	v.Seq, v.UpdatedAt = it.num("seq"), it.time("updated")
	if _, ok := out.Item["nx"]; ok {
		v.NextExpiry = it.str("nx")
	}
	written := it.num("w")
	lots, _ := out.Item["lots"].(*types.AttributeValueMemberL)
	if lots != nil {
		for _, av := range lots.Value {
			m, ok := av.(*types.AttributeValueMemberM)
			if !ok {
				return v, 0, fmt.Errorf("balance %s: a lot is not a map", account)
			}
			lt := item{m: m.Value}
			v.Lots = append(v.Lots, ports.Lot{IssuedOn: lt.str("on"), ExpiresOn: lt.str("exp"), Issued: lt.num("iss"),
				Remaining: lt.num("rem"), Expired: lt.num("xp"), LastUpdated: lt.time("upd")})
			if lt.err != nil {
				return v, 0, fmt.Errorf("balance %s: %w", account, lt.err)
			}
		}
	}
	return v, written, it.err
}

func (b *Balances) Get(ctx context.Context, account string) (ports.BalanceView, error) {
	v, _, err := b.get(ctx, account)
	if err != nil {
		return v, fmt.Errorf("get balance %s: %w", account, err)
	}
	return v, nil
}

func (b *Balances) Update(ctx context.Context, account string, fn func(*ports.BalanceView) (bool, error)) error {
	for range updateAttempts {
		v, written, err := b.get(ctx, account)
		exists := err == nil
		if err != nil && !errors.Is(err, ports.ErrNotFound) {
			return fmt.Errorf("update balance %s: %w", account, err)
		}
		changed, err := fn(&v)
		if err != nil {
			return fmt.Errorf("update balance %s: %w", account, err)
		}
		if !changed {
			return nil
		}
		lots := make([]types.AttributeValue, 0, len(v.Lots))
		for _, l := range v.Lots {
			lots = append(lots, &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
				"on": str(l.IssuedOn), "exp": str(l.ExpiresOn), "iss": num(l.Issued), "rem": num(l.Remaining),
				"xp": num(l.Expired), "upd": str(formatTime(l.LastUpdated)),
			}})
		}
		m := map[string]types.AttributeValue{
			"pk": str(account), "seq": num(v.Seq), "updated": str(formatTime(v.UpdatedAt)),
			"lots": &types.AttributeValueMemberL{Value: lots}, "w": num(written + 1),
		}
		if v.NextExpiry != "" {
			// Only accounts with points to expire are in the sparse index.
			m["due"], m["nx"] = str("E"), str(v.NextExpiry)
		}
		in := &ddb.PutItemInput{TableName: aws.String(b.table), Item: m}
		if exists {
			in.ConditionExpression = aws.String("w = :w")
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":w": num(written)}
		} else {
			in.ConditionExpression = aws.String("attribute_not_exists(pk)")
		}
		_, err = b.client.PutItem(ctx, in)
		var failed *types.ConditionalCheckFailedException
		if errors.As(err, &failed) {
			continue // another writer updated the account: read again
		}
		if err != nil {
			return fmt.Errorf("update balance %s: %w", account, err)
		}
		return nil
	}
	return fmt.Errorf("update balance %s: %d attempts lost to concurrent writers: %w", account, updateAttempts, ports.ErrConflict)
}

func (b *Balances) Expiring(ctx context.Context, day, cursor string, limit int) ([]string, string, error) {
	start, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", fmt.Errorf("expiring accounts: %w", err)
	}
	out, err := b.client.Query(ctx, &ddb.QueryInput{
		TableName:                 aws.String(b.table),
		IndexName:                 aws.String(expiryIndex),
		KeyConditionExpression:    aws.String("due = :due AND nx <= :day"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":due": str("E"), ":day": str(day)},
		ExclusiveStartKey:         start,
		Limit:                     aws.Int32(int32(limit)),
	})
	if err != nil {
		return nil, "", fmt.Errorf("expiring accounts: %w", err)
	}
	accounts := make([]string, 0, len(out.Items))
	for _, m := range out.Items {
		it := item{m: m}
		accounts = append(accounts, it.str("pk"))
		if it.err != nil {
			return nil, "", fmt.Errorf("expiring accounts: %w", it.err)
		}
	}
	next, err := encodeCursor(out.LastEvaluatedKey)
	if err != nil {
		return nil, "", fmt.Errorf("expiring accounts: %w", err)
	}
	return accounts, next, nil
}

// Reset deletes every item, 25 at a time.
func (b *Balances) Reset(ctx context.Context) error {
	p := ddb.NewScanPaginator(b.client, &ddb.ScanInput{TableName: aws.String(b.table), ProjectionExpression: aws.String("pk")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("reset balances: %w", err)
		}
		for i := 0; i < len(page.Items); i += 25 {
			var reqs []types.WriteRequest
			for _, m := range page.Items[i:min(i+25, len(page.Items))] {
				reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{"pk": m["pk"]}}})
			}
			if err := b.batchWrite(ctx, reqs); err != nil {
				return fmt.Errorf("reset balances: %w", err)
			}
		}
	}
	return nil
}

// batchWrite writes requests, resending what DynamoDB leaves unprocessed.
func (b *Balances) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	for attempt := 0; len(reqs) > 0; attempt++ {
		if attempt == 20 {
			return errors.New("batch write: items still unprocessed after 20 attempts")
		}
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * 50 * time.Millisecond) // throttled: back off
		}
		out, err := b.client.BatchWriteItem(ctx, &ddb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{b.table: reqs}})
		if err != nil {
			return err
		}
		reqs = out.UnprocessedItems[b.table]
	}
	return nil
}
