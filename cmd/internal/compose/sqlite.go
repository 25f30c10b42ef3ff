package compose

import "github.com/unicornstore/unicorn/adapters/sqlite"

// SQLiteStores are the ports of one SQLite database.
func SQLiteStores(db *sqlite.DB) Stores {
	return Stores{Ledger: db.Ledger(), Snapshots: db.Snapshots(), Balances: db.Balances(), Campaigns: db.Campaigns(),
		Catalog: db.Catalog(), Stock: db.Stock(), Wallets: db.Wallets(), Orders: db.Orders(), Publisher: db.Publisher(),
		ProductSearch: db.ProductSearch(), SalesTallies: db.SalesTallies(), Webhooks: db.Webhooks(), Users: db.Users(), APIKeys: db.APIKeys(),
		Sessions: db.Sessions(), Throttle: db.Throttle(), Secrets: db.Secrets(), Ping: db.Ping}
}
