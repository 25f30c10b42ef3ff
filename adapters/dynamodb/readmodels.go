package dynamodb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/ports"
)

// ProductSearch is the catalog's search index on DynamoDB
// (ports.ProductSearch), in the read models table. DynamoDB has no full
// text search, so the index is kept by hand:
//
//   - a document per product, pk "D#<id>", sk "-": its version, the words
//     of its name and of its description, and whether it was removed. It
//     is the truth: a search answers from documents only.
//   - a token per word of a product, pk "T#<first letter>", sk
//     "<word>#<id>": a search queries the tokens that begin with a word of
//     the query (one bounded query on one partition) to find candidates.
//
// Tokens are written after their document and may be left over by a
// write that lost to a newer version; a search checks every candidate
// against its document, so a stale token costs a read, never a wrong
// answer.
type ProductSearch struct {
	client *ddb.Client
	table  string
}

// ProductSearch returns the store's product search index.
func (s *Store) ProductSearch() *ProductSearch {
	return &ProductSearch{client: s.client, table: s.tables.ReadModels}
}

var _ ports.ProductSearch = (*ProductSearch)(nil)

// maxCandidates bounds the tokens one search reads: a one-letter query on
// a large catalog reads this many at most.
const maxCandidates = 1000

// maxWordBytes bounds a word of the index: it is part of a sort key, which
// DynamoDB refuses over 1024 bytes, and a description may hold one word of
// thousands of letters (or a sentence of a script written without spaces).
// Longer words are cut on a character boundary, the same way when indexed
// and when searched, so they still match.
const maxWordBytes = 100

// searchWords splits text as the SQLite index does: runs of letters and
// digits, here lower-cased (the SQLite tokenizer folds case too).
func searchWords(text string) []string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for i, w := range words {
		if len(w) > maxWordBytes {
			cut := maxWordBytes
			for !utf8.RuneStart(w[cut]) {
				cut--
			}
			words[i] = w[:cut]
		}
	}
	return words
}

func docKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str("D#" + id), "sk": str("-")}
}

func tokenKey(word, id string) map[string]types.AttributeValue {
	first, _ := firstRune(word)
	return map[string]types.AttributeValue{"pk": str("T#" + first), "sk": str(word + "#" + id)}
}

func firstRune(word string) (string, string) {
	for i := range word {
		if i > 0 {
			return word[:i], word[i:]
		}
	}
	return word, ""
}

// searchDoc is a product's document in the index.
type searchDoc struct {
	id          string
	version     int64
	removed     bool
	name, descr []string
}

func (d searchDoc) words() []string {
	all := slices.Concat(d.name, d.descr)
	slices.Sort(all)
	return slices.Compact(all)
}

func docFrom(m map[string]types.AttributeValue) (searchDoc, error) {
	it := item{m: m}
	d := searchDoc{id: it.str("id"), version: it.num("version"), name: strings.Fields(it.str("nw")), descr: strings.Fields(it.str("dw"))}
	if b, ok := m["removed"].(*types.AttributeValueMemberBOOL); ok {
		d.removed = b.Value
	}
	return d, it.err
}

