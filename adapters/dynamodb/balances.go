package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/unicornstore/unicorn/ports"
)

// Balances is the points read model on DynamoDB (ports.Balances). An
// account's view is split in two, so that the item every event rewrites
// stays small however old the account:
//
//   - the hot item, pk account, sk "-": the last applied seq, the live
//     lots (those still holding points, pending, or spendable whether
//     expired or not: the sweeper's expired event takes from them), the
//     next day something is due and a write counter
//     "w". Only it is in the by_expiry index.
//   - a closed lot, pk account, sk "L#<issued on>": a lot holding nothing
//     (spent, reversed or expired by the sweeper, nothing pending), written once when it
//     closes, with the seq of the view that closed it. GET /points lists
//     them; nothing decides from them.
//
// Update reads both (one query), lets the domain change the view, puts the
// lots that closed, then the hot item on condition that "w" is the one
// read (retrying on a lost race), then deletes closed items of lots that
// live again. A reader merges them: a closed item counts only if its seq
// is at most the hot item's (a write that lost its race or is halfway
// shows nothing) and its lot is not live on the hot item.
type Balances struct {
	client *ddb.Client
	table  string
}

// Balances returns the store's read model.
func (s *Store) Balances() *Balances { return &Balances{client: s.client, table: s.tables.Balances} }

var _ ports.Balances = (*Balances)(nil)

// updateAttempts bounds the optimistic retries of one Update.
const updateAttempts = 50

const (
	hotKey      = "-"
	closedLotPK = "L#"
)

func lotItem(l ports.Lot) map[string]types.AttributeValue {
	m := map[string]types.AttributeValue{"on": str(l.IssuedOn), "exp": str(l.ExpiresOn), "iss": num(l.Issued), "rem": num(l.Remaining),
		"xp": num(l.Expired), "upd": str(formatTime(l.LastUpdated))}
	if l.Pending != 0 {
		// Only a lot with points pending carries them: the hot item stays
		// as small as it was for the others.
		m["pnd"], m["mat"] = num(l.Pending), str(l.MaturesOn)
	}
	return m
}

func lotFrom(m map[string]types.AttributeValue) (ports.Lot, error) {
	lt := item{m: m}
	l := ports.Lot{IssuedOn: lt.str("on"), ExpiresOn: lt.str("exp"), Issued: lt.num("iss"), Remaining: lt.num("rem"), Expired: lt.num("xp"), LastUpdated: lt.time("upd")}
	if _, ok := m["pnd"]; ok {
		l.Pending, l.MaturesOn = lt.num("pnd"), lt.str("mat")
	}
	return l, lt.err
}

func sameLot(a, b ports.Lot) bool {
	a.LastUpdated, b.LastUpdated = a.LastUpdated.UTC(), b.LastUpdated.UTC()
	return a.LastUpdated.Equal(b.LastUpdated) && a == ports.Lot{IssuedOn: b.IssuedOn, ExpiresOn: b.ExpiresOn, Issued: b.Issued,
		Remaining: b.Remaining, Expired: b.Expired, Pending: b.Pending, MaturesOn: b.MaturesOn, LastUpdated: a.LastUpdated}
}

// holdsPoints reports whether a lot is kept on the hot item: it holds points,
// spendable or pending.
func holdsPoints(l ports.Lot) bool { return l.Remaining != 0 || l.Pending != 0 }

// stored is an account's view as read, with what Update needs to write
// it back.
type stored struct {
	view   ports.BalanceView
	exists bool
	w      int64                // the hot item's write counter
	closed map[string]ports.Lot // closed lot items by issue day, as stored
}

