package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/jsii-runtime-go"

	"github.com/unicornstore/unicorn/adapters/lambda"
)

// alarms raise what an operator must look at on one topic.
type alarms struct {
	s     *store
	topic awssns.Topic
}

func (s *store) newAlarms() *alarms {
	topic := awssns.NewTopic(s.stack, jsii.String("Alarms"), &awssns.TopicProps{
		DisplayName: jsii.String("Unicorn Store " + s.props.Stage + " alarms"),
		MasterKey:   awskms.Alias_FromAliasName(s.stack, jsii.String("SnsKey"), jsii.String("alias/aws/sns")),
		EnforceSSL:  jsii.Bool(true),
	})
	if s.props.AlarmEmail != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(s.props.AlarmEmail), nil))
	}
	return &alarms{s: s, topic: topic}
}

// alarm raises when metric reaches threshold in one period.
func (a *alarms) alarm(id, doc string, metric awscloudwatch.IMetric, threshold float64) {
	al := awscloudwatch.NewAlarm(a.s.stack, jsii.String(id), &awscloudwatch.AlarmProps{
		AlarmDescription:   jsii.String(doc),
		Metric:             metric,
		Threshold:          jsii.Number(threshold),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	al.AddAlarmAction(awscloudwatchactions.NewSnsAction(a.topic))
}

var fiveMinutes = awscdk.Duration_Minutes(jsii.Number(5))

// deadLetters: anything in a dead-letter queue is work that did not
// happen.
func (a *alarms) deadLetters(id string, q awssqs.Queue) {
	a.alarm(id+"Depth", "records or events failed for good and wait in "+id+": see README, \"Deploy to AWS\"",
		q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: fiveMinutes,
			Statistic: jsii.String("Maximum")}), 1)
}

// functionErrors: a function that fails (not a business refusal: those
// are results) is a defect or an outage.
func (a *alarms) functionErrors(def lambda.Function, fn awslambda.Function) {
	if def.Task != "" {
		// A task's business errors (OutOfStock, ...) count as Lambda
		// errors: the saga's own alarms below say what matters.
		return
	}
	a.alarm(functionID(def)+"Errors", def.Name+" failed", fn.MetricErrors(&awscloudwatch.MetricOptions{Period: fiveMinutes}), 1)
}

// saga: runs that ended outside the saga's own paths (a timeout, a stop,
// a runtime error) leave their orders for an operator; so does a run
// parked by the saga's own task for it (a purchase whose compensation
// kept failing); and failed runs beyond the saga's usual are worth a look
// too (business failures included, for a purchase).
func (a *alarms) saga(sg saga, machine awsstepfunctions.StateMachine, fns map[string]awslambda.Function) {
	period := &awscloudwatch.MetricOptions{Period: fiveMinutes}
	a.alarm(sg.id+"RunsEndedOutsideIt", sg.doc+"'s runs timed out or were stopped: their orders need an operator (GET /orders?status=needs_attention)",
		awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String("timedOut + aborted"),
			UsingMetrics: &map[string]awscloudwatch.IMetric{
				"timedOut": machine.MetricTimedOut(period), "aborted": machine.MetricAborted(period)},
			Period: fiveMinutes,
		}), 1)
	if sg.alarms.parkedBy != "" {
		fn, ok := fns[sg.alarms.parkedBy]
		mustf(ok, "the %s saga is parked by %s, no function of the catalog", sg.name, sg.alarms.parkedBy)
		a.alarm(sg.id+"RunsParked", sg.alarms.parkedDoc, fn.MetricInvocations(period), 1)
	}
	a.alarm(sg.id+"RunsFailing", sg.alarms.failedDoc, machine.MetricFailed(period), sg.alarms.failedAt)
}

// api: answers of 500 and above.
func (a *alarms) api(api awsapigatewayv2.HttpApi) {
	a.alarm("Api5xx", "the API answered 5xx", api.MetricServerError(&awscloudwatch.MetricOptions{Period: fiveMinutes}), 5)
}
