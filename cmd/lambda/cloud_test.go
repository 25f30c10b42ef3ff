// The tests of this package run the store as AWS runs it, on this machine: DynamoDB
// Local with streams; the bootstrap that deploys (built for this machine's
// architecture), each function under the Lambda Runtime Interface
// Emulator; the unchanged purchase.asl.json and return.asl.json run by
// aws-local-stepfunctions behind a Step Functions API, their Task states
// invoking those functions;
// and a poller that plays the event source mappings, reading the tables'
// streams and handing batches to the consumer functions in Lambda's shape.
// SQS has no emulator here: a stand-in (adapters/sqs/sqstest) takes the
// functions' messages over SQS's own protocol, and the test plays the
// queue's event source mapping (webhooks_test.go).
// The tests assert on DynamoDB's state.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/unicornstore/unicorn/adapters/dynamodb"
	"github.com/unicornstore/unicorn/adapters/dynamodb/dynamotest"
	"github.com/unicornstore/unicorn/adapters/lambda"
	"github.com/unicornstore/unicorn/adapters/sqs/sqstest"
	"github.com/unicornstore/unicorn/cmd/internal/compose"
	"github.com/unicornstore/unicorn/domains/identity"
	"github.com/unicornstore/unicorn/domains/retail"
	"github.com/unicornstore/unicorn/orchestration/conformance"
	"github.com/unicornstore/unicorn/ports"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

// The sagas' state machines, as the stack names them (unicorn-<stage>-<saga>).
const (
	stateMachineARN       = "arn:aws:states:us-east-1:123456789012:stateMachine:unicorn-test-purchase"
	returnStateMachineARN = "arn:aws:states:us-east-1:123456789012:stateMachine:unicorn-test-return"
)

// cloud is one running deployment.
type cloud struct {
	fns    *functions
	store  *dynamodb.Store
	svc    *compose.Services // the same services, in the test, for setting up and reading state
	prefix string
	logDir string
	access *accessRecorder // what each function asked of DynamoDB
	client string          // the store's client
	sfn    *sfn.Client     // the Step Functions API, for how executions ended
	// queues stands in for SQS (there is no emulator of it here): the
	// functions send to it, and the test plays the event source mapping
	// of each queue. queueURLs are its queues, by kind.
	queues    *sqstest.Server
	queueURLs map[string]string
	// deadLetters are the messages the queues' mappings gave up on.
	deadLetters *deadLetters
}

// repoRoot is the module's root (the tests run in cmd/lambda).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// emulator finds the Lambda Runtime Interface Emulator (make lambda-tools),
// or skips (fails where make test says it must be there, as for the ASL
// tools).
func emulator(t *testing.T) string {
	t.Helper()
	rie := filepath.Join(repoRoot(t), ".cache", "bin", "aws-lambda-rie")
	if _, err := os.Stat(rie); err != nil {
		if os.Getenv("UNICORN_REQUIRE_ASL_TOOLS") != "" {
			t.Fatalf("the cloud-shape tests need the Lambda Runtime Interface Emulator (make lambda-tools): %v", err)
		}
		t.Skipf("the cloud-shape tests need the Lambda Runtime Interface Emulator (make lambda-tools): %v", err)
	}
	return rie
}

var prefixes atomic.Int64

