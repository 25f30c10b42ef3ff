package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/unicornstore/unicorn/adapters/lambda"
)

// StoreProps is what a deployment (a stage) chooses.
type StoreProps struct {
	awscdk.StackProps
	// Stage names the deployment ("prod", "test"); its tables are
	// "unicorn-<stage>-ledger", ...
	Stage string
	// Production keeps data when the stack goes: deletion protection on
	// the tables and the user pool, everything retained on delete.
	Production bool
	// Bootstrap is the functions' zip (make lambdas).
	Bootstrap string
	// WebApp is the built web app's directory (make webapp).
	WebApp string
	// StoreClient is the store's client (UNICORN_STORE_CLIENT).
	StoreClient string
	// CORSOrigins are web origins other than the stack's own that may
	// call the API from a browser (the web app is served from the same
	// origin as the API and needs none).
	CORSOrigins []string
	// AlarmEmail, when set, is subscribed to the alarms' topic.
	AlarmEmail string
	// ReserveConcurrency reserves concurrency for the sweeps (one run at
	// a time). Off for accounts whose concurrency quota is still the
	// new-account 10, where Lambda refuses any reservation.
	ReserveConcurrency bool
	// Throttle of the API: steady requests per second, and burst.
	RateLimit, BurstLimit float64
}

// logRetention is how long the functions', the state machines' and the
// API's logs are kept.
const logRetention = awslogs.RetentionDays_ONE_MONTH

// store is the stack while it is being built.
type store struct {
	stack     awscdk.Stack
	props     StoreProps
	prefix    string
	removal   awscdk.RemovalPolicy
	tables    *tables
	catalog   map[string]lambda.Function
	functions map[string]awslambda.Function
	roles     map[string]awsiam.Role
	// For cdk-nag's suppressions (nag.go).
	machines         map[string]awsstepfunctions.StateMachine // by saga name
	userPool         awscognito.UserPool
	distribution     awscloudfront.Distribution
	deadLetterQueues []awssqs.Queue
	queues           map[string]awssqs.Queue // by kind
}

// NewStoreStack is the whole store on AWS: DynamoDB tables, the functions
// of adapters/lambda's catalog with their grants, the purchase and return
// sagas on Step Functions, the streams and schedules that drive the
// consumers and sweeps, the queue of webhook deliveries and its
// deliverer, the HTTP API behind a Cognito JWT authorizer, the web app on
// S3 and CloudFront, and alarms.
func NewStoreStack(scope constructs.Construct, id string, props StoreProps) awscdk.Stack {
	if props.Stage == "" || props.Bootstrap == "" || props.WebApp == "" || props.StoreClient == "" {
		panic("a stage, the bootstrap's zip, the web app and the store's client are required")
	}
	s := &store{stack: awscdk.NewStack(scope, &id, &props.StackProps), props: props,
		prefix: "unicorn-" + props.Stage + "-", removal: awscdk.RemovalPolicy_DESTROY,
		catalog: map[string]lambda.Function{}, functions: map[string]awslambda.Function{}, roles: map[string]awsiam.Role{},
		machines: map[string]awsstepfunctions.StateMachine{}, queues: map[string]awssqs.Queue{}}
	for _, def := range lambda.Functions() {
		s.catalog[def.Name] = def
	}
	if props.Production {
		s.removal = awscdk.RemovalPolicy_RETAIN
	}
	awscdk.Tags_Of(s.stack).Add(jsii.String("app"), jsii.String("unicorn-store"), nil)
	awscdk.Tags_Of(s.stack).Add(jsii.String("stage"), jsii.String(props.Stage), nil)

	s.tables = s.newTables()
	alarms := s.newAlarms()
	s.newFunctions(alarms)
	s.newQueues(alarms)
	for _, sg := range sagas {
		s.machines[sg.name] = s.newStateMachine(sg, alarms)
	}
	s.newStreams(alarms)
	s.newSchedules(alarms)
	pool, client := s.newUserPool()
	api, openRoutes := s.newAPI(pool, client, alarms)
	web := s.newWeb(api)
	s.userPool, s.distribution = pool, web
	s.suppressNag(openRoutes)

	out := func(name, value, doc string) {
		awscdk.NewCfnOutput(s.stack, jsii.String(name), &awscdk.CfnOutputProps{Value: jsii.String(value), Description: jsii.String(doc)})
	}
	out("WebUrl", "https://"+*web.DistributionDomainName(), "the store, its API on the same origin")
	out("ApiUrl", *api.ApiEndpoint(), "the HTTP API itself (for partner systems)")
	out("UserPoolId", *pool.UserPoolId(), "the Cognito user pool: add users and put them in a group (customer, marketer, admin)")
	out("UserPoolClientId", *client.UserPoolClientId(), "the app client the web app and the authorizer use")
	for _, sg := range sagas {
		out(sg.output, *s.machines[sg.name].StateMachineArn(), sg.doc)
	}
	out("AlarmTopicArn", *alarms.topic.TopicArn(), "subscribe to the alarms here")
	return s.stack
}

// newFunctions creates every function of the catalog, each with its own
// role that may write its own logs and touch only its own tables.
func (s *store) newFunctions(alarms *alarms) {
	code := awslambda.Code_FromAsset(jsii.String(s.props.Bootstrap), nil)
	for _, def := range lambda.Functions() {
		id := functionID(def)
		logs := awslogs.NewLogGroup(s.stack, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
			Retention: logRetention, RemovalPolicy: s.removal})
		role := awsiam.NewRole(s.stack, jsii.String(id+"Role"), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			Description: jsii.String("the " + def.Name + " function"),
		})
		// Its own log group, not the managed policy's every group.
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
			Resources: jsii.Strings(*logs.LogGroupArn()),
		}))
		for kind, access := range def.Tables {
			role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings(access.Actions()...),
				Resources: jsii.Strings(s.tables.arns(kind)...),
			}))
		}
		env := map[string]*string{
			"UNICORN_FUNCTION":     jsii.String(def.Name),
			"UNICORN_TABLE_PREFIX": jsii.String(s.prefix),
			"UNICORN_STORE_CLIENT": jsii.String(s.props.StoreClient),
			"UNICORN_DEMO":         jsii.String("false"),
			"LOG_FORMAT":           jsii.String("json"),
		}
		memory := 256.0
		if def.Name == "api" {
			memory = 1024 // password hashing (Argon2id) wants memory, and CPU comes with it
		}
		fn := awslambda.NewFunction(s.stack, jsii.String(id), &awslambda.FunctionProps{
			Description:  jsii.String("unicorn " + def.Name),
			Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
			Architecture: awslambda.Architecture_ARM_64(),
			Handler:      jsii.String("bootstrap"),
			Code:         code,
			Role:         role,
			LogGroup:     logs,
			Environment:  &env,
			MemorySize:   jsii.Number(memory),
			Timeout:      seconds(def.Timeout),
			Tracing:      awslambda.Tracing_ACTIVE,
		})
		if def.Every > 0 {
			if s.props.ReserveConcurrency {
				// One sweep at a time: two would only race for the same
				// items of the same table.
				fn.Node().DefaultChild().(awslambda.CfnFunction).SetReservedConcurrentExecutions(jsii.Number(1))
			}
			// The schedule is the retry: the next run sweeps what this one
			// left. (Lambda keeps an event six hours at most.)
			fn.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{RetryAttempts: jsii.Number(0),
				MaxEventAge: seconds(min(max(def.Every, time.Minute), 6*time.Hour))})
		}
		s.functions[def.Name], s.roles[def.Name] = fn, role
		alarms.functionErrors(def, fn)
	}
}

// functionID is a function's construct id: saga tasks are "Task" and
// their state (TaskReleaseStock, beside the release-stock sweep's
// ReleaseStock).
func functionID(def lambda.Function) string {
	if def.Task != "" {
		return "Task" + def.Name
	}
	return constructID(def.Name) + "Function"
}

// constructID is a function's name as a construct id: "ledger-stream" is
// LedgerStream.
func constructID(name string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(name, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

func seconds(d time.Duration) awscdk.Duration {
	return awscdk.Duration_Seconds(jsii.Number(d.Seconds()))
}

func mustf(ok bool, format string, args ...any) {
	if !ok {
		panic(fmt.Sprintf(format, args...))
	}
}
