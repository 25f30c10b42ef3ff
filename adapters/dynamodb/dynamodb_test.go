package dynamodb_test

import (
	"testing"

	"github.com/unicornstore/unicorn/adapters/dynamodb/dynamotest"
	"github.com/unicornstore/unicorn/ports"
	"github.com/unicornstore/unicorn/ports/porttest"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

func TestLedgerContract(t *testing.T) {
	t.Parallel()
	porttest.TestLedger(t, func(t *testing.T) ports.Ledger { return dynamotest.NewStore(t).Ledger() })
}

func TestBalancesContract(t *testing.T) {
	t.Parallel()
	porttest.TestBalances(t, func(t *testing.T) ports.Balances { return dynamotest.NewStore(t).Balances() })
}

func TestSnapshotsContract(t *testing.T) {
	t.Parallel()
	porttest.TestSnapshots(t, func(t *testing.T) ports.Snapshots { return dynamotest.NewStore(t).Snapshots() })
}

func TestCampaignsContract(t *testing.T) {
	t.Parallel()
	porttest.TestCampaigns(t, func(t *testing.T) ports.Campaigns { return dynamotest.NewStore(t).Campaigns() })
}
