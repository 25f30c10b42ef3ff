package main

import (
	"slices"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/unicornstore/unicorn/adapters/lambda"
)

// queueDef is one queue of the catalog's functions (their SendsTo and
// Queue name it by kind).
type queueDef struct {
	kind string
	// id is its construct id; its dead-letter queue's is id+"DLQ".
	id string
	// env gives its URL to the functions that send to it (the
	// configuration table's setting).
	env string
}

// queues are the store's queues: the webhook deliveries to try.
var queues = []queueDef{
	{kind: lambda.WebhookQueue, id: "WebhookQueue", env: "UNICORN_WEBHOOK_QUEUE_URL"},
}

// The event source mapping of a queue, and its redrive policy: a message
// its function reported failed (an error, not a delivery to try again:
// the function queues that itself) comes back after the visibility
// timeout, and goes to the dead-letter queue at its fifth receive, where
// an alarm tells an operator, who moves it back once the cause is gone
// (SQS's redrive).
const (
	queueBatch       = 10
	queueMaxReceives = 5
	// queueConcurrency bounds the deliverers running at once, so the
	// store's calls to its clients' endpoints stay bounded too (each
	// invocation tries its batch at once).
	queueConcurrency = 5
	// queueVisibility is the visibility timeout, in timeouts of the
	// consuming function: AWS advises six, so that a batch still being
	// retried by the function's own invocation is not handed over again.
	queueVisibility = 6
	// queueRetention: a message is a delivery to try within 15 minutes;
	// four days cover an outage of the deliverer over a long weekend.
	queueRetention = 4 * 24 * time.Hour
)

// newQueues creates each queue (encrypted, TLS only, with its dead-letter
// queue and its alarm), grants sqs:SendMessage on it to the functions
// whose SendsTo names it and tells them its URL, and maps it to the
// function that consumes it (batches, partial batch failures).
func (s *store) newQueues(alarms *alarms) {
	for _, def := range lambda.Functions() {
		for _, kind := range append(slices.Clone(def.SendsTo), def.Queue) {
			mustf(kind == "" || slices.ContainsFunc(queues, func(q queueDef) bool { return q.kind == kind }),
				"%s names the %q queue, which the stack does not declare", def.Name, kind)
		}
	}
	for _, qd := range queues {
		var consumer *lambda.Function
		for _, def := range lambda.Functions() {
			if def.Queue == qd.kind {
				mustf(consumer == nil, "two functions consume the %s queue", qd.kind)
				consumer = &def
			}
		}
		mustf(consumer != nil, "no function consumes the %s queue", qd.kind)
		dlq := s.deadLetterQueue(qd.id+"DLQ", alarms)
		q := awssqs.NewQueue(s.stack, jsii.String(qd.id), &awssqs.QueueProps{
			Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
			EnforceSSL:        jsii.Bool(true),
			VisibilityTimeout: seconds(queueVisibility * consumer.Timeout),
			RetentionPeriod:   seconds(queueRetention),
			DeadLetterQueue:   &awssqs.DeadLetterQueue{MaxReceiveCount: jsii.Number(queueMaxReceives), Queue: dlq},
			RemovalPolicy:     s.removal,
		})
		for _, def := range lambda.Functions() {
			for _, kind := range def.SendsTo {
				if kind != qd.kind {
					continue
				}
				// SendMessageBatch is authorized as sqs:SendMessage.
				s.roles[def.Name].AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Actions:   jsii.Strings("sqs:SendMessage"),
					Resources: jsii.Strings(*q.QueueArn()),
				}))
				s.functions[def.Name].AddEnvironment(jsii.String(qd.env), q.QueueUrl(), nil)
			}
		}
		s.functions[consumer.Name].AddEventSource(awslambdaeventsources.NewSqsEventSource(q, &awslambdaeventsources.SqsEventSourceProps{
			BatchSize:               jsii.Number(queueBatch),
			ReportBatchItemFailures: jsii.Bool(true),
			MaxConcurrency:          jsii.Number(queueConcurrency),
		}))
		s.queues[qd.kind] = q
	}
}
