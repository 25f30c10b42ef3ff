package dynamodb

import (
	"context"

	"github.com/unicornstore/unicorn/ports"
)

// StoredMessages reads the item a key was published as: the messages the
// table's stream carries, one per item.
func StoredMessages(ctx context.Context, s *Store, key string) ([]ports.Message, error) {
	m, err := getItem(ctx, s.client, s.tables.Messages, messagePrefix+key)
	if err != nil || m == nil {
		return nil, err
	}
	msg, err := messageFrom(m)
	if err != nil {
		return nil, err
	}
	return []ports.Message{msg}, nil
}

// RecentShard is the recent index's partition of an order id.
var RecentShard = recentShard