func (b *Balances) get(ctx context.Context, account string) (stored, error) {
	st := stored{view: ports.BalanceView{Account: account}, closed: map[string]ports.Lot{}}
	closedSeq := map[string]int64{}
	p := ddb.NewQueryPaginator(b.client, &ddb.QueryInput{TableName: aws.String(b.table), KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(account)}, ConsistentRead: aws.Bool(true)})
	var live []ports.Lot
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return st, err
		}
		for _, m := range page.Items {
			it := item{m: m}
			if it.str("sk") == hotKey {
				st.exists = true
				st.view.Seq, st.view.UpdatedAt, st.w = it.num("seq"), it.time("updated"), it.num("w")
				if _, ok := m["nx"]; ok {
					st.view.NextDue = it.str("nx")
				}
				lots, _ := m["lots"].(*types.AttributeValueMemberL)
				if lots != nil {
					for _, av := range lots.Value {
						lm, ok := av.(*types.AttributeValueMemberM)
						if !ok {
							return st, fmt.Errorf("balance %s: a lot is not a map", account)
						}
						l, err := lotFrom(lm.Value)
						if err != nil {
							return st, fmt.Errorf("balance %s: %w", account, err)
						}
						live = append(live, l)
					}
				}
			} else {
				l, err := lotFrom(m)
				if err != nil {
					return st, fmt.Errorf("balance %s: %w", account, err)
				}
				st.closed[l.IssuedOn], closedSeq[l.IssuedOn] = l, it.num("seq")
			}
			if it.err != nil {
				return st, fmt.Errorf("balance %s: %w", account, it.err)
			}
		}
	}
	if !st.exists {
		return st, ports.ErrNotFound
	}
	lots := live
	for day, l := range st.closed {
		liveAgain := slices.ContainsFunc(live, func(x ports.Lot) bool { return x.IssuedOn == day })
		if closedSeq[day] <= st.view.Seq && !liveAgain {
			lots = append(lots, l)
		}
	}
	slices.SortFunc(lots, func(a, b ports.Lot) int { return strings.Compare(a.IssuedOn, b.IssuedOn) })
	st.view.Lots = lots
	for _, l := range lots {
		st.view.Pending += l.Pending
	}
	return st, nil
}

