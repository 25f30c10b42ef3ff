package dynamodb_test

import (
	"context"
	"testing"

	"github.com/unicornstore/unicorn/adapters/dynamodb"
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
	porttest.TestSnapshots(t, func(t *testing.T) (ports.Ledger, ports.Snapshots) {
		s := dynamotest.NewStore(t)
		return s.Ledger(), s.Snapshots()
	})
}

func TestCampaignsContract(t *testing.T) {
	t.Parallel()
	porttest.TestCampaigns(t, func(t *testing.T) ports.Campaigns { return dynamotest.NewStore(t).Campaigns() })
}

func TestCatalogContract(t *testing.T) {
	t.Parallel()
	porttest.TestCatalog(t, func(t *testing.T) ports.Catalog { return dynamotest.NewStore(t).Catalog() })
}

func TestStockContract(t *testing.T) {
	t.Parallel()
	porttest.TestStock(t, func(t *testing.T) (ports.Catalog, ports.Stock) {
		s := dynamotest.NewStore(t)
		return s.Catalog(), s.Stock()
	})
}

func TestWalletsContract(t *testing.T) {
	t.Parallel()
	porttest.TestWallets(t, func(t *testing.T) ports.Wallets { return dynamotest.NewStore(t).Wallets() })
}

func TestOrdersContract(t *testing.T) {
	t.Parallel()
	porttest.TestOrders(t, func(t *testing.T) ports.Orders { return dynamotest.NewStore(t).Orders() })
}

func TestIdentityContracts(t *testing.T) {
	t.Parallel()
	t.Run("users", func(t *testing.T) { porttest.TestUsers(t, dynamotest.NewStore(t).Users()) })
	t.Run("api keys", func(t *testing.T) { porttest.TestAPIKeys(t, dynamotest.NewStore(t).APIKeys()) })
	t.Run("sessions", func(t *testing.T) { porttest.TestSessions(t, dynamotest.NewStore(t).Sessions()) })
	t.Run("throttle", func(t *testing.T) { porttest.TestThrottle(t, dynamotest.NewStore(t).Throttle()) })
	t.Run("secrets", func(t *testing.T) { porttest.TestSecrets(t, dynamotest.NewStore(t).Secrets()) })
}

func TestProductSearchContract(t *testing.T) {
	t.Parallel()
	porttest.TestProductSearch(t, dynamotest.NewStore(t).ProductSearch())
}

func TestSalesTalliesContract(t *testing.T) {
	t.Parallel()
	porttest.TestSalesTallies(t, dynamotest.NewStore(t).SalesTallies())
}

func TestSagaStepsContract(t *testing.T) {
	t.Parallel()
	porttest.TestSagaSteps(t, dynamotest.NewStore(t).SagaSteps())
}

func TestExecutionsContract(t *testing.T) {
	t.Parallel()
	porttest.TestExecutions(t, func(t *testing.T) ports.Executions { return dynamotest.NewStore(t).Executions() })
}

func TestPublisherContract(t *testing.T) {
	t.Parallel()
	s := dynamotest.NewStore(t)
	porttest.TestPublisher(t, s.Publisher(), func(t *testing.T, key string) []ports.Message {
		got, err := dynamodb.StoredMessages(context.Background(), s, key)
		if err != nil {
			t.Fatal(err)
		}
		return got
	})
}
