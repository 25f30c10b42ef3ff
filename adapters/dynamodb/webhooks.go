package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/unicornstore/unicorn/ports"
)

// Webhooks stores webhook endpoints and the delivery log on DynamoDB
// (ports.Webhooks), in two existing tables and no index of their own:
//
//	campaigns  pk (S) "WH#<client>", sk (S) endpoint id     an endpoint: a client's setting
//	readmodels pk (S) "WD#<delivery id>", sk (S) "-"        a delivery, with how sending it went
//	           pk (S) "WL#<client>", sk (S) "<created>|<delivery id>"             the client's log
//	           pk (S) "WE#<client>#<endpoint>", sk (S) "<created>|<delivery id>"  an endpoint's log
//
// A delivery is written once with its two log entries, in one
// transaction conditioned on the delivery not existing: enqueueing is
// idempotent and the log never names a delivery that was not stored.
// The log entries only point at the delivery (a page of the log is a
// query, then one consistent batch read of the deliveries), so an update
// of a delivery writes one item. Every item of a delivery expires
// ports.WebhookRetention after it was created ("ttl"). Client names
// hold no "#" (limits.ID), so the keys cannot collide.
//
// DueDeliveries is not offered: listing pending deliveries by when they
// are due needs an index (a sparse GSI on the readmodels table) that the
// tables do not have. The cloud hands deliveries to a queue instead
// (ports.WebhookQueue).
type Webhooks struct {
	client            *ddb.Client
	endpoints, events string
}

// Webhooks returns the store's webhook endpoints and deliveries.
func (s *Store) Webhooks() *Webhooks {
	return &Webhooks{client: s.client, endpoints: s.tables.Campaigns, events: s.tables.ReadModels}
}

var _ ports.Webhooks = (*Webhooks)(nil)

const (
	endpointPrefix    = "WH#"
	deliveryPrefix    = "WD#"
	clientLogPrefix   = "WL#"
	endpointLogPrefix = "WE#"
)

func endpointItem(e ports.WebhookEndpoint) map[string]types.AttributeValue {
	events := make([]types.AttributeValue, len(e.Events))
	for i, ev := range e.Events {
		events[i] = str(ev)
	}
	return map[string]types.AttributeValue{
		"pk": str(endpointPrefix + e.Client), "sk": str(e.ID), "client": str(e.Client), "url": str(e.URL),
		"events": &types.AttributeValueMemberL{Value: events}, "secret": str(e.Secret), "edays": num(int64(e.ExpiringDays)),
		"active": &types.AttributeValueMemberBOOL{Value: e.Active}, "created": str(formatTime(e.CreatedAt)),
		"updated": str(formatTime(e.UpdatedAt)), "version": num(e.Version),
	}
}

func endpointFrom(m map[string]types.AttributeValue) (ports.WebhookEndpoint, error) {
	it := item{m: m}
	e := ports.WebhookEndpoint{ID: it.str("sk"), Client: it.str("client"), URL: it.str("url"), Secret: it.str("secret"),
		ExpiringDays: int(it.num("edays")), CreatedAt: it.time("created"), UpdatedAt: it.time("updated"), Version: it.num("version")}
	if it.err != nil {
		return e, it.err
	}
	active, ok := m["active"].(*types.AttributeValueMemberBOOL)
	events, ok2 := m["events"].(*types.AttributeValueMemberL)
	if !ok || !ok2 {
		return e, errors.New("attributes active or events are missing")
	}
	e.Active = active.Value
	for _, v := range events.Value {
		s, ok := v.(*types.AttributeValueMemberS)
		if !ok {
			return e, errors.New("attribute events holds a non-string")
		}
		e.Events = append(e.Events, s.Value)
	}
	return e, nil
}

func endpointKey(client, id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(endpointPrefix + client), "sk": str(id)}
}

func (w *Webhooks) SaveEndpoint(ctx context.Context, e ports.WebhookEndpoint) error {
	in := &ddb.PutItemInput{TableName: aws.String(w.endpoints), Item: endpointItem(e)}
	if e.Version == 1 {
		in.ConditionExpression = aws.String("attribute_not_exists(pk)")
	} else {
		in.ConditionExpression = aws.String("attribute_exists(pk) AND version = :prev")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":prev": num(e.Version - 1)}
	}
	_, err := w.client.PutItem(ctx, in)
	if lostRace(err) {
		err = ports.ErrConflict
		if e.Version > 1 {
			err = w.missedWhy(ctx, e.Client, e.ID)
		}
	}
	if err != nil {
		return fmt.Errorf("save webhook endpoint %s: %w", e.ID, err)
	}
	return nil
}

