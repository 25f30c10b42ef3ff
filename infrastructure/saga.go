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

// placeholder is a ${Name} of the ASL definition.
var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9]+)\}`)

// newStateMachine is the purchase saga: the unchanged purchase.asl.json
// as a Standard state machine, each ${...FunctionArn} substituted with
// the task function of the catalog that fills it. The functions that
// start sagas may start and describe its executions, nothing more.
func (s *store) newStateMachine(alarms *alarms) awsstepfunctions.StateMachine {
	subs := map[string]*string{}
	var tasks []*string
	for _, m := range placeholder.FindAllStringSubmatch(string(orchestration.Purchase), -1) {
		name := m[1]
		i := slices.IndexFunc(lambda.Functions(), func(f lambda.Function) bool { return f.Task == name })
		mustf(i >= 0, "the purchase saga's %s is no function of the catalog", name)
		fn := s.functions[lambda.Functions()[i].Name]
		subs[name] = fn.FunctionArn()
		tasks = append(tasks, fn.FunctionArn())
	}
	logs := awslogs.NewLogGroup(s.stack, jsii.String("PurchaseSagaLogs"), &awslogs.LogGroupProps{
		// Step Functions writes to groups under /aws/vendedlogs/ without
		// a resource policy per group.
		LogGroupName:  jsii.String("/aws/vendedlogs/states/" + s.machineName()),
		Retention:     logRetention,
		RemovalPolicy: s.removal,
	})
	machine := awsstepfunctions.NewStateMachine(s.stack, jsii.String("PurchaseSaga"), &awsstepfunctions.StateMachineProps{
		StateMachineName:        jsii.String(s.machineName()),
		StateMachineType:        awsstepfunctions.StateMachineType_STANDARD,
		DefinitionBody:          awsstepfunctions.DefinitionBody_FromString(jsii.String(string(orchestration.Purchase))),
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
			// Executions are named by order: their ARNs are the
			// machine's, with "execution" for "stateMachine".
			s.roles[def.Name].AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions: jsii.Strings("states:DescribeExecution"),
				Resources: jsii.Strings(*s.stack.FormatArn(&awscdk.ArnComponents{
					Service: jsii.String("states"), Resource: jsii.String("execution"),
					ResourceName: jsii.String(s.machineName() + ":*"), ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME})),
			}))
			s.functions[def.Name].AddEnvironment(jsii.String("UNICORN_STATE_MACHINE_ARN"), machine.StateMachineArn(), nil)
		}
	}
	alarms.saga(machine, s.functions)
	return machine
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