// doc reads a product's document; found is false when it has none.
func (s *ProductSearch) doc(ctx context.Context, id string) (searchDoc, bool, error) {
	out, err := s.client.GetItem(ctx, &ddb.GetItemInput{TableName: aws.String(s.table), Key: docKey(id), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return searchDoc{id: id}, false, err
	}
	d, err := docFrom(out.Item)
	return d, err == nil, err
}

func (s *ProductSearch) Index(ctx context.Context, p ports.Product) error {
	d := searchDoc{id: p.ID, version: p.Version, name: searchWords(p.Name), descr: searchWords(p.Description)}
	if err := s.put(ctx, d); err != nil {
		return fmt.Errorf("index product %s: %w", p.ID, err)
	}
	return nil
}

func (s *ProductSearch) Remove(ctx context.Context, id string, version int64) error {
	if err := s.put(ctx, searchDoc{id: id, version: version, removed: true}); err != nil {
		return fmt.Errorf("remove product %s from the index: %w", id, err)
	}
	return nil
}

// put stores d unless the document holds a newer version, then makes the
// tokens follow it.
func (s *ProductSearch) put(ctx context.Context, d searchDoc) error {
	before, _, err := s.doc(ctx, d.id)
	if err != nil {
		return err
	}
	m := docKey(d.id)
	m["id"], m["version"], m["nw"], m["dw"] = str(d.id), num(d.version), str(strings.Join(d.name, " ")), str(strings.Join(d.descr, " "))
	m["removed"] = &types.AttributeValueMemberBOOL{Value: d.removed}
	_, err = s.client.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String(s.table), Item: m,
		// The same version again is indexed again (a redelivery); an
		// older one never replaces a newer.
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR version <= :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(d.version)}})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return nil // a newer version is indexed
	}
	if err != nil {
		return err
	}
	var writes []types.WriteRequest
	keep := d.words()
	if !d.removed {
		for _, w := range keep {
			k := tokenKey(w, d.id)
			k["id"] = str(d.id)
			writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: k}})
		}
	} else {
		keep = nil
	}
	for _, w := range before.words() {
		if !slices.Contains(keep, w) {
			writes = append(writes, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: tokenKey(w, d.id)}})
		}
	}
	if err := batchWrite(ctx, s.client, s.table, writes); err != nil {
		return err
	}
	// A newer version written meanwhile may have lost a token to the
	// deletes above: put its tokens again (puts of the same item are
	// idempotent).
	after, found, err := s.doc(ctx, d.id)
	if err != nil || !found || after.version == d.version || after.removed {
		return err
	}
	writes = writes[:0]
	for _, w := range after.words() {
		k := tokenKey(w, d.id)
		k["id"] = str(d.id)
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: k}})
	}
	return batchWrite(ctx, s.client, s.table, writes)
}

// Search matches every word of the query as a prefix of a word of the
// name or the description. Candidates come from the tokens of the query's
// longest word; each is checked against its document. A word matched in
// the name weighs twice one matched in the description; ties go by id.
func (s *ProductSearch) Search(ctx context.Context, query string, limit int) ([]string, error) {
	words := searchWords(query)
	if len(words) == 0 || len(words) > 20 || limit < 1 {
		return nil, nil
	}
	longest := slices.MaxFunc(words, func(a, b string) int { return len(a) - len(b) })
	first, _ := firstRune(longest)
	candidates := map[string]bool{}
	p := ddb.NewQueryPaginator(s.client, &ddb.QueryInput{TableName: aws.String(s.table),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :w)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("T#" + first), ":w": str(longest)},
		ProjectionExpression:      aws.String("id"), Limit: aws.Int32(maxCandidates)})
	for read := 0; p.HasMorePages() && read < maxCandidates; {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("search products: %w", err)
		}
		read += len(page.Items)
		for _, m := range page.Items {
			it := item{m: m}
			candidates[it.str("id")] = true
		}
	}
	docs, err := s.docs(ctx, candidates)
	if err != nil {
		return nil, fmt.Errorf("search products: %w", err)
	}
	type hit struct {
		id    string
		score int
	}
	var hits []hit
	for _, d := range docs {
		if d.removed {
			continue
		}
		score := 0
		for _, w := range words {
			inName, inDescr := hasPrefix(d.name, w), hasPrefix(d.descr, w)
			switch {
			case inName:
				score += 2
			case inDescr:
				score++
			default:
				score = -1
			}
			if score < 0 {
				break
			}
		}
		if score > 0 {
			hits = append(hits, hit{d.id, score})
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		return hits[i].score > hits[j].score || hits[i].score == hits[j].score && hits[i].id < hits[j].id
	})
	var out []string
	for _, h := range hits[:min(limit, len(hits))] {
		out = append(out, h.id)
	}
	return out, nil
}

func hasPrefix(words []string, prefix string) bool {
	return slices.ContainsFunc(words, func(w string) bool { return strings.HasPrefix(w, prefix) })
}

