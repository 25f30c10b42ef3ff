package points

import (
	"container/list"
	"sync"
)

// DefaultCachedAccounts is how many accounts' states a Service keeps
// between commands (see accountCache).
const DefaultCachedAccounts = 4096

// accountCache keeps the state of the accounts that had a command lately,
// as of their last append in this process, so that the next command on a
// hot account reads only the events appended since (usually none) instead
// of its snapshot and the events after that. On DynamoDB that is one
// request fewer per command, and on any store the snapshot is not decoded
// again. It is only ever a starting point: the command still reads the
// ledger after the cached version, so an append made by another process is
// applied before deciding, and the ledger's version check still guards the
// append.
//
// A state is taken out while a command uses it (commands on one account take
// turns under its lock anyway) and put back only after a successful append,
// so a state changed by a command that then lost its race is never reused.
type accountCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // of *Account, most recently used first
	byID  map[string]*list.Element
}

func newAccountCache(max int) *accountCache {
	return &accountCache{max: max, order: list.New(), byID: map[string]*list.Element{}}
}

// take removes and returns the account's state, or nil.
func (c *accountCache) take(account string) *Account {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byID[account]
	if !ok {
		return nil
	}
	c.order.Remove(e)
	delete(c.byID, account)
	return e.Value.(*Account)
}

// put keeps a's state, forgetting the least recently used beyond max.
func (c *accountCache) put(a *Account) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	id := a.id.String()
	if e, ok := c.byID[id]; ok {
		c.order.Remove(e)
	}
	c.byID[id] = c.order.PushFront(a)
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byID, last.Value.(*Account).id.String())
	}
}
