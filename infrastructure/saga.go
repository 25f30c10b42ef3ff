package main

import (
	"encoding/json"
	"regexp"
	"slices"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"

	"github.com/unicornstore/unicorn/adapters/dynamodb"
	"github.com/unicornstore/unicorn/adapters/lambda"
	"github.com/unicornstore/unicorn/orchestration"
)

// placeholder is a ${Name} of an ASL definition.
var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9]+)\}`)

// saga is one saga of orchestration/ as the cloud runs it.
type saga struct {
	// id is its state machine's construct id; its log group's is
	// id+"Logs".
	id string
	// name is the saga's name (orchestration.PurchaseMachine): its state
	// machine is unicorn-<stage>-<name>.
	name       string
	definition []byte
	// env gives its state machine's ARN to the functions that start
	// sagas (the configuration table's setting).
	env string
	// output is the stack's output of its ARN.
	output, doc string
	alarms      sagaAlarms
}

// sagaAlarms say which of a saga's runs an operator must hear of, beside
// those that ended outside the saga's own paths (a timeout, a stop).
type sagaAlarms struct {
	// parkedBy is the task that parks a run for an operator, alarmed on
	// by its invocations where most failed runs need no one (a purchase
	// out of stock); "" where every failed run does.
	parkedBy, parkedDoc string
	// failedAt failed runs in five minutes raise failedDoc.
	failedAt  float64
	failedDoc string
}

// sagas are the store's sagas: a purchase, and a return of an order's
// lines.
var sagas = []saga{
	{id: "PurchaseSaga", name: orchestration.PurchaseMachine, definition: orchestration.Purchase, env: "UNICORN_STATE_MACHINE_ARN",
		output: "StateMachineArn", doc: "the purchase saga", alarms: sagaAlarms{
			parkedBy:  "MarkNeedsAttention",
			parkedDoc: "a purchase could not be compensated and waits for an operator (GET /orders?status=needs_attention, then retry)",
			failedAt:  50, failedDoc: "more than 50 purchase sagas failed in 5 minutes (business failures included)"}},
	// A return has no business failure: it recovers forward, and a run
	// fails only when a step kept failing (the return waits for an
	// operator) or its OrderReturned was not published.
	{id: "ReturnSaga", name: orchestration.ReturnMachine, definition: orchestration.Return, env: "UNICORN_RETURN_STATE_MACHINE_ARN",
		output: "ReturnStateMachineArn", doc: "the return saga", alarms: sagaAlarms{
			failedAt: 1, failedDoc: "a return saga run failed: the return waits for an operator (GET /orders?status=needs_attention, " +
				"then retry), or it completed and its OrderReturned was not published (the function's logs say which)"}},
}

// machineName is the saga's state machine's name.
func (s *store) machineName(sg saga) string { return "unicorn-" + s.props.Stage + "-" + sg.name }

// newStateMachine is a saga: its unchanged definition as a Standard state
// machine, each ${...FunctionArn} substituted with the task function of
// the catalog that fills it, which the machine may invoke and nothing
// else. The functions that start sagas may start and describe its
// executions, nothing more.
func (s *store) newStateMachine(sg saga, alarms *alarms) awsstepfunctions.StateMachine {
	subs := map[string]*string{}
	var tasks []*string
	for _, m := range placeholder.FindAllStringSubmatch(string(sg.definition), -1) {
		name := m[1]
		if _, done := subs[name]; done {
			continue
		}
		i := slices.IndexFunc(lambda.Functions(), func(f lambda.Function) bool { return f.Task == name })
		mustf(i >= 0, "the %s saga's %s is no function of the catalog", sg.name, name)
		fn := s.functions[lambda.Functions()[i].Name]
		subs[name] = fn.FunctionArn()
		tasks = append(tasks, fn.FunctionArn())
	}
	logs := awslogs.NewLogGroup(s.stack, jsii.String(sg.id+"Logs"), &awslogs.LogGroupProps{
		// Step Functions writes to groups under /aws/vendedlogs/ without
		// a resource policy per group.
		LogGroupName:  jsii.String("/aws/vendedlogs/states/" + s.machineName(sg)),
		Retention:     logRetention,
		RemovalPolicy: s.removal,
	})
	machine := awsstepfunctions.NewStateMachine(s.stack, jsii.String(sg.id), &awsstepfunctions.StateMachineProps{
		StateMachineName:        jsii.String(s.machineName(sg)),
		StateMachineType:        awsstepfunctions.StateMachineType_STANDARD,
		DefinitionBody:          awsstepfunctions.DefinitionBody_FromString(jsii.String(string(sg.definition))),
		DefinitionSubstitutions: &subs,
		TracingEnabled:          jsii.Bool(true),
		Logs: &awsstepfunctions.LogOptions{Destination: logs, Level: awsstepfunctions.LogLevel_ALL,
			IncludeExecutionData: jsii.Bool(true)},
		RemovalPolicy: s.removal,
	})
	// Exactly the task functions (not their versions: the definition
	// names the functions themselves).
	machine.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("lambda:InvokeFunction"),
		Resources: &tasks,
	}))
	for _, def := range lambda.Functions() {
		if def.StartsSagas {
			s.roles[def.Name].AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings("states:StartExecution"),
				Resources: jsii.Strings(*machine.StateMachineArn()),
			}))
			// Executions are named by order (and return): their ARNs
			// are the machine's, with "execution" for "stateMachine".
			s.roles[def.Name].AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings("states:DescribeExecution"),
				Resources: jsii.Strings(s.executionsARN(sg)),
			}))
			s.functions[def.Name].AddEnvironment(jsii.String(sg.env), machine.StateMachineArn(), nil)
		}
	}
	alarms.saga(sg, machine, s.functions)
	return machine
}

// executionsARN names every execution of the saga's state machine.
func (s *store) executionsARN(sg saga) string {
	return *s.stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("states"), Resource: jsii.String("execution"),
		ResourceName: jsii.String(s.machineName(sg) + ":*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME})
}

// Event source mappings: how long a record is retried before it goes to
// its dead-letter queue. The consumers are idempotent and gap-aware, so a
// record that fails for good stops its account's read model until an
// operator looks (the queue's alarm) and rebuilds it.
const (
	streamRetries   = 10
	streamRecordAge = 24 * 60 * 60 // seconds
	streamBatch     = 100
)

// newStreams maps each consumer function to the streams it reads, with
// the adapter's filter (only records that carry messages invoke it),
// partial batch failures, bisection, finite retries and a dead-letter
// queue per stream: the ledger's feeds the points read model; the retail
// table's (products) and the messages table's (PurchaseCompleted) feed
// product search and the sales tallies.
func (s *store) newStreams(alarms *alarms) {
	filters := dynamodb.StreamFilters(dynamodb.TablesNamed(s.prefix))
	for _, def := range lambda.Functions() {
		for _, kind := range def.Streams {
			table := s.tables.byKind[kind]
			filter, ok := filters[s.prefix+kind]
			mustf(ok, "the %s table's stream carries no messages", kind)
			var pattern map[string]any
			mustf(json.Unmarshal([]byte(filter.Pattern()), &pattern) == nil, "filter pattern %s", filter.Pattern())
			dlq := s.deadLetterQueue(constructID(kind)+"StreamDLQ", alarms)
			s.functions[def.Name].AddEventSource(awslambdaeventsources.NewDynamoEventSource(table, &awslambdaeventsources.DynamoEventSourceProps{
				StartingPosition:        awslambda.StartingPosition_TRIM_HORIZON,
				BatchSize:               jsii.Number(streamBatch),
				Filters:                 &[]*map[string]any{awslambda.FilterCriteria_Filter(&pattern)},
				ReportBatchItemFailures: jsii.Bool(true),
				BisectBatchOnError:      jsii.Bool(true),
				RetryAttempts:           jsii.Number(streamRetries),
				MaxRecordAge:            awscdk.Duration_Seconds(jsii.Number(streamRecordAge)),
				OnFailure:               awslambdaeventsources.NewSqsDlq(dlq),
				// One batch at a time per shard: a shard's records are in
				// order per item, and the consumers rely on it.
				ParallelizationFactor: jsii.Number(1),
			}))
		}
	}
}

// newSchedules runs each sweep on its schedule, with the rule's own
// retries and a dead-letter queue for invocations that never happened.
func (s *store) newSchedules(alarms *alarms) {
	dlq := s.deadLetterQueue("ScheduleDLQ", alarms)
	for _, def := range lambda.Functions() {
		if def.Every <= 0 {
			continue
		}
		awsevents.NewRule(s.stack, jsii.String(constructID(def.Name)+"Schedule"), &awsevents.RuleProps{
			Description: jsii.String("runs " + def.Name),
			Schedule:    awsevents.Schedule_Rate(seconds(def.Every)),
			Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(s.functions[def.Name], &awseventstargets.LambdaFunctionProps{
				RetryAttempts:   jsii.Number(2),
				MaxEventAge:     seconds(max(def.Every, time.Minute)),
				DeadLetterQueue: dlq,
			})},
		})
	}
}

// deadLetterQueue is an encrypted queue that keeps what failed for two
// weeks, with an alarm on its depth.
func (s *store) deadLetterQueue(id string, alarms *alarms) awssqs.Queue {
	q := awssqs.NewQueue(s.stack, jsii.String(id), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
		RemovalPolicy:   s.removal,
	})
	alarms.deadLetters(id, q)
	s.deadLetterQueues = append(s.deadLetterQueues, q)
	return q
}