// docs reads the documents of ids, 100 at a time.
func (s *ProductSearch) docs(ctx context.Context, ids map[string]bool) ([]searchDoc, error) {
	var keys []map[string]types.AttributeValue
	for id := range ids {
		keys = append(keys, docKey(id))
	}
	var out []searchDoc
	for len(keys) > 0 {
		n := min(100, len(keys))
		got, err := batchGet(ctx, s.client, s.table, keys[:n])
		if err != nil {
			return nil, err
		}
		keys = keys[n:]
		for _, m := range got {
			d, err := docFrom(m)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
	}
	return out, nil
}

// batchGet reads up to 100 items by key, consistently, asking again for
// what DynamoDB leaves unprocessed.
func batchGet(ctx context.Context, client *ddb.Client, table string, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	req := &types.KeysAndAttributes{Keys: keys, ConsistentRead: aws.Bool(true)}
	for attempt := 0; req != nil && len(req.Keys) > 0; attempt++ {
		if attempt == 20 {
			return nil, errors.New("batch get: keys still unprocessed after 20 attempts")
		}
		if err := pause(ctx, attempt); err != nil {
			return nil, err
		}
		res, err := client.BatchGetItem(ctx, &ddb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{table: *req}})
		if err != nil {
			return nil, err
		}
		out = append(out, res.Responses[table]...)
		next, ok := res.UnprocessedKeys[table]
		req = nil
		if ok {
			req = &next
		}
	}
	return out, nil
}

// batchWrite writes requests 25 at a time, resending what DynamoDB leaves
// unprocessed.
func batchWrite(ctx context.Context, client *ddb.Client, table string, reqs []types.WriteRequest) error {
	for len(reqs) > 0 {
		n := min(25, len(reqs))
		chunk := reqs[:n]
		reqs = reqs[n:]
		for attempt := 0; len(chunk) > 0; attempt++ {
			if attempt == 20 {
				return errors.New("batch write: items still unprocessed after 20 attempts")
			}
			if err := pause(ctx, attempt); err != nil {
				return err
			}
			out, err := client.BatchWriteItem(ctx, &ddb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: chunk}})
			if err != nil {
				return err
			}
			chunk = out.UnprocessedItems[table]
		}
	}
	return nil
}

// pause backs off before a retry (attempt 0 is the first try: no wait):
// DynamoDB leaves items unprocessed when throttled.
func pause(ctx context.Context, attempt int) error {
	if attempt == 0 {
		return nil
	}
	return sleep(ctx, time.Duration(min(attempt, 10))*50*time.Millisecond)
}

// sleep waits d, or less if ctx ends first (its error then).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// SalesTallies is the sales read model on DynamoDB (ports.SalesTallies),
// in the read models table:
//
//   - pk "SO#<order>", sk "-": the order was counted;
//   - pk "TALLY", sk product id: name, orders, units, revenue. One
//     partition holds the catalog's tallies, so that List is one query of
//     a few hundred items;
//   - pk "AW#<client>", sk "<day>#<campaign>": points and orders, so that
//     Awards is one query of a client's days from a day on;
//   - pk "PH#<client>", sk "<at>#<order>": the purchase itself (the
//     PurchaseCompleted message's JSON, at version v), so that Purchases
//     is one query of a client's purchases from a time on. It expires
//     ports.PurchaseRetention after its at ("ttl").
//
// Record is one transaction: the order's marker, on condition that it is
// new, the additions and the purchase. A redelivered purchase fails the
// marker's condition and adds nothing.
type SalesTallies struct {
	client *ddb.Client
	table  string
}

// SalesTallies returns the store's sales read model.
func (s *Store) SalesTallies() *SalesTallies {
	return &SalesTallies{client: s.client, table: s.tables.ReadModels}
}

var _ ports.SalesTallies = (*SalesTallies)(nil)

const tallyPartition = "TALLY"

func (s *SalesTallies) Record(ctx context.Context, p ports.PurchaseCompleted) error {
	if err := s.record(ctx, p); err != nil {
		return fmt.Errorf("record sales of %s: %w", p.OrderID, err)
	}
	return nil
}