// missedWhy tells why a conditional write of an endpoint missed:
// ErrNotFound when the client has no such endpoint, else ErrConflict.
func (w *Webhooks) missedWhy(ctx context.Context, client, id string) error {
	out, err := w.client.GetItem(ctx, &ddb.GetItemInput{TableName: aws.String(w.endpoints), Key: endpointKey(client, id),
		ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String("pk")})
	switch {
	case err != nil:
		return err
	case out.Item == nil:
		return ports.ErrNotFound
	}
	return ports.ErrConflict
}

func (w *Webhooks) Endpoint(ctx context.Context, client, id string) (ports.WebhookEndpoint, error) {
	out, err := w.client.GetItem(ctx, &ddb.GetItemInput{TableName: aws.String(w.endpoints), Key: endpointKey(client, id),
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		return ports.WebhookEndpoint{}, fmt.Errorf("webhook endpoint %s: %w", id, err)
	}
	if out.Item == nil {
		return ports.WebhookEndpoint{}, fmt.Errorf("webhook endpoint %s: %w", id, ports.ErrNotFound)
	}
	e, err := endpointFrom(out.Item)
	if err != nil {
		return e, fmt.Errorf("webhook endpoint %s: %w", id, err)
	}
	return e, nil
}

func (w *Webhooks) Endpoints(ctx context.Context, client string) ([]ports.WebhookEndpoint, error) {
	p := ddb.NewQueryPaginator(w.client, &ddb.QueryInput{TableName: aws.String(w.endpoints),
		KeyConditionExpression: aws.String("pk = :pk"), ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(endpointPrefix + client)},
		ConsistentRead: aws.Bool(true)})
	var out []ports.WebhookEndpoint
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("webhook endpoints of %s: %w", client, err)
		}
		for _, m := range page.Items {
			e, err := endpointFrom(m)
			if err != nil {
				return nil, fmt.Errorf("webhook endpoints of %s: %w", client, err)
			}
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b ports.WebhookEndpoint) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

