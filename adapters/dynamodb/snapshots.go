package dynamodb

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/unicornstore/unicorn/ports"
)

// Snapshots stores account snapshots in the ledger table, one item per
// account under pk "S#<account>", sk 0 (ports.Snapshots).
type Snapshots struct {
	client *ddb.Client
	table  string
}

// Snapshots returns the store's snapshot store.
func (s *Store) Snapshots() *Snapshots { return &Snapshots{client: s.client, table: s.tables.Ledger} }

var _ ports.Snapshots = (*Snapshots)(nil)

func snapshotKey(account string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str("S#" + account), "sk": num(0)}
}

func (s *Snapshots) Get(ctx context.Context, account string) (ports.Snapshot, error) {
	snap := ports.Snapshot{Account: account}
	out, err := s.client.GetItem(ctx, &ddb.GetItemInput{TableName: aws.String(s.table), Key: snapshotKey(account), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return snap, fmt.Errorf("snapshot of %s: %w", account, err)
	}
	if out.Item == nil {
		return snap, fmt.Errorf("snapshot of %s: %w", account, ports.ErrNotFound)
	}
	it := item{m: out.Item}
	snap.Version, snap.State, snap.TakenAt = it.num("version"), json.RawMessage(it.str("state")), it.time("at")
	return snap, it.err
}

// snapshotPut is an append's snapshot, a Put in its transaction. It needs
// no condition: the append's own conditions make its version the stream's
// newest.
func snapshotPut(table string, snap ports.Snapshot) types.TransactWriteItem {
	m := snapshotKey(snap.Account)
	m["version"], m["state"], m["at"] = num(snap.Version), str(string(snap.State)), str(formatTime(snap.TakenAt))
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: m}}
}