func (s *SalesTallies) record(ctx context.Context, p ports.PurchaseCompleted) error {
	writes := []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(s.table),
		Item:                map[string]types.AttributeValue{"pk": str("SO#" + p.OrderID), "sk": str("-"), "at": str(formatTime(p.At))},
		ConditionExpression: aws.String("attribute_not_exists(pk)")}}}
	// One transaction may not touch an item twice: lines of the same
	// product (and entries of the same campaign) are added up first, as
	// the SQLite adapter's one update per line adds up.
	type sum struct {
		name          string
		orders, units int64
		revenue       decimal.Decimal
	}
	var products []string
	sums := map[string]*sum{}
	for _, l := range p.Lines {
		t := sums[l.ProductID]
		if t == nil {
			t = &sum{revenue: decimal.Zero}
			sums[l.ProductID] = t
			products = append(products, l.ProductID)
		}
		t.name, t.orders, t.units, t.revenue = l.Name, t.orders+1, t.units+l.Quantity, t.revenue.Add(l.Amount)
	}
	for _, id := range products {
		t := sums[id]
		writes = append(writes, types.TransactWriteItem{Update: &types.Update{TableName: aws.String(s.table),
			Key:                       map[string]types.AttributeValue{"pk": str(tallyPartition), "sk": str(id)},
			UpdateExpression:          aws.String("SET #name = :name ADD orders :orders, units :units, revenue :revenue"),
			ExpressionAttributeNames:  map[string]string{"#name": "name"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":name": str(t.name), ":orders": num(t.orders), ":units": num(t.units), ":revenue": dec(t.revenue)}}})
	}
	day := p.At.UTC().Format(time.DateOnly)
	var campaigns []string
	awards := map[string]*[2]int64{}
	for _, c := range p.Campaigns {
		a := awards[c.Campaign]
		if a == nil {
			a = &[2]int64{}
			awards[c.Campaign] = a
			campaigns = append(campaigns, c.Campaign)
		}
		a[0], a[1] = a[0]+c.Points, a[1]+1
	}
	for _, c := range campaigns {
		writes = append(writes, types.TransactWriteItem{Update: &types.Update{TableName: aws.String(s.table),
			Key:                       map[string]types.AttributeValue{"pk": str("AW#" + p.Client), "sk": str(day + "#" + c)},
			UpdateExpression:          aws.String("ADD points :points, orders :orders"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":points": num(awards[c][0]), ":orders": num(awards[c][1])}}})
	}
	purchase, err := purchaseItem(p)
	if err != nil {
		return err
	}
	writes = append(writes, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: purchase}})
	if len(writes) > 100 {
		return fmt.Errorf("%d products and campaigns are more than one transaction holds", len(writes)-2)
	}
	for attempt := 0; ; attempt++ {
		if err := pause(ctx, attempt); err != nil {
			return err
		}
		_, err := s.client.TransactWriteItems(ctx, &ddb.TransactWriteItemsInput{TransactItems: writes})
		if err == nil || !lostRace(err) {
			return err
		}
		var cancelled *types.TransactionCanceledException
		if errors.As(err, &cancelled) && len(cancelled.CancellationReasons) > 0 && aws.ToString(cancelled.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
			return nil // counted already
		}
		if attempt == raceAttempts {
			return fmt.Errorf("%d attempts lost to concurrent purchases: %w", raceAttempts, ports.ErrConflict)
		}
		// Another purchase of the same products was counted at the same
		// moment: try again.
	}
}

func (s *SalesTallies) List(ctx context.Context) ([]ports.Tally, error) {
	var out []ports.Tally
	p := ddb.NewQueryPaginator(s.client, &ddb.QueryInput{TableName: aws.String(s.table), KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(tallyPartition)}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("sales tallies: %w", err)
		}
		for _, m := range page.Items {
			it := item{m: m}
			t := ports.Tally{ProductID: it.str("sk"), Name: it.str("name"), Orders: it.num("orders"), Units: it.num("units"), Revenue: it.decimal("revenue")}
			if it.err != nil {
				return nil, fmt.Errorf("sales tallies: %w", it.err)
			}
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Units > out[j].Units || out[i].Units == out[j].Units && out[i].ProductID < out[j].ProductID
	})
	return out, nil
}

