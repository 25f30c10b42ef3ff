package dynamodb

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/unicornstore/unicorn/ports"
)

// Publisher publishes integration events on DynamoDB (ports.Publisher):
// each message is an item of the messages table, pk "M#<key>", put on
// condition that the key is new, and the table's stream carries it to
// consumers (StreamMessage decodes it). A repeat of a key is no error and
// no second message. The item keeps the key for idempotencyRetention (its
// "ttl"), longer than any retry of the step that publishes.
type Publisher struct {
	client *ddb.Client
	table  string
}

// Publisher returns the store's publisher.
func (s *Store) Publisher() *Publisher { return &Publisher{client: s.client, table: s.tables.Messages} }

var _ ports.Publisher = (*Publisher)(nil)

func (p *Publisher) Publish(ctx context.Context, m ports.Message) error {
	it := map[string]types.AttributeValue{"pk": str(messagePrefix + m.Key), "key": str(m.Key), "topic": str(m.Topic),
		"payload": &types.AttributeValueMemberB{Value: m.Payload}, "at": str(formatTime(m.CreatedAt)),
		ttlAttribute: expiry(m.CreatedAt.Add(idempotencyRetention))}
	_, err := p.client.PutItem(ctx, &ddb.PutItemInput{TableName: aws.String(p.table), Item: it, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return nil // published already
	}
	if err != nil {
		return fmt.Errorf("publish %s: %w", m.Key, err)
	}
	return nil
}

// messagePrefix starts the key of a published message's item.
const messagePrefix = "M#"

// messageFrom reads a published message's item.
func messageFrom(m map[string]types.AttributeValue) (ports.Message, error) {
	it := item{m: m}
	msg := ports.Message{Topic: it.str("topic"), Key: it.str("key"), CreatedAt: it.time("at")}
	payload, ok := m["payload"].(*types.AttributeValueMemberB)
	if !ok {
		return msg, fmt.Errorf("message %s: payload is missing or not binary", msg.Key)
	}
	msg.Payload = payload.Value
	return msg, it.err
}