// startCloud deploys the store on this machine, for one test.
func startCloud(t *testing.T) *cloud {
	t.Helper()
	if testing.Short() {
		t.Skip("the cloud shape takes a while: not in -short")
	}
	rie := emulator(t)
	ctx := t.Context()
	dir := t.TempDir()
	if keep := os.Getenv("UNICORN_CLOUD_LOGS"); keep != "" {
		// Keep the functions' logs for a look after the test.
		dir = keep
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c := &cloud{prefix: fmt.Sprintf("cloud%d-%d-", os.Getpid(), prefixes.Add(1)), logDir: dir}

	// The bootstrap that deploys, built for this machine (the deployed one
	// is the same source for arm64: make lambdas).
	bootstrap := filepath.Join(dir, "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bootstrap, "./cmd/lambda")
	build.Dir = repoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the bootstrap: %v\n%s", err, out)
	}

	// The tables, created as a deployment would have them.
	cfg := compose.Defaults()
	cfg.Store, cfg.DynamoDBEndpoint, cfg.TablePrefix, cfg.CreateTables = "dynamodb", dynamotest.Endpoint(), c.prefix, true
	var err error
	if c.store, _, err = compose.OpenDynamoDB(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	c.client = cfg.StoreClient
	c.svc, err = compose.NewServices(ctx, cfg, compose.DynamoStores(c.store),
		compose.Deps{Log: slog.New(slog.DiscardHandler), Hash: identity.HashParams{MemoryKiB: 64, Passes: 1, Lanes: 1}},
		func(*retail.Steps) (compose.Runners, error) {
			return compose.Runners{Purchases: noSagas{}, Returns: noSagas{}}, nil
		})
	if err != nil {
		t.Fatal(err)
	}

	// The router's address first: the Step Functions runtime calls it, and
	// the functions call Step Functions.
	routerLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The Step Functions API over aws-local-stepfunctions, running the
	// unchanged purchase.asl.json and return.asl.json, their tasks
	// calling the router.
	sfnURL := conformance.StartStepFunctions(t, []string{"AWS_ENDPOINT_URL_LAMBDA=http://" + routerLn.Addr().String(),
		"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local"},
		conformance.Machine{ARN: stateMachineARN, Definition: filepath.Join(repoRoot(t), "orchestration", "purchase.asl.json")},
		conformance.Machine{ARN: returnStateMachineARN, Definition: filepath.Join(repoRoot(t), "orchestration", "return.asl.json")})
	c.sfn = sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(sfnURL),
		Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")})

	// The functions reach DynamoDB through a recorder of who does what.
	var ddbURL string
	c.access, ddbURL = startAccessRecorder(t, dynamotest.Endpoint(), c.prefix)
	// The queues, as the stack declares them (one per kind the catalog
	// names).
	c.queues, c.queueURLs, c.deadLetters = sqstest.New(t), map[string]string{}, &deadLetters{}
	for _, def := range lambda.Functions() {
		for _, kind := range append(slices.Clone(def.SendsTo), def.Queue) {
			if kind != "" {
				c.queueURLs[kind] = c.queues.Queue(c.prefix + kind)
			}
		}
	}
	env := []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		"AWS_ENDPOINT_URL_DYNAMODB=" + ddbURL, "AWS_ENDPOINT_URL_SFN=" + sfnURL, "AWS_ENDPOINT_URL_SQS=" + c.queues.URL,
		// The tests' webhook receivers listen on this machine, over http.
		"UNICORN_WEBHOOK_ALLOW_PRIVATE=true",
		"UNICORN_TABLE_PREFIX=" + c.prefix, "UNICORN_STATE_MACHINE_ARN=" + stateMachineARN,
		"UNICORN_RETURN_STATE_MACHINE_ARN=" + returnStateMachineARN, "LOG_FORMAT=json",
		// A purchase or a return answers at once (202) and the test
		// follows the order, as the web app does with Prefer:
		// respond-async.
		"UNICORN_PURCHASE_WAIT=0s"}
	// Every function of the catalog, with a few instances where Lambda
	// would run several at once.
	var fns []function
	for _, def := range lambda.Functions() {
		fn := function{name: def.Name, instances: 1}
		switch {
		case def.Name == "api":
			fn.instances = 4
		case def.Task != "", def.Queue != "":
			fn.instances = 3
		}
		fn.env = append(append([]string{}, env...), "UNICORN_FUNCTION="+fn.name, "AWS_SDK_UA_APP_ID="+fn.name)
		// Only the functions the catalog lets send to the webhook queue
		// are told where it is, as the stack does.
		if slices.Contains(def.SendsTo, lambda.WebhookQueue) {
			fn.env = append(fn.env, "UNICORN_WEBHOOK_QUEUE_URL="+c.queueURLs[lambda.WebhookQueue])
		}
		fns = append(fns, fn)
	}
	if c.fns, err = startFunctions(routerLn, rie, bootstrap, dir, fns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.fns.stop()
		if t.Failed() {
			c.dumpLogs(t)
		}
	})

	// The event source mappings: the ledger's stream feeds the points
	// read model; the retail table's (products) and the messages table's
	// (PurchaseCompleted) feed product search and the sales tallies.
	streams := dynamotest.StreamsClient(t)
	streamLogFile, err := os.Create(filepath.Join(dir, "streams.log"))
	if err != nil {
		t.Fatal(err)
	}
	streamLog := slog.New(slog.NewTextHandler(streamLogFile, nil))
	pollCtx, stopPolling := context.WithCancel(context.Background())
	t.Cleanup(stopPolling)
	mappings := map[string]string{} // table: function
	for _, def := range lambda.Functions() {
		for _, kind := range def.Streams {
			mappings[c.prefix+kind] = def.Name
		}
	}
	for table, fn := range mappings {
		arn, err := c.store.StreamARN(ctx, table)
		if err != nil {
			t.Fatal(err)
		}
		reader := dynamodb.NewStreamReader(streams, arn, dynamodb.StreamReaderConfig{MaxIdleWait: 200 * time.Millisecond, Log: streamLog})
		go func() {
			_ = reader.Run(pollCtx, func(ctx context.Context, batch []streamtypes.Record) error { return c.deliver(ctx, fn, batch) })
		}()
	}
	// The queues' event source mappings.
	var queueLoops sync.WaitGroup
	t.Cleanup(func() { stopPolling(); queueLoops.Wait() })
	for _, def := range lambda.Functions() {
		if def.Queue != "" {
			queueLoops.Go(func() { c.playQueue(pollCtx, def.Name, c.queueURLs[def.Queue], streamLog) })
		}
	}
	return c
}