func (s *SalesTallies) Awards(ctx context.Context, client string, since time.Time) ([]ports.CampaignDay, error) {
	var out []ports.CampaignDay
	p := ddb.NewQueryPaginator(s.client, &ddb.QueryInput{TableName: aws.String(s.table), KeyConditionExpression: aws.String("pk = :pk AND sk >= :day"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("AW#" + client), ":day": str(since.UTC().Format(time.DateOnly))}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("campaign awards of %s: %w", client, err)
		}
		for _, m := range page.Items {
			it := item{m: m}
			day, campaign, _ := strings.Cut(it.str("sk"), "#")
			d := ports.CampaignDay{Day: day, Campaign: campaign, Points: it.num("points"), Orders: it.num("orders")}
			if it.err != nil {
				return nil, fmt.Errorf("campaign awards of %s: %w", client, it.err)
			}
			out = append(out, d)
		}
	}
	return out, nil
}

// purchaseVersion is the version of a kept purchase's JSON: a
// PurchaseCompleted message's.
const purchaseVersion = 1

func purchasePartition(client string) string { return "PH#" + client }

// purchaseItem is a purchase as its client's history keeps it.
func purchaseItem(p ports.PurchaseCompleted) (map[string]types.AttributeValue, error) {
	payload, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode purchase: %w", err)
	}
	return map[string]types.AttributeValue{"pk": str(purchasePartition(p.Client)), "sk": str(formatTime(p.At) + "#" + p.OrderID),
		"v": num(purchaseVersion), "purchase": str(string(payload)), ttlAttribute: expiry(p.At.Add(ports.PurchaseRetention))}, nil
}

func (s *SalesTallies) Purchases(ctx context.Context, client string, since time.Time, cursor string, limit int) ([]ports.PurchaseCompleted, string, error) {
	page, next, err := s.purchases(ctx, client, since, cursor, max(limit, 1))
	if err != nil {
		return nil, "", fmt.Errorf("purchases of %s: %w", client, err)
	}
	return page, next, nil
}

func (s *SalesTallies) purchases(ctx context.Context, client string, since time.Time, cursor string, limit int) ([]ports.PurchaseCompleted, string, error) {
	start, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	// A cursor is only ever the key of the last purchase of a page of the
	// same client's: any other is not one this query made.
	if start != nil {
		pk, ok := start["pk"].(*types.AttributeValueMemberS)
		_, isStr := start["sk"].(*types.AttributeValueMemberS)
		if len(start) != 2 || !ok || !isStr || pk.Value != purchasePartition(client) {
			return nil, "", ports.ErrBadCursor
		}
	}
	in := &ddb.QueryInput{TableName: aws.String(s.table), ConsistentRead: aws.Bool(true), ExclusiveStartKey: start,
		KeyConditionExpression:    aws.String("pk = :pk AND sk >= :since"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(purchasePartition(client)), ":since": str(formatTime(since))}}
	// One more than the page tells whether another follows; a query may
	// stop short of its limit (at 1 MB), and is then asked again.
	var items []map[string]types.AttributeValue
	for {
		in.Limit = aws.Int32(int32(limit + 1 - len(items)))
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, "", err
		}
		items = append(items, out.Items...)
		if len(items) > limit || len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	var next string
	if len(items) > limit {
		items = items[:limit]
		last := items[limit-1]
		if next, err = encodeCursor(map[string]types.AttributeValue{"pk": last["pk"], "sk": last["sk"]}); err != nil {
			return nil, "", err
		}
	}
	page := make([]ports.PurchaseCompleted, 0, len(items))
	for _, m := range items {
		it := item{m: m}
		version, payload, key := it.num("v"), it.str("purchase"), it.str("sk")
		if it.err != nil {
			return nil, "", fmt.Errorf("purchase %s: %w", key, it.err)
		}
		if version != purchaseVersion {
			return nil, "", fmt.Errorf("purchase %s is stored at version %d, which this program does not read", key, version)
		}
		var p ports.PurchaseCompleted
		if err := json.Unmarshal([]byte(payload), &p); err != nil {
			return nil, "", fmt.Errorf("decode purchase %s: %w", key, err)
		}
		page = append(page, p)
	}
	return page, next, nil
}
