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
	w := dynamotest.NewStore(t).Webhooks()
	if _, err := w.DueDeliveries(context.Background(), time.Now(), 10); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("DueDeliveries: %v, want errors.ErrUnsupported", err)
	}
	// Nor does the worker prune the log: the table's time to live does
	// (TestTimeToLive).
	if _, err := w.ForgetDeliveries(context.Background(), time.Now(), 10); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("ForgetDeliveries: %v, want errors.ErrUnsupported", err)
	}
}