// deliver hands a batch to a consumer function through the Lambda API, as
// an event source mapping does.
func (c *cloud) deliver(ctx context.Context, fn string, batch []streamtypes.Record) error {
	return lambda.Consume(ctx, batch, func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		var resp events.DynamoDBEventResponse
		out, fnErr, err := c.fns.invoke(ctx, fn, ev)
		if err == nil && fnErr != "" {
			err = fmt.Errorf("%s failed: %s", fn, out)
		}
		if err == nil {
			err = json.Unmarshal(out, &resp)
		}
		return resp, err
	}, 0, nil) // never give up: a record that never goes through fails the test by its wait
}

func (c *cloud) dumpLogs(t *testing.T) {
	entries, _ := os.ReadDir(c.logDir)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".log") {
			continue
		}
		b, _ := os.ReadFile(filepath.Join(c.logDir, e.Name()))
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		if len(b) > 0 {
			t.Logf("--- %s (end) ---\n%s", e.Name(), b)
		}
	}
}

// call sends an API Gateway HTTP API event to the api function and
// returns its response's status and body.
func (c *cloud) call(t *testing.T, method, path, token, body string, headers ...string) (int, string) {
	t.Helper()
	ev := apiEvent(t, method, path, token, body, headers...)
	out, fnErr, err := c.fns.invoke(t.Context(), "api", ev)
	if err != nil || fnErr != "" {
		t.Fatalf("%s %s: %v %s %s", method, path, err, fnErr, out)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("%s %s answered %s: %v", method, path, out, err)
	}
	return resp.StatusCode, resp.Body
}

func (c *cloud) services() *compose.Services { return c.svc }

// servicesAt are the deployment's services in the test, on another clock
// and with no saga runner: a process of the past.
func (c *cloud) servicesAt(ctx context.Context, clk ports.Clock) (*compose.Services, error) {
	cfg := compose.Defaults()
	return compose.NewServices(ctx, cfg, compose.DynamoStores(c.store), compose.Deps{Clock: clk, Log: slog.New(slog.DiscardHandler), Hash: testHash},
		func(*retail.Steps) (compose.Runners, error) {
			return compose.Runners{Purchases: noSagas{}, Returns: noSagas{}}, nil
		})
}
func (c *cloud) stores() compose.Stores { return compose.DynamoStores(c.store) }
func (c *cloud) storeClient() string    { return c.client }