func (w *Webhooks) DeleteEndpoint(ctx context.Context, client, id string, version int64) error {
	_, err := w.client.DeleteItem(ctx, &ddb.DeleteItemInput{TableName: aws.String(w.endpoints), Key: endpointKey(client, id),
		ConditionExpression:       aws.String("attribute_exists(pk) AND version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(version)}})
	if lostRace(err) {
		err = w.missedWhy(ctx, client, id)
	}
	if err != nil {
		return fmt.Errorf("delete webhook endpoint %s: %w", id, err)
	}
	return nil
}

// logKey is a delivery's place in a log: newest last, so a query
// backwards reads newest first.
func logKey(d ports.WebhookDelivery) string { return formatTime(d.CreatedAt) + "|" + d.ID }

func deliveryKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(deliveryPrefix + id), "sk": str("-")}
}

func expiresAt(created time.Time) types.AttributeValue {
	return num(created.Add(ports.WebhookRetention).Unix())
}

func deliveryItem(d ports.WebhookDelivery) map[string]types.AttributeValue {
	m := map[string]types.AttributeValue{
		"client": str(d.Client), "ep": str(d.EndpointID), "eid": str(d.EventID), "etype": str(d.EventType),
		"payload": str(string(d.Payload)), "status": str(d.Status), "attempts": num(int64(d.Attempts)),
		"next": str(formatTime(d.NextAttemptAt)), "last": str(formatTime(d.LastAttemptAt)), "lstatus": num(int64(d.LastStatus)),
		"lerr": str(d.LastError), "replays": num(int64(d.Replays)), "created": str(formatTime(d.CreatedAt)),
		"updated": str(formatTime(d.UpdatedAt)), "version": num(d.Version), ttlAttribute: expiresAt(d.CreatedAt),
	}
	for k, v := range deliveryKey(d.ID) {
		m[k] = v
	}
	return m
}

func deliveryFrom(m map[string]types.AttributeValue) (ports.WebhookDelivery, error) {
	it := item{m: m}
	d := ports.WebhookDelivery{ID: strings.TrimPrefix(it.str("pk"), deliveryPrefix), Client: it.str("client"), EndpointID: it.str("ep"),
		EventID: it.str("eid"), EventType: it.str("etype"), Payload: []byte(it.str("payload")), Status: it.str("status"),
		Attempts: int(it.num("attempts")), NextAttemptAt: it.time("next"), LastAttemptAt: it.time("last"),
		LastStatus: int(it.num("lstatus")), LastError: it.str("lerr"), Replays: int(it.num("replays")),
		CreatedAt: it.time("created"), UpdatedAt: it.time("updated"), Version: it.num("version")}
	return d, it.err
}

func (w *Webhooks) Enqueue(ctx context.Context, deliveries ...ports.WebhookDelivery) (int, error) {
	created := 0
	for _, d := range deliveries {
		isNew, err := w.enqueue(ctx, d)
		if err != nil {
			return created, fmt.Errorf("enqueue webhook delivery %s: %w", d.ID, err)
		}
		if isNew {
			created++
		}
	}
	return created, nil
}

// enqueue writes one delivery and its log entries, unless it exists.
func (w *Webhooks) enqueue(ctx context.Context, d ports.WebhookDelivery) (bool, error) {
	ttl := expiresAt(d.CreatedAt)
	entry := func(pk string) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(w.events), Item: map[string]types.AttributeValue{
			"pk": str(pk), "sk": str(logKey(d)), "id": str(d.ID), ttlAttribute: ttl}}}
	}
	in := &ddb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(w.events), Item: deliveryItem(d), ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		entry(clientLogPrefix + d.Client),
		entry(endpointLogPrefix + d.Client + "#" + d.EndpointID),
	}}
	for range raceAttempts {
		_, err := w.client.TransactWriteItems(ctx, in)
		if !lostRace(err) {
			return err == nil, err
		}
		// The delivery exists (enqueued before), or a concurrent enqueue
		// of it is under way: look, and try again if it is not there.
		m, err := getItemKey(ctx, w.client, w.events, deliveryKey(d.ID))
		if err != nil {
			return false, err
		}
		if m != nil {
			return false, nil
		}
	}
	return false, fmt.Errorf("%d attempts lost to concurrent writes: %w", raceAttempts, ports.ErrConflict)
}

// getItemKey reads one item by its whole key, consistently; nil if absent.
func getItemKey(ctx context.Context, client *ddb.Client, table string, key map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	out, err := client.GetItem(ctx, &ddb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

func (w *Webhooks) Delivery(ctx context.Context, id string) (ports.WebhookDelivery, error) {
	m, err := getItemKey(ctx, w.client, w.events, deliveryKey(id))
	if err != nil {
		return ports.WebhookDelivery{}, fmt.Errorf("webhook delivery %s: %w", id, err)
	}
	if m == nil {
		return ports.WebhookDelivery{}, fmt.Errorf("webhook delivery %s: %w", id, ports.ErrNotFound)
	}
	d, err := deliveryFrom(m)
	if err != nil {
		return d, fmt.Errorf("webhook delivery %s: %w", id, err)
	}
	return d, nil
}

// UpdateDelivery writes what changes of a delivery (its status and
// attempts); what it is (its event, payload and keys) was written once.
func (w *Webhooks) UpdateDelivery(ctx context.Context, d ports.WebhookDelivery) error {
	_, err := w.client.UpdateItem(ctx, &ddb.UpdateItemInput{TableName: aws.String(w.events), Key: deliveryKey(d.ID),
		UpdateExpression: aws.String("SET #status = :status, attempts = :attempts, #next = :next, #last = :last, lstatus = :lstatus, " +
			"lerr = :lerr, replays = :replays, updated = :updated, version = :version"),
		ConditionExpression:      aws.String("attribute_exists(pk) AND version = :prev"),
		ExpressionAttributeNames: map[string]string{"#status": "status", "#next": "next", "#last": "last"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":status": str(d.Status), ":attempts": num(int64(d.Attempts)), ":next": str(formatTime(d.NextAttemptAt)),
			":last": str(formatTime(d.LastAttemptAt)), ":lstatus": num(int64(d.LastStatus)), ":lerr": str(d.LastError),
			":replays": num(int64(d.Replays)), ":updated": str(formatTime(d.UpdatedAt)), ":version": num(d.Version), ":prev": num(d.Version - 1),
		}})
	if lostRace(err) {
		var m map[string]types.AttributeValue
		if m, err = getItemKey(ctx, w.client, w.events, deliveryKey(d.ID)); err == nil {
			err = ports.ErrConflict
			if m == nil {
				err = ports.ErrNotFound
			}
		}
	}
	if err != nil {
		return fmt.Errorf("update webhook delivery %s: %w", d.ID, err)
	}
	return nil
}

// Deliveries reads a page of the client's (or the endpoint's) log,
// newest first, then the deliveries it names in one consistent batch.
func (w *Webhooks) Deliveries(ctx context.Context, client, endpointID, cursor string, limit int) ([]ports.WebhookDelivery, string, error) {
	pk := clientLogPrefix + client
	if endpointID != "" {
		pk = endpointLogPrefix + client + "#" + endpointID
	}
	start, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", fmt.Errorf("webhook deliveries of %s: %w", client, err)
	}
	// A cursor is only ever the last key of a page of the same log.
	if start != nil {
		p, ok := start["pk"].(*types.AttributeValueMemberS)
		_, hasSort := start["sk"].(*types.AttributeValueMemberS)
		if !ok || !hasSort || p.Value != pk || len(start) != 2 {
			return nil, "", fmt.Errorf("webhook deliveries of %s: %w", client, ports.ErrBadCursor)
		}
	}
	limit = min(max(limit, 1), 100) // one batch read
	out, err := w.client.Query(ctx, &ddb.QueryInput{TableName: aws.String(w.events),
		KeyConditionExpression: aws.String("pk = :pk"), ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(limit)), ExclusiveStartKey: start, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, "", fmt.Errorf("webhook deliveries of %s: %w", client, err)
	}
	ids := make([]string, 0, len(out.Items))
	for _, m := range out.Items {
		it := item{m: m}
		ids = append(ids, it.str("id"))
		if it.err != nil {
			return nil, "", fmt.Errorf("webhook deliveries of %s: %w", client, it.err)
		}
	}
	byID, err := w.batchGet(ctx, ids)
	if err != nil {
		return nil, "", fmt.Errorf("webhook deliveries of %s: %w", client, err)
	}
	deliveries := make([]ports.WebhookDelivery, 0, len(ids))
	for _, id := range ids {
		// A delivery past its retention may be gone before its entries.
		if d, ok := byID[id]; ok && d.Client == client {
			deliveries = append(deliveries, d)
		}
	}
	next, err := encodeCursor(out.LastEvaluatedKey)
	if err != nil {
		return nil, "", fmt.Errorf("webhook deliveries of %s: %w", client, err)
	}
	return deliveries, next, nil
}

// batchGet reads up to 100 deliveries consistently, by id.
func (w *Webhooks) batchGet(ctx context.Context, ids []string) (map[string]ports.WebhookDelivery, error) {
	out := map[string]ports.WebhookDelivery{}
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]map[string]types.AttributeValue, 0, len(ids))
	for _, id := range ids {
		keys = append(keys, deliveryKey(id))
	}
	req := map[string]types.KeysAndAttributes{w.events: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for wait := 10 * time.Millisecond; len(req) > 0; wait = min(2*wait, time.Second) {
		res, err := w.client.BatchGetItem(ctx, &ddb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, err
		}
		for _, m := range res.Responses[w.events] {
			d, err := deliveryFrom(m)
			if err != nil {
				return nil, err
			}
			out[d.ID] = d
		}
		req = res.UnprocessedKeys
		if len(req) > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(wait):
			}
		}
	}
	return out, nil
}

// ForgetDeliveries is unsupported: the table's time to live forgets a
// delivery ports.WebhookRetention after it was created.
func (w *Webhooks) ForgetDeliveries(context.Context, time.Time, int) (int, error) {
	return 0, fmt.Errorf("forget webhook deliveries on DynamoDB: its time to live does: %w", errors.ErrUnsupported)
}

// DueDeliveries is unsupported: see Webhooks.
func (w *Webhooks) DueDeliveries(context.Context, time.Time, int) ([]ports.WebhookDelivery, error) {
	return nil, fmt.Errorf("due webhook deliveries on DynamoDB: no index lists them, a queue carries them: %w", errors.ErrUnsupported)
}
