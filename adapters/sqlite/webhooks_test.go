package sqlite_test

import (
	"testing"

	"github.com/unicornstore/unicorn/ports"
	"github.com/unicornstore/unicorn/ports/porttest"
)

func TestWebhooksContract(t *testing.T) {
	t.Parallel()
	porttest.TestWebhooks(t, func(t *testing.T) ports.Webhooks { return openDB(t).Webhooks() })
}
