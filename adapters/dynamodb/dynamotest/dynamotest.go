// Package dynamotest runs tests against DynamoDB Local: Main starts one
// DynamoDB Local process (the AWS jar the Makefile fetches into
// .cache/dynamodb-local) for a test binary, and NewStore gives each test its
// own fresh tables in it.
//
// Without the jar, tests that need it are skipped with the reason, unless
// UNICORN_REQUIRE_DYNAMODB is set (make test sets it), in which case the
// test binary fails: CI can never pass by skipping them.
package dynamotest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/unicornstore/unicorn/adapters/dynamodb"
	"github.com/unicornstore/unicorn/internal/childproc"
)

var (
	endpoint   string
	pid        int // DynamoDB Local's process
	skipReason string
	tables     atomic.Int64
)

// Main starts DynamoDB Local, runs the tests and stops it. Call it from
// TestMain.
func Main(m *testing.M) {
	os.Exit(Run(m))
}

// Run is Main for a TestMain that has more to do: it starts DynamoDB
// Local, runs the tests, stops it and returns the tests' exit code.
func Run(m *testing.M) int {
	dir, err := jarDir()
	if err == nil {
		var stop func()
		stop, err = start(dir)
		if err == nil {
			defer stop()
		}
	}
	if err != nil {
		if os.Getenv("UNICORN_REQUIRE_DYNAMODB") != "" {
			fmt.Fprintln(os.Stderr, "dynamotest:", err)
			return 1
		}
		skipReason = err.Error()
	}
	return m.Run()
}

// jarDir finds the folder holding DynamoDBLocal.jar: $DYNAMODB_LOCAL_DIR,
// or .cache/dynamodb-local at the root of the module.
func jarDir() (string, error) {
	if d := os.Getenv("DYNAMODB_LOCAL_DIR"); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			jar := filepath.Join(d, ".cache", "dynamodb-local")
			if _, err := os.Stat(filepath.Join(jar, "DynamoDBLocal.jar")); err != nil {
				return "", fmt.Errorf("DynamoDB Local is not installed in %s: run `make dynamodb-local`", jar)
			}
			return jar, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("no go.mod above the working directory")
		}
	}
}

// start runs DynamoDB Local on a free port. The port is free when chosen
// but another process may take it before Java binds it (test binaries run
// side by side and open ports all the time): then the emulator exits at
// once, and start tries another port.
func start(dir string) (stop func(), err error) {
	for attempt := 1; ; attempt++ {
		stop, exited, err := startOn(dir)
		if err == nil || !exited || attempt == 3 {
			return stop, err
		}
	}
}

// startOn starts DynamoDB Local once; exited reports that it ended by
// itself (a port taken meanwhile) rather than not answering.
func startOn(dir string) (stop func(), exited bool, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, false, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command("java", "-Djava.library.path="+filepath.Join(dir, "DynamoDBLocal_lib"), "-jar", filepath.Join(dir, "DynamoDBLocal.jar"),
		"-inMemory", "-port", fmt.Sprint(port))
	cmd.Dir = dir
	childproc.DieWithParent(cmd)
	var out limitedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, false, fmt.Errorf("start DynamoDB Local (is Java installed?): %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop = func() {
		_ = cmd.Process.Kill()
		<-done
	}
	pid = cmd.Process.Pid
	endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)
	client := newClient()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := client.ListTables(ctx, &ddb.ListTablesInput{})
		cancel()
		if err == nil {
			return stop, false, nil
		}
		select {
		case <-done:
			return nil, true, fmt.Errorf("DynamoDB Local exited: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			stop()
			return nil, false, fmt.Errorf("DynamoDB Local did not answer within 60s: %v\n%s", err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func newClient(optFns ...func(*ddb.Options)) *ddb.Client {
	return ddb.New(ddb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	}, optFns...)
}

// CPUTime is the processor time DynamoDB Local has used so far (Linux; ok
// is false elsewhere), for benchmarks that report the emulator's cost.
func CPUTime() (d time.Duration, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil || pid == 0 {
		return 0, false
	}
	// Fields after the command's closing parenthesis; utime and stime are
	// the 14th and 15th of the line, in clock ticks (100 a second).
	rest := string(b)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, true
}

// Client returns a client of the running DynamoDB Local, or skips the test
// when it could not be started.
func Client(tb testing.TB) *ddb.Client {
	tb.Helper()
	if endpoint == "" {
		if skipReason == "" {
			tb.Fatal("dynamotest: call dynamotest.Main from TestMain")
		}
		tb.Skip("dynamotest: ", skipReason)
	}
	return newClient()
}

// StreamsClient returns a DynamoDB Streams client of the running DynamoDB
// Local (which serves the streams API at the same address), or skips the
// test when it could not be started.
func StreamsClient(tb testing.TB) *dynamodbstreams.Client {
	tb.Helper()
	Client(tb)
	return dynamodbstreams.New(dynamodbstreams.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}

// NewStore creates fresh, uniquely named tables for one test. optFns
// adjust its client (a middleware that counts requests, for one).
//
// The tables have no time to live: tests run on clocks set in the past,
// so what they write carries expiry times already past, and DynamoDB
// Local deletes such items in the background, at moments no test
// controls (an idempotency record gone in the middle of a race).
// TestTimeToLive turns it on (Store.CreateTables) on a store of its own.
func NewStore(tb testing.TB, optFns ...func(*ddb.Options)) *dynamodb.Store {
	tb.Helper()
	Client(tb) // skips without DynamoDB Local
	n := tables.Add(1)
	s, err := dynamodb.New(newClient(optFns...), TablesNamed(fmt.Sprint("_", n)))
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	for _, in := range dynamodb.TableDefinitions(s.Tables()) {
		if _, err := s.Client().CreateTable(ctx, in); err != nil {
			tb.Fatalf("create table %s: %v", *in.TableName, err)
		}
		w := ddb.NewTableExistsWaiter(s.Client(), func(o *ddb.TableExistsWaiterOptions) { o.MinDelay = 100 * time.Millisecond })
		if err := w.Wait(ctx, &ddb.DescribeTableInput{TableName: in.TableName}, 2*time.Minute); err != nil {
			tb.Fatalf("wait for table %s: %v", *in.TableName, err)
		}
	}
	return s
}

// TablesNamed returns the store's tables named with suffix.
func TablesNamed(suffix string) dynamodb.Tables {
	return dynamodb.Tables{Ledger: "ledger" + suffix, Balances: "balances" + suffix, Campaigns: "campaigns" + suffix, Retail: "retail" + suffix,
		Identity: "identity" + suffix, ReadModels: "readmodels" + suffix, Messages: "messages" + suffix, Executions: "executions" + suffix}
}

// Endpoint returns the address of the running DynamoDB Local ("" when it
// could not be started), for clients of other services (DynamoDB Streams).
func Endpoint() string { return endpoint }

// limitedBuffer keeps the first 64 KiB of the process's output, for errors.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := 64<<10 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }
