package dynamodb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/unicornstore/unicorn/adapters/dynamodb/dynamotest"
	"github.com/unicornstore/unicorn/ports"
	"github.com/unicornstore/unicorn/ports/porttest"
)

func TestWebhooksContract(t *testing.T) {
	t.Parallel()
	porttest.TestWebhooks(t, func(t *testing.T) ports.Webhooks { return dynamotest.NewStore(t).Webhooks() })
}

// DynamoDB keeps no index of due deliveries: it says so, as an
// unsupported operation, rather than scanning a table.
func TestWebhooksDueIsUnsupported(t *testing.T) {
	t.Parallel()
	_, err := dynamotest.NewStore(t).Webhooks().DueDeliveries(context.Background(), time.Now(), 10)
	if !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("DueDeliveries: %v, want errors.ErrUnsupported", err)
	}
}
