// Package dynamodb stores the points ledger and read model, campaigns, and
// the store's catalog, stock, wallets and orders in DynamoDB, the storage of
// the cloud shape. It implements ports and knows nothing of the
// domains; it passes the same contract suites as the SQLite adapter, run
// against DynamoDB Local.
//
// Table keys (docs/decisions/0003-dynamodb-tables.md explains them):
//
//	ledger    pk (S) "A#<client>/<account>", sk (N) seq  one item per event
//	          pk (S) "K#<key>",     sk (N) 0        one item per idempotency key
//	balances  pk (S) account                         one item per account: seq, lots
//	          GSI by_expiry: due (S) "E", nx (S)     only accounts with points that expire
//	campaigns pk (S) "C#<client>",        sk (S) name            current version
//	          pk (S) "V#<client>#<name>", sk (S) version (padded) every version
//	          pk (S) "B#<client>#<name>", sk (S) "-"              budget: awarded
//	          pk (S) "G#<client>#<name>", sk (S) key              budget grant per award
//	          pk (S) "L#<client>",        sk (S) "-"              the client's ceiling on points per purchase
//	retail    pk (S) "P#<id>"    product (stock is a number, moved by conditional updates)
//	          pk (S) "R#<order>" reservation (versioned); in GSI held (hk "HELD", hs expiry|order) while held
//	          pk (S) "W#<user>"  wallet (balance is an exact decimal number)
//	          pk (S) "D#<key>"   deposit, once per key; "C#<order>" an order's payment (charged or refunded, versioned)
//	          pk (S) "J#<key>"   a stock adjustment, once per key
//	          pk (S) "O#<id>"    order; GSIs by_user (uk user, us created|id), by_status (stk, sts created|id)
//	identity  pk (S) "U#<username>" user; "N#<lower-cased username>" its name, taken in any case;
//	          "K#<id>" API key; "S#<id>" session; "F#<key>" sign-in attempts under a throttle key;
//	          "M#<username>#<address>" an address the user signed in from; "X#<name>" a secret.
//	          F# and M# items carry "ttl" (epoch seconds) for the table's time to live.
package dynamodb

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/adapters/internal/storedtime"
	"github.com/unicornstore/unicorn/ports"
)

// Tables names the tables of a deployment.
type Tables struct {
	Ledger    string
	Balances  string
	Campaigns string
	Retail    string
	Identity  string
}

// Store is a DynamoDB database with the store's tables.
type Store struct {
	client *ddb.Client
	tables Tables
}

// New returns a Store over existing tables (CDK creates them in the cloud;
// CreateTables creates them for local use and tests).
func New(client *ddb.Client, tables Tables) (*Store, error) {
	if client == nil || tables.Ledger == "" || tables.Balances == "" || tables.Campaigns == "" || tables.Retail == "" || tables.Identity == "" {
		return nil, errors.New("dynamodb store: a client and every table name are required")
	}
	return &Store{client: client, tables: tables}, nil
}

const expiryIndex = "by_expiry"

// Indexes of the retail table. Orders project every attribute (an order is
// one small item; a page of them needs no second read); held reservations
// only their keys.
const (
	heldIndex   = "held"
	userIndex   = "by_user"
	statusIndex = "by_status"
)

func gsi(name, hash, sort string, projection types.ProjectionType) types.GlobalSecondaryIndex {
	return types.GlobalSecondaryIndex{
		IndexName:  aws.String(name),
		KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}, {AttributeName: aws.String(sort), KeyType: types.KeyTypeRange}},
		Projection: &types.Projection{ProjectionType: projection},
	}
}

// CreateTables creates the store's tables (on demand capacity) and waits
// until they are active. The ledger streams new images: in the cloud the
// stream feeds the read model.
func (s *Store) CreateTables(ctx context.Context) error {
	str, num := types.ScalarAttributeTypeS, types.ScalarAttributeTypeN
	inputs := []*ddb.CreateTableInput{
		{
			TableName:            aws.String(s.tables.Ledger),
			BillingMode:          types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: str}, {AttributeName: aws.String("sk"), AttributeType: num}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
			StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage},
		},
		{
			TableName:   aws.String(s.tables.Balances),
			BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: str},
				{AttributeName: aws.String("due"), AttributeType: str}, {AttributeName: aws.String("nx"), AttributeType: str}},
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
			GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
				IndexName:  aws.String(expiryIndex),
				KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String("due"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("nx"), KeyType: types.KeyTypeRange}},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
			}},
		},
		{
			TableName:   aws.String(s.tables.Retail),
			BillingMode: types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: str},
				{AttributeName: aws.String("hk"), AttributeType: str}, {AttributeName: aws.String("hs"), AttributeType: str},
				{AttributeName: aws.String("uk"), AttributeType: str}, {AttributeName: aws.String("us"), AttributeType: str},
				{AttributeName: aws.String("stk"), AttributeType: str}, {AttributeName: aws.String("sts"), AttributeType: str}},
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
			GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
				gsi(heldIndex, "hk", "hs", types.ProjectionTypeKeysOnly),
				gsi(userIndex, "uk", "us", types.ProjectionTypeAll), gsi(statusIndex, "stk", "sts", types.ProjectionTypeAll),
			},
			StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewImage},
		},
		{
			TableName:            aws.String(s.tables.Identity),
			BillingMode:          types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: str}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		},
		{
			TableName:            aws.String(s.tables.Campaigns),
			BillingMode:          types.BillingModePayPerRequest,
			AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: str}, {AttributeName: aws.String("sk"), AttributeType: str}},
			KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		},
	}
	for _, in := range inputs {
		if _, err := s.client.CreateTable(ctx, in); err != nil {
			var inUse *types.ResourceInUseException
			if !errors.As(err, &inUse) {
				return fmt.Errorf("create table %s: %w", *in.TableName, err)
			}
		}
		w := ddb.NewTableExistsWaiter(s.client, func(o *ddb.TableExistsWaiterOptions) { o.MinDelay = 100 * time.Millisecond })
		if err := w.Wait(ctx, &ddb.DescribeTableInput{TableName: in.TableName}, 2*time.Minute); err != nil {
			return fmt.Errorf("wait for table %s: %w", *in.TableName, err)
		}
	}
	return nil
}

