package sqstest_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/unicornstore/unicorn/adapters/sqs/sqstest"
)

// The stand-in, through the real SDK client: it queues what SQS queues
// (the SDK checks the MD5 of each body it answers) and refuses what SQS
// refuses, with SQS's error codes.
func TestStandIn(t *testing.T) {
	srv := sqstest.New(t)
	url := srv.Queue("q")
	client := awssqs.New(awssqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), AppID: "tester",
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), RetryMaxAttempts: 1})
	ctx := t.Context()
	entries := func(n int, delay int32) []types.SendMessageBatchRequestEntry {
		var out []types.SendMessageBatchRequestEntry
		for i := range n {
			out = append(out, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(fmt.Sprintf("body %d ü", i)), DelaySeconds: delay})
		}
		return out
	}
	out, err := client.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries(10, 5)})
	if err != nil || len(out.Successful) != 10 || len(out.Failed) != 0 {
		t.Fatalf("a batch of 10: %+v %v", out, err)
	}
	if _, err := client.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("one")}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Receive(url, 10, time.Minute); len(got) != 1 || got[0].Body != "one" || got[0].SentBy != "tester" || got[0].ReceiveCount != 1 {
		t.Errorf("received %+v; want only the undelayed message", got)
	}
	if n := srv.Release(url, func(m sqstest.Message) bool { return m.Delay == 5*time.Second }); n != 10 {
		t.Errorf("released %d, want the 10 delayed", n)
	}
	if got := srv.Receive(url, 10, time.Minute); len(got) != 10 {
		t.Errorf("received %d after the release, want 10", len(got))
	}
	dup := entries(2, 0)
	dup[1].Id = dup[0].Id
	bad := entries(1, 0)
	bad[0].Id = aws.String("a.b")
	for _, tc := range []struct {
		in   *awssqs.SendMessageBatchInput
		code string
	}{
		{&awssqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries(11, 0)}, "TooManyEntriesInBatchRequest"},
		{&awssqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: dup}, "BatchEntryIdsNotDistinct"},
		{&awssqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: bad}, "InvalidBatchEntryId"},
		{&awssqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries(1, 901)}, "InvalidParameterValue"},
		{&awssqs.SendMessageBatchInput{QueueUrl: aws.String(srv.URL + "/123456789012/none"), Entries: entries(1, 0)}, "QueueDoesNotExist"},
	} {
		_, err := client.SendMessageBatch(ctx, tc.in)
		if e, ok := errors.AsType[smithy.APIError](err); !ok || e.ErrorCode() != tc.code {
			t.Errorf("want %s, got %v", tc.code, err)
		}
	}
	reqs := srv.Requests()
	if len(reqs) != 7 || reqs[0].Refused != "" || reqs[6].Refused != "QueueDoesNotExist" {
		t.Errorf("requests %+v", reqs)
	}
}
