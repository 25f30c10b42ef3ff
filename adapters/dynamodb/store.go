// Package dynamodb stores the points ledger and read model, campaigns, and
// the store's catalog, stock, wallets and orders in DynamoDB, the storage of
// the cloud shape. It implements ports and knows nothing of the
// domains; it passes the same contract suites as the SQLite adapter, run
// against DynamoDB Local.
//
// Where SQLite has its outbox, DynamoDB has the tables' change streams:
// StreamMessage (and DecodeChange) turn a stream record into the message
// the outbox would have carried, and StreamReader follows a stream in
// process (`unicorn serve` on DynamoDB, test harnesses) as Lambda's event
// source mapping does in the cloud.
//
// Tables (TableDefinitions; docs/decisions/0003-dynamodb-tables.md explains
// them). "ttl" is the time to live attribute (TimeToLive), in epoch seconds.
//
//	ledger     pk (S) "A#<client>/<account>", sk (N) seq   an event (stream: new images)
//	           pk (S) "K#<key>", sk (N) 0                  an idempotency record ("ttl": 90 days)
//	           pk (S) "S#<account>", sk (N) 0              the account's snapshot
//	balances   pk (S) account, sk (S) "-"                  the hot item: seq, live lots (holding points)
//	           pk (S) account, sk (S) "L#<day>"            a closed lot (holding nothing), written once
//	           GSI by_expiry: due (S) "E", nx (S)          only accounts with points to expire
//	campaigns  pk (S) "C#<client>", sk (S) name            current version
//	           pk (S) "V#<client>#<name>", sk (S) version (padded)  every version
//	           pk (S) "B#<client>#<name>", sk (S) "-"      budget: awarded
//	           pk (S) "G#<client>#<name>", sk (S) key      budget grant per award key ("ttl": 90 days)
//	           pk (S) "L#<client>", sk (S) "-"             the client's ceiling on points per purchase
//	           pk (S) "L#<client>", sk (S) setting         another of the client's settings (tiers)
//	           pk (S) "WH#<client>", sk (S) endpoint id    a webhook endpoint
//	retail     pk (S) "P#<id>"     product; GSI products (ck "P", id)    (stream: new and old images)
//	           pk (S) "R#<order>"  reservation; GSI held (hk "HELD", hs expiry|order) while held
//	           pk (S) "W#<user>"   wallet (balance is an exact decimal number)
//	           pk (S) "D#<key>"    deposit, once per key; "C#<order>" an order's payment
//	           pk (S) "J#<key>"    a stock adjustment, once per key
//	           pk (S) "O#<id>"     order; GSIs by_user (uk user, us created|id), by_status (stk, sts created|id) while open,
//	                               recent (rk "ALL#<0-7>" by a hash of the id, us created|id)
//	           pk (S) "H#<run>"    the steps of a saga run (a list, appended in place)
//	identity   pk (S) "U#<username>" user; "N#<lower-cased username>" its name, taken in any case;
//	           "K#<id>" API key; "S#<id>" session ("ttl": its expiry); "F#<key>" sign-in attempts
//	           ("ttl": the window's end); "M#<username>#<address>" a known address ("ttl": known until);
//	           "X#<name>" a secret
//	readmodels pk (S) "D#<product>", sk (S) "-"            search document
//	           pk (S) "T#<letter>", sk (S) "<word>#<product>"  search token
//	           pk (S) "SO#<order>", sk (S) "-"             an order counted in the sales tallies
//	           pk (S) "TALLY", sk (S) product              a product's sales tally
//	           pk (S) "AW#<client>", sk (S) "<day>#<campaign>"  what a campaign gave on a day
//	           pk (S) "PH#<client>", sk (S) "<at>#<order>"  a completed purchase ("ttl": ports.PurchaseRetention)
//	           pk (S) "WD#<delivery>", sk (S) "-"          a webhook delivery; "WL#<client>" and
//	           "WE#<client>#<endpoint>", sk "<created>|<delivery>": the delivery logs ("ttl": 90 days)
//	messages   pk (S) "M#<key>"    a published message ("ttl": 90 days; stream: new images)
//	executions pk (S) name, sk (N) 0 the execution, n its n-th history event;
//	           GSI due: rk (S) "R", wk (S) wake|name      only running executions
package dynamodb

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/shopspring/decimal"

	"github.com/unicornstore/unicorn/adapters/internal/storedtime"
	"github.com/unicornstore/unicorn/limits"
	"github.com/unicornstore/unicorn/ports"
)

// Tables names the tables of a deployment.
type Tables struct {
	Ledger    string
	Balances  string
	Campaigns string
	Retail    string
	Identity  string
	// ReadModels holds the read models built from change streams: product
	// search and sales tallies.
	ReadModels string
	// Messages holds published integration events (PurchaseCompleted); its
	// stream carries them to consumers.
	Messages string
	// Executions holds the local ASL executor's executions and histories,
	// for `unicorn serve` on DynamoDB (Step Functions keeps its own).
	Executions string
}

// TablesNamed are the tables of a deployment whose names start with
// prefix ("prod-" gives "prod-ledger", ...): UNICORN_TABLE_PREFIX for the
// server and the functions, and the names the CDK stack gives them.
func TablesNamed(prefix string) Tables {
	return Tables{Ledger: prefix + "ledger", Balances: prefix + "balances", Campaigns: prefix + "campaigns",
		Retail: prefix + "retail", Identity: prefix + "identity", ReadModels: prefix + "readmodels", Messages: prefix + "messages",
		Executions: prefix + "executions"}
}

// All lists the tables' names, in a fixed order (TablesNamed("").All()
// are the tables' kinds).
func (t Tables) All() []string {
	return []string{t.Ledger, t.Balances, t.Campaigns, t.Retail, t.Identity, t.ReadModels, t.Messages, t.Executions}
}

// Store is a DynamoDB database with the store's tables.
type Store struct {
	client *ddb.Client
	tables Tables
}

// New returns a Store over existing tables (CDK creates them in the cloud;
// CreateTables creates them for local use and tests).
func New(client *ddb.Client, tables Tables) (*Store, error) {
	if client == nil || slices.Contains(tables.All(), "") {
		return nil, errors.New("dynamodb store: a client and every table name are required")
	}
	return &Store{client: client, tables: tables}, nil
}

// Client returns the store's DynamoDB client.
func (s *Store) Client() *ddb.Client { return s.client }

// Tables returns the names of the store's tables.
func (s *Store) Tables() Tables { return s.tables }

const expiryIndex = "by_expiry"

// Indexes of the retail table. Orders project every attribute (an order is
// one small item; a page of them needs no second read), and so do products
// (the catalog page reads them all); held reservations only their keys.
const (
	heldIndex    = "held"
	userIndex    = "by_user"
	statusIndex  = "by_status"
	recentIndex  = "recent"
	productIndex = "products"
)

// dueIndex is the executions table's index of running executions.
const dueIndex = "due"

// ttlAttribute is the attribute DynamoDB's time to live reads: epoch
// seconds after which an item may be deleted.
const ttlAttribute = "ttl"

func gsi(name, hash, sort string, projection types.ProjectionType) types.GlobalSecondaryIndex {
	return types.GlobalSecondaryIndex{
		IndexName:  aws.String(name),
		KeySchema:  []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}, {AttributeName: aws.String(sort), KeyType: types.KeyTypeRange}},
		Projection: &types.Projection{ProjectionType: projection},
	}
}

// keys is a key schema of a partition key and an optional sort key.
func keys(hash, sort string) []types.KeySchemaElement {
	out := []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}}
	if sort != "" {
		out = append(out, types.KeySchemaElement{AttributeName: aws.String(sort), KeyType: types.KeyTypeRange})
	}
	return out
}

// attrs defines attributes, name then type, pairwise.
func attrs(nameType ...string) []types.AttributeDefinition {
	var out []types.AttributeDefinition
	for i := 0; i+1 < len(nameType); i += 2 {
		out = append(out, types.AttributeDefinition{AttributeName: aws.String(nameType[i]), AttributeType: types.ScalarAttributeType(nameType[i+1])})
	}
	return out
}

func stream(view types.StreamViewType) *types.StreamSpecification {
	return &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: view}
}

