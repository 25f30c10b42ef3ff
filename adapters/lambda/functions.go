package lambda

import (
	"slices"
	"time"
)

// Function is one Lambda function of the cloud shape: the role its
// bootstrap plays (UNICORN_FUNCTION), what starts it, and what it may
// touch. The CDK stack deploys exactly these and grants each one its
// Tables and nothing else; the cloud-shape tests record what each
// function really asks of DynamoDB and fail when a grant is missing.
type Function struct {
	Name string
	// Task is the resource placeholder of a saga the function fills
	// (purchase.asl.json's ReserveStockFunctionArn, return.asl.json's
	// RefundReturnFunctionArn), for the sagas' tasks.
	Task string
	// Tables are the store's tables it reads or writes, by kind (the
	// table's name without the deployment's prefix: "ledger", ...).
	Tables map[string]Access
	// Streams are the tables whose change streams it consumes.
	Streams []string
	// Every is the schedule of a sweep.
	Every time.Duration
	// StartsSagas: it starts purchase and return sagas and reads their
	// executions.
	StartsSagas bool
	// People: it reads the store's people from the Cognito user pool
	// (who a customer is, the users of a client).
	People bool
	// SendsTo are the queues it sends messages to, by kind (WebhookQueue).
	SendsTo []string
	// Queue is the queue whose messages invoke it (an event source
	// mapping reporting partial batch failures), by kind.
	Queue string
	// Timeout bounds one invocation.
	Timeout time.Duration
}

// Access is what a function may do to a table.
type Access int

const (
	// Read is GetItem, BatchGetItem, Query and ConditionCheckItem (a
	// transaction's condition on another item).
	Read Access = 1 << iota
	// Write is PutItem, UpdateItem, DeleteItem and BatchWriteItem.
	Write
)

// ReadWrite is both.
const ReadWrite = Read | Write

// WebhookQueue is the queue of webhook deliveries to try (a message is a
// delivery's id, delayed until it is due): the functions that store or
// replay deliveries send to it, the deliverer reads it and sends to it
// the deliveries to try again.
const WebhookQueue = "webhooks"

// Actions are the IAM actions of a.
func (a Access) Actions() []string {
	var out []string
	if a&Read != 0 {
		out = append(out, "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:ConditionCheckItem")
	}
	if a&Write != 0 {
		out = append(out, "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
	}
	return out
}

func (a Access) String() string {
	switch a {
	case Read:
		return "read"
	case Write:
		return "write"
	case ReadWrite:
		return "read-write"
	}
	return "none"
}

// Functions lists every function of the cloud shape. Every saga task
// records its steps in the retail table (ports.SagaSteps) beside the
// order it works on.
func Functions() []Function {
	const minute = time.Minute
	task := func(name string, tables map[string]Access) Function {
		tables["retail"] = ReadWrite
		return Function{Name: name, Task: name + "FunctionArn", Timeout: 30 * time.Second, Tables: tables}
	}
	none := func() map[string]Access { return map[string]Access{} }
	points := func() map[string]Access { return map[string]Access{"ledger": ReadWrite} }
	// Points earned or taken back move a member's tier: the review reads
	// the client's tier rules (a setting in the campaigns table) and
	// records a move in the ledger.
	pointsAndTier := func() map[string]Access { return map[string]Access{"ledger": ReadWrite, "campaigns": Read} }
	return []Function{
		// The API reads the points read model and product search; it
		// never publishes (the saga does) nor writes a read model (the
		// streams do). It keeps the webhook endpoints (campaigns table)
		// and replays a delivery (readmodels table): the replay goes to
		// the webhook queue.
		{Name: "api", StartsSagas: true, People: true, Timeout: 30 * time.Second, SendsTo: []string{WebhookQueue},
			Tables: map[string]Access{"ledger": ReadWrite, "balances": Read, "campaigns": ReadWrite, "retail": ReadWrite,
				"identity": ReadWrite, "readmodels": ReadWrite}},
		// The streams' consumers also turn events into webhook
		// deliveries: the endpoints are read in the campaigns table, the
		// deliveries stored in the readmodels table and queued.
		{Name: "ledger-stream", Streams: []string{"ledger"}, Timeout: minute, SendsTo: []string{WebhookQueue},
			Tables: map[string]Access{"balances": ReadWrite, "campaigns": Read, "readmodels": ReadWrite}},
		{Name: "retail-stream", Streams: []string{"retail", "messages"}, Timeout: minute, SendsTo: []string{WebhookQueue},
			Tables: map[string]Access{"readmodels": ReadWrite, "campaigns": Read}},
		// One attempt per delivery of a batch (the batch's at once, each
		// within -webhook-timeout); a delivery to try again, or not due
		// yet, goes back to the queue. It calls the endpoints on the
		// internet: it runs outside any VPC.
		{Name: "webhook-deliverer", Queue: WebhookQueue, SendsTo: []string{WebhookQueue}, Timeout: minute,
			Tables: map[string]Access{"readmodels": ReadWrite, "campaigns": Read}},
		// Daily: the lots about to expire (the points read model's due
		// index) become points.expiring deliveries.
		{Name: "webhook-expiring-scan", Every: 24 * time.Hour, Timeout: 15 * minute, SendsTo: []string{WebhookQueue},
			Tables: map[string]Access{"balances": Read, "campaigns": Read, "readmodels": ReadWrite}},
		// Expiry (and maturity) finds due lots in the read model and
		// appends to the ledger; the read model follows through the
		// stream. It reviews the tiers of the members it visits.
		{Name: "expire-points", Every: time.Hour, Timeout: 15 * minute,
			Tables: map[string]Access{"ledger": ReadWrite, "balances": Read, "campaigns": Read}},
		{Name: "release-stock", Every: minute, Timeout: 5 * minute,
			Tables: map[string]Access{"retail": ReadWrite}},
		{Name: "resume-orders", Every: minute, StartsSagas: true, Timeout: 5 * minute,
			Tables: map[string]Access{"retail": ReadWrite}},

		task("ReserveStock", none()),
		task("RedeemPoints", points()),
		task("ChargeWallet", none()),
		// Campaigns are read, and their budgets spent.
		task("AwardPoints", map[string]Access{"ledger": ReadWrite, "campaigns": ReadWrite}),
		task("CompleteOrder", none()),
		task("PublishPurchaseCompleted", map[string]Access{"messages": Write}),
		task("ReverseAward", pointsAndTier()),
		task("RefundWallet", none()),
		task("RestorePoints", points()),
		task("ReleaseStock", none()),
		task("FailOrder", none()),
		task("MarkNeedsAttention", none()),

		// The return saga: each step reads the order and its return.
		task("ReverseReturnAward", pointsAndTier()),
		task("RestoreReturnPoints", points()),
		// The refund is the return's share less the value of awarded
		// points the customer no longer had: the award's reversal in the
		// ledger says how many.
		task("RefundReturn", map[string]Access{"ledger": Read}),
		task("RestockReturn", none()),
		task("CompleteReturn", map[string]Access{"ledger": Read}),
		task("PublishOrderReturned", map[string]Access{"messages": Write}),
		task("MarkReturnNeedsAttention", none()),
	}
}

// FunctionNamed is the function of that name.
func FunctionNamed(name string) (Function, bool) {
	fns := Functions()
	i := slices.IndexFunc(fns, func(f Function) bool { return f.Name == name })
	if i < 0 {
		return Function{}, false
	}
	return fns[i], true
}