// Times are stored as text that sorts (see storedtime).
var formatTime, parseTime = storedtime.Format, storedtime.Parse

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// item reads attributes of a stored item, remembering the first problem.
type item struct {
	m   map[string]types.AttributeValue
	err error
}

func (it *item) str(name string) string {
	v, ok := it.m[name].(*types.AttributeValueMemberS)
	if !ok {
		if it.err == nil {
			it.err = fmt.Errorf("attribute %s is missing or not a string", name)
		}
		return ""
	}
	return v.Value
}

func (it *item) num(name string) int64 {
	v, ok := it.m[name].(*types.AttributeValueMemberN)
	if !ok {
		if it.err == nil {
			it.err = fmt.Errorf("attribute %s is missing or not a number", name)
		}
		return 0
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil && it.err == nil {
		it.err = fmt.Errorf("attribute %s: %w", name, err)
	}
	return n
}

// versionIs is the condition that an item is at version v. Items written
// before versions were kept have none, and count as version 1.
func versionIs(v int64) (*string, map[string]types.AttributeValue) {
	values := map[string]types.AttributeValue{":prev": num(v)}
	if v == 1 {
		return aws.String("attribute_exists(pk) AND (attribute_not_exists(version) OR version = :prev)"), values
	}
	return aws.String("version = :prev"), values
}

// numOr reads a number that older items may not have.
func (it *item) numOr(name string, absent int64) int64 {
	if _, ok := it.m[name]; !ok {
		return absent
	}
	return it.num(name)
}

func (it *item) time(name string) time.Time {
	s := it.str(name)
	if it.err != nil {
		return time.Time{}
	}
	t, err := parseTime(s)
	if err != nil {
		it.err = err
	}
	return t
}

// encodeCursor turns a LastEvaluatedKey into an opaque page cursor.
func encodeCursor(key map[string]types.AttributeValue) (string, error) {
	if len(key) == 0 {
		return "", nil
	}
	plain := map[string][2]string{}
	for k, v := range key {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			plain[k] = [2]string{"S", v.Value}
		case *types.AttributeValueMemberN:
			plain[k] = [2]string{"N", v.Value}
		default:
			return "", fmt.Errorf("cursor: unexpected key attribute %s", k)
		}
	}
	b, err := json.Marshal(plain)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func decodeCursor(cursor string) (map[string]types.AttributeValue, error) {
	if cursor == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ports.ErrBadCursor, err)
	}
	var plain map[string][2]string
	if err := json.Unmarshal(b, &plain); err != nil {
		return nil, fmt.Errorf("%w: %v", ports.ErrBadCursor, err)
	}
	key := map[string]types.AttributeValue{}
	for k, v := range plain {
		switch v[0] {
		case "S":
			key[k] = str(v[1])
		case "N":
			key[k] = &types.AttributeValueMemberN{Value: v[1]}
		default:
			return nil, fmt.Errorf("%w: attribute %s", ports.ErrBadCursor, k)
		}
	}
	return key, nil
}

// lostRace reports whether a write failed on its condition or lost a
// transaction to a concurrent one: the caller reads again and decides.
func lostRace(err error) bool {
	var cancelled *types.TransactionCanceledException
	var conflict *types.TransactionConflictException
	var failed *types.ConditionalCheckFailedException
	return errors.As(err, &cancelled) || errors.As(err, &conflict) || errors.As(err, &failed)
}

// getItem reads one item by partition key, consistently; nil if absent.
func getItem(ctx context.Context, client *ddb.Client, table, pk string) (map[string]types.AttributeValue, error) {
	out, err := client.GetItem(ctx, &ddb.GetItemInput{TableName: aws.String(table),
		Key: map[string]types.AttributeValue{"pk": str(pk)}, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

func (it *item) decimal(name string) decimal.Decimal {
	var s string
	switch v := it.m[name].(type) {
	case *types.AttributeValueMemberN:
		s = v.Value
	case *types.AttributeValueMemberS:
		s = v.Value
	default:
		if it.err == nil {
			it.err = fmt.Errorf("attribute %s is missing or not a number", name)
		}
		return decimal.Zero
	}
	d, err := decimal.NewFromString(s)
	if err != nil && it.err == nil {
		it.err = fmt.Errorf("attribute %s: %w", name, err)
	}
	return d
}

// dec stores an exact decimal as a DynamoDB number (38 significant digits,
// exact arithmetic in update expressions).
func dec(d decimal.Decimal) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: d.String()}
}