// TableDefinitions returns the tables of a deployment as CreateTable
// inputs (on-demand capacity). CreateTables creates exactly these; the CDK
// stack declares the same, and a test there can compare them.
// TimeToLive says which of them expire items, and by which attribute.
//
// Streams: the ledger's (new images) feeds the points read model; the
// retail table's (new and old images: a deleted product is only in its
// old image, and a stock change is told apart from an edit by the old
// version) feeds product search; the messages table's (new images)
// carries published events.
func TableDefinitions(t Tables) []*ddb.CreateTableInput {
	const S, N = "S", "N"
	table := func(name string) *ddb.CreateTableInput {
		return &ddb.CreateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest}
	}
	ledger := table(t.Ledger)
	ledger.AttributeDefinitions, ledger.KeySchema = attrs("pk", S, "sk", N), keys("pk", "sk")
	ledger.StreamSpecification = stream(types.StreamViewTypeNewImage)

	balances := table(t.Balances)
	balances.AttributeDefinitions, balances.KeySchema = attrs("pk", S, "sk", S, "due", S, "nx", S), keys("pk", "sk")
	balances.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{gsi(expiryIndex, "due", "nx", types.ProjectionTypeKeysOnly)}

	retail := table(t.Retail)
	retail.AttributeDefinitions = attrs("pk", S, "hk", S, "hs", S, "uk", S, "us", S, "stk", S, "sts", S, "ck", S, "id", S, "rk", S)
	retail.KeySchema = keys("pk", "")
	retail.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{
		gsi(heldIndex, "hk", "hs", types.ProjectionTypeKeysOnly),
		gsi(userIndex, "uk", "us", types.ProjectionTypeAll), gsi(statusIndex, "stk", "sts", types.ProjectionTypeAll),
		gsi(recentIndex, "rk", "us", types.ProjectionTypeAll),
		gsi(productIndex, "ck", "id", types.ProjectionTypeAll),
	}
	retail.StreamSpecification = stream(types.StreamViewTypeNewAndOldImages)

	identity := table(t.Identity)
	identity.AttributeDefinitions, identity.KeySchema = attrs("pk", S), keys("pk", "")

	campaigns := table(t.Campaigns)
	campaigns.AttributeDefinitions, campaigns.KeySchema = attrs("pk", S, "sk", S), keys("pk", "sk")

	reads := table(t.ReadModels)
	reads.AttributeDefinitions, reads.KeySchema = attrs("pk", S, "sk", S), keys("pk", "sk")

	messages := table(t.Messages)
	messages.AttributeDefinitions, messages.KeySchema = attrs("pk", S), keys("pk", "")
	messages.StreamSpecification = stream(types.StreamViewTypeNewImage)

	executions := table(t.Executions)
	executions.AttributeDefinitions, executions.KeySchema = attrs("pk", S, "sk", N, "rk", S, "wk", S), keys("pk", "sk")
	executions.GlobalSecondaryIndexes = []types.GlobalSecondaryIndex{gsi(dueIndex, "rk", "wk", types.ProjectionTypeKeysOnly)}

	return []*ddb.CreateTableInput{ledger, balances, retail, identity, campaigns, reads, messages, executions}
}

// TimeToLive returns, per table name, the attribute its time to live
// reads. Items with the attribute are deleted by DynamoDB some time after
// it passes (within days; readers never rely on the deletion):
//   - ledger: idempotency records, idempotencyRetention after they were made;
//   - campaigns: budget grants, as long as the award keys they answer;
//   - identity: sessions when they expire, sign-in attempts after their
//     window, known addresses when no longer known;
//   - messages: published events, once no retry can publish them again;
//   - readmodels: completed purchases, ports.PurchaseRetention after them.
func TimeToLive(t Tables) map[string]string {
	return map[string]string{t.Ledger: ttlAttribute, t.Campaigns: ttlAttribute, t.Identity: ttlAttribute, t.Messages: ttlAttribute,
		t.ReadModels: ttlAttribute}
}

// idempotencyRetention is how long a key is remembered: an idempotency
// record, the budget grant of an award key, a published message's key.
const idempotencyRetention = limits.IdempotencyRetention

// CreateTables creates the store's tables (TableDefinitions), waits until
// they are active, and turns on their time to live (TimeToLive).
func (s *Store) CreateTables(ctx context.Context) error {
	ttl := TimeToLive(s.tables)
	for _, in := range TableDefinitions(s.tables) {
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
		if attr, ok := ttl[*in.TableName]; ok {
			if err := s.enableTTL(ctx, *in.TableName, attr); err != nil {
				return err
			}
		}
	}
	return nil
}

// enableTTL turns on a table's time to live, unless it is on already
// (turning it on twice is an error).
func (s *Store) enableTTL(ctx context.Context, table, attr string) error {
	cur, err := s.client.DescribeTimeToLive(ctx, &ddb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		return fmt.Errorf("time to live of %s: %w", table, err)
	}
	if d := cur.TimeToLiveDescription; d != nil && aws.ToString(d.AttributeName) == attr &&
		(d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	_, err = s.client.UpdateTimeToLive(ctx, &ddb.UpdateTimeToLiveInput{TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(true)}})
	if err != nil {
		return fmt.Errorf("enable time to live of %s: %w", table, err)
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

// Ping tells whether DynamoDB answers and the ledger table is there (a
// read of an item that never exists: half a read unit).
func (s *Store) Ping(ctx context.Context) error {
	_, err := s.client.GetItem(ctx, &ddb.GetItemInput{TableName: aws.String(s.tables.Ledger),
		Key: map[string]types.AttributeValue{"pk": str("ping"), "sk": num(0)}})
	return err
}
