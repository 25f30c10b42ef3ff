// Command lambda is every AWS Lambda function of the store in one binary
// (docs/decisions/0013-cloud-shape.md): UNICORN_FUNCTION chooses the
// role when the function starts.
//
//	api                         API Gateway HTTP API (payload 2.0) events
//	ReserveStock, ChargeWallet, one per Task of orchestration/purchase.asl.json
//	RefundReturn, ...           and of orchestration/return.asl.json
//	                            (the placeholder's name without "FunctionArn")
//	ledger-stream               the ledger table's stream -> the points read model, webhooks
//	retail-stream               the retail and messages tables' streams -> product search,
//	                            sales tallies, webhooks of orders completed and returned
//	expire-points               scheduled: the points expiry sweep
//	release-stock               scheduled: give back stock held past its reservation
//	resume-orders               scheduled: start again the sagas of stranded orders
//	webhook-deliverer           the webhook queue (SQS) -> one attempt per delivery
//	webhook-expiring-scan       scheduled (daily): points about to expire -> points.expiring webhooks
//
// The rest of the configuration is the one-machine server's, from the
// environment (docs: README, "The cloud shape").
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	awslambda "github.com/aws/aws-lambda-go/lambda"

	"github.com/unicornstore/unicorn/adapters/lambda"
	"github.com/unicornstore/unicorn/cmd/internal/compose"
)

func main() {
	h, err := handler(context.Background(), os.Getenv, os.Stderr)
	if err != nil {
		// Printed to the function's log; the runtime reports the failed
		// start to the caller.
		fmt.Fprintln(os.Stderr, "unicorn lambda:", err)
		os.Exit(1)
	}
	awslambda.Start(h)
}

// handler builds the handler of the role UNICORN_FUNCTION names.
func handler(ctx context.Context, getenv func(string) string, stderr io.Writer) (any, error) {
	role := getenv("UNICORN_FUNCTION")
	build, ok := roles[role]
	fn, inCatalog := lambda.FunctionNamed(role)
	if !ok || !inCatalog {
		return nil, fmt.Errorf("UNICORN_FUNCTION=%q: must be one of %s", role, strings.Join(roleNames(), ", "))
	}
	c, err := compose.ParseConfig("lambda", nil, getenv, stderr)
	if err != nil {
		return nil, err
	}
	log := compose.NewLogger(c, stderr).With("function", role)
	slog.SetDefault(log)
	return build(ctx, fn, c, log)
}

func roleNames() []string {
	names := make([]string, 0, len(roles))
	for n := range roles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