// Summary reads the hot item alone: the lots with points left are all
// there (a closed lot has none), so the sums need nothing else.
func (b *Balances) Summary(ctx context.Context, account string, days ...string) (ports.BalanceView, []int64, error) {
	v := ports.BalanceView{Account: account}
	out, err := b.client.GetItem(ctx, &ddb.GetItemInput{TableName: aws.String(b.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": str(account), "sk": str(hotKey)}})
	if err != nil {
		return v, nil, fmt.Errorf("balance summary %s: %w", account, err)
	}
	if out.Item == nil {
		return v, nil, fmt.Errorf("balance summary %s: %w", account, ports.ErrNotFound)
	}
	it := item{m: out.Item}
	v.Seq, v.UpdatedAt = it.num("seq"), it.time("updated")
	if _, ok := out.Item["nx"]; ok {
		v.NextDue = it.str("nx")
	}
	if it.err != nil {
		return v, nil, fmt.Errorf("balance summary %s: %w", account, it.err)
	}
	sums := make([]int64, len(days))
	lots, _ := out.Item["lots"].(*types.AttributeValueMemberL)
	if lots != nil {
		for _, av := range lots.Value {
			lm, ok := av.(*types.AttributeValueMemberM)
			if !ok {
				return v, nil, fmt.Errorf("balance summary %s: a lot is not a map", account)
			}
			l, err := lotFrom(lm.Value)
			if err != nil {
				return v, nil, fmt.Errorf("balance summary %s: %w", account, err)
			}
			for i, day := range days {
				if l.ExpiresOn > day {
					sums[i] += l.Remaining
				}
			}
			v.Pending += l.Pending
		}
	}
	return v, sums, nil
}

// Lots reads the whole view and returns the page: closed lots are items of
// their own, merged with the hot item's by the rules of get.
func (b *Balances) Lots(ctx context.Context, account, after string, limit int, expiringAfter string) ([]ports.Lot, error) {
	st, err := b.get(ctx, account)
	if errors.Is(err, ports.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lots of %s: %w", account, err)
	}
	var out []ports.Lot
	for _, l := range st.view.Lots {
		if l.IssuedOn > after && l.ExpiresOn > expiringAfter && len(out) < limit {
			out = append(out, l)
		}
	}
	return out, nil
}

func (b *Balances) Get(ctx context.Context, account string) (ports.BalanceView, error) {
	st, err := b.get(ctx, account)
	if err != nil {
		return st.view, fmt.Errorf("get balance %s: %w", account, err)
	}
	return st.view, nil
}

func (b *Balances) Update(ctx context.Context, account string, fn func(*ports.BalanceView) (bool, error)) error {
	for range updateAttempts {
		st, err := b.get(ctx, account)
		if err != nil && !errors.Is(err, ports.ErrNotFound) {
			return fmt.Errorf("update balance %s: %w", account, err)
		}
		v := st.view
		changed, err := fn(&v)
		if err != nil {
			return fmt.Errorf("update balance %s: %w", account, err)
		}
		if !changed {
			return nil
		}
		won, err := b.write(ctx, account, st, v)
		if err != nil {
			return fmt.Errorf("update balance %s: %w", account, err)
		}
		if won {
			return nil
		}
		// another writer updated the account: read again
	}
	return fmt.Errorf("update balance %s: %d attempts lost to concurrent writers: %w", account, updateAttempts, ports.ErrConflict)
}

// write stores v over st: closed lots first (invisible until the hot item
// reaches their seq), the hot item on its condition, then the removal of
// closed items whose lots live again or are gone. won is false when
// another writer moved the hot item first.
func (b *Balances) write(ctx context.Context, account string, st stored, v ports.BalanceView) (won bool, err error) {
	var hot []types.AttributeValue
	keep := map[string]bool{}
	for _, l := range v.Lots {
		if holdsPoints(l) {
			hot = append(hot, &types.AttributeValueMemberM{Value: lotItem(l)})
			continue
		}
		keep[l.IssuedOn] = true
		if was, ok := st.closed[l.IssuedOn]; ok && sameLot(was, l) {
			continue // closed already, as it is
		}
		m := lotItem(l)
		m["pk"], m["sk"], m["seq"] = str(account), str(closedLotPK+l.IssuedOn), num(v.Seq)
		// An older view never replaces a lot a newer one closed.
		_, err := b.client.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String(b.table), Item: m,
			ConditionExpression: aws.String("attribute_not_exists(pk) OR seq <= :seq"), ExpressionAttributeValues: map[string]types.AttributeValue{":seq": num(v.Seq)}})
		if err != nil && !lostRace(err) {
			return false, err
		}
	}
	m := map[string]types.AttributeValue{
		"pk": str(account), "sk": str(hotKey), "seq": num(v.Seq), "updated": str(formatTime(v.UpdatedAt)),
		"lots": &types.AttributeValueMemberL{Value: hot}, "w": num(st.w + 1),
	}
	if v.NextDue != "" {
		// Only accounts with points to expire or mature are in the
		// sparse index.
		m["due"], m["nx"] = str("E"), str(v.NextDue)
	}
	in := &ddb.PutItemInput{TableName: aws.String(b.table), Item: m}
	if st.exists {
		in.ConditionExpression = aws.String("w = :w")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":w": num(st.w)}
	} else {
		in.ConditionExpression = aws.String("attribute_not_exists(pk)")
	}
	_, err = b.client.PutItem(ctx, in)
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for day := range st.closed {
		if keep[day] {
			continue
		}
		// The hot item hides it already; this only tidies. A lot closed
		// again meanwhile, by a newer view, stays.
		_, err := b.client.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: aws.String(b.table),
			Key:                 map[string]types.AttributeValue{"pk": str(account), "sk": str(closedLotPK + day)},
			ConditionExpression: aws.String("seq <= :seq"), ExpressionAttributeValues: map[string]types.AttributeValue{":seq": num(v.Seq)}})
		if err != nil && !lostRace(err) {
			return true, err
		}
	}
	return true, nil
}

func (b *Balances) Due(ctx context.Context, day, cursor string, limit int) ([]string, string, error) {
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
	p := ddb.NewScanPaginator(b.client, &ddb.ScanInput{TableName: aws.String(b.table), ProjectionExpression: aws.String("pk, sk")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("reset balances: %w", err)
		}
		reqs := make([]types.WriteRequest, 0, len(page.Items))
		for _, m := range page.Items {
			reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: map[string]types.AttributeValue{"pk": m["pk"], "sk": m["sk"]}}})
		}
		if err := batchWrite(ctx, b.client, b.table, reqs); err != nil {
			return fmt.Errorf("reset balances: %w", err)
		}
	}
	return nil
}
