package main

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"

	"github.com/unicornstore/unicorn/adapters/cognito"
	"github.com/unicornstore/unicorn/adapters/dynamodb"
	"github.com/unicornstore/unicorn/adapters/httpapi"
	"github.com/unicornstore/unicorn/adapters/lambda"
)

// The tests read the stacks as CloudFormation will: synthesized once (the
// CDK runs in Node.js and takes seconds), a development stage and a
// production one, both checked by cdk-nag.

type synthesized struct {
	dev, prod       awscdk.Stack
	devT, prodT     assertions.Template
	devJSON, prodJS template
}

// template is a synthesized CloudFormation template.
type template struct {
	Resources map[string]resource
	Outputs   map[string]any
}

type resource struct {
	Type       string
	Properties map[string]any
}

var (
	once   sync.Once
	stacks *synthesized
	synErr error
)

func synth(t *testing.T) *synthesized {
	t.Helper()
	once.Do(func() { stacks, synErr = doSynth() })
	if synErr != nil {
		t.Fatal(synErr)
	}
	return stacks
}

func doSynth() (*synthesized, error) {
	dir, err := os.MkdirTemp("", "unicorn-cdk-")
	if err != nil {
		return nil, err
	}
	// The functions' zip: its bytes only change the asset's hash, so a
	// small stand-in spares the tests an arm64 build (make synth packs
	// the real one).
	bootstrap := filepath.Join(dir, "bootstrap.zip")
	if err := writeZip(bootstrap, "bootstrap", "#!/bin/sh\n"); err != nil {
		return nil, err
	}
	webApp, _ := filepath.Abs("../webapp/dist")
	if _, err := os.Stat(filepath.Join(webApp, "index.html")); err != nil {
		return nil, fmt.Errorf("the built web app is missing (make webapp): %w", err)
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(filepath.Join(dir, "cdk.out"))})
	base := StoreProps{Bootstrap: bootstrap, WebApp: webApp, StoreClient: "UnicornStore", ReserveConcurrency: true,
		RateLimit: 200, BurstLimit: 400, CORSOrigins: []string{"https://partner.example.com"}}
	dev, prod := base, base
	dev.Stage = "dev"
	prod.Stage, prod.Production, prod.AlarmEmail = "prod", true, "ops@example.com"
	s := &synthesized{dev: NewStoreStack(app, "UnicornStore-dev", dev), prod: NewStoreStack(app, "UnicornStore-prod", prod)}
	checkWithNag(app)
	s.devT = assertions.Template_FromStack(s.dev, nil)
	s.prodT = assertions.Template_FromStack(s.prod, nil)
	for _, p := range []struct {
		t   assertions.Template
		out *template
	}{{s.devT, &s.devJSON}, {s.prodT, &s.prodJS}} {
		b, err := json.Marshal(p.t.ToJSON())
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, p.out); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func writeZip(path, name, content string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	z := zip.NewWriter(f)
	w, err := z.Create(name)
	if err == nil {
		_, err = w.Write([]byte(content))
	}
	if err == nil {
		err = z.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// of returns the resources of a type, by logical id.
func (t template) of(typ string) map[string]resource {
	out := map[string]resource{}
	for id, r := range t.Resources {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

// functionsByRole are the logical ids of the functions, by their
// UNICORN_FUNCTION.
func (t template) functionsByRole(tb testing.TB) map[string]string {
	tb.Helper()
	out := map[string]string{}
	for id, r := range t.of("AWS::Lambda::Function") {
		env, _ := r.Properties["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		if role, ok := vars["UNICORN_FUNCTION"].(string); ok {
			out[role] = id
		}
	}
	return out
}

// ref is the logical id an intrinsic ({"Ref": id} or {"Fn::GetAtt":
// [id, attr]}) points at.
func ref(v any) string {
	m, _ := v.(map[string]any)
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if g, ok := m["Fn::GetAtt"].([]any); ok && len(g) > 0 {
		s, _ := g[0].(string)
		return s
	}
	return ""
}

func TestNagFindsNothing(t *testing.T) {
	s := synth(t)
	for _, st := range []awscdk.Stack{s.dev, s.prod} {
		errs := assertions.Annotations_FromStack(st).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
		for _, e := range *errs {
			t.Errorf("%s: %s %v", *st.StackName(), *e.Id, e.Entry.Data)
		}
		warns := assertions.Annotations_FromStack(st).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
		for _, w := range *warns {
			t.Errorf("%s: %s %v", *st.StackName(), *w.Id, w.Entry.Data)
		}
	}
}

// Every route of the local route table is a route of the HTTP API, and
// nothing else is; those only signed-in people may call carry the
// Cognito JWT authorizer.
func TestEveryRouteOfTheRouteTable(t *testing.T) {
	s := synth(t)
	s.devT.ResourceCountIs(jsii.String("AWS::ApiGatewayV2::Route"), jsii.Number(len(httpapi.RouteTable())))
	s.devT.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Authorizer"), map[string]any{
		"AuthorizerType":   "JWT",
		"IdentitySource":   []any{"$request.header.Authorization"},
		"JwtConfiguration": assertions.Match_ObjectLike(&map[string]any{"Audience": assertions.Match_AnyValue()}),
	})
	authorizers := s.devJSON.of("AWS::ApiGatewayV2::Authorizer")
	if len(authorizers) != 1 {
		t.Fatalf("%d authorizers, want the one JWT authorizer", len(authorizers))
	}
	var authorizer string
	for id := range authorizers {
		authorizer = id
	}
	routes := map[string]resource{}
	for _, r := range s.devJSON.of("AWS::ApiGatewayV2::Route") {
		routes[r.Properties["RouteKey"].(string)] = r
	}
	var want, got []string
	for _, rt := range httpapi.RouteTable() {
		method, path := routeKey(rt.Pattern)
		key := method + " " + path
		want = append(want, key)
		r, ok := routes[key]
		if !ok {
			continue
		}
		signedIn := !rt.Anonymous && !rt.APIKeys
		if hasAuth := r.Properties["AuthorizationType"] == "JWT" && ref(r.Properties["AuthorizerId"]) == authorizer; hasAuth != signedIn {
			t.Errorf("%s: JWT authorizer %v, want %v (anonymous %v, API keys %v)", key, hasAuth, signedIn, rt.Anonymous, rt.APIKeys)
		}
	}
	for key := range routes {
		got = append(got, key)
	}
	sort.Strings(want)
	sort.Strings(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("API routes (-the route table +the stack):\n%s", diff)
	}
}

// Pages of the configured origins may call the API as the server's own
// CORS policy lets them; API Gateway answers their preflights.
func TestCORSIsTheServers(t *testing.T) {
	s := synth(t)
	s.devT.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Api"), map[string]any{
		"CorsConfiguration": map[string]any{
			"AllowOrigins":  []any{"https://partner.example.com"},
			"AllowMethods":  httpapi.CORS.Methods,
			"AllowHeaders":  httpapi.CORS.AllowHeaders,
			"ExposeHeaders": httpapi.CORS.ExposeHeaders,
			"MaxAge":        httpapi.CORS.MaxAge.Seconds(),
		},
	})
}

func TestRouteKeys(t *testing.T) {
	for pattern, want := range map[string]string{
		"GET /{$}":                               "GET /",
		"GET /assets/":                           "GET /assets/{proxy+}",
		"GET /orders/{id}":                       "GET /orders/{id}",
		"POST /users/{username}/wallet/deposits": "POST /users/{username}/wallet/deposits",
		"GET /.well-known/jwks.json":             "GET /.well-known/jwks.json",
	} {
		if m, p := routeKey(pattern); m+" "+p != want {
			t.Errorf("%s: %s %s, want %s", pattern, m, p, want)
		}
	}
}

// machines are the deployed state machines, by saga name.
func (t template) machines(tb testing.TB) map[string]string {
	tb.Helper()
	out := map[string]string{}
	for id, m := range t.of("AWS::StepFunctions::StateMachine") {
		name, _ := m.Properties["StateMachineName"].(string)
		saga, ok := strings.CutPrefix(name, "unicorn-dev-")
		if !ok {
			tb.Errorf("%s: state machine %q is not named for the stage", id, name)
		}
		out[saga] = id
	}
	return out
}

// Each saga is its definition, unchanged, as a Standard state machine of
// its own, traced and logging to a log group of its own: each
// placeholder becomes the ARN of the task function the catalog names for
// it, and the machine may invoke exactly those functions.
func TestStateMachinesAreTheSagas(t *testing.T) {
	s := synth(t)
	tm := s.devJSON
	machines := tm.machines(t)
	if len(machines) != 2 || len(sagas) != 2 {
		t.Fatalf("state machines %v for the sagas %v: want the purchase's and the return's", machines, sagas)
	}
	fns := tm.functionsByRole(t)
	logGroups := map[string]bool{}
	tasks := map[string]bool{} // every task function of every saga
	for _, sg := range sagas {
		t.Run(sg.name, func(t *testing.T) {
			m, ok := tm.Resources[machines[sg.name]]
			if !ok {
				t.Fatalf("the %s saga has no state machine", sg.name)
			}
			p := m.Properties
			logging, _ := p["LoggingConfiguration"].(map[string]any)
			dests, _ := logging["Destinations"].([]any)
			var group string
			if len(dests) == 1 {
				cw, _ := dests[0].(map[string]any)["CloudWatchLogsLogGroup"].(map[string]any)
				group = ref(cw["LogGroupArn"])
			}
			if p["StateMachineType"] != "STANDARD" || p["TracingConfiguration"].(map[string]any)["Enabled"] != true ||
				logging["Level"] != "ALL" || logging["IncludeExecutionData"] != true ||
				tm.Resources[group].Properties["LogGroupName"] != "/aws/vendedlogs/states/unicorn-dev-"+sg.name || logGroups[group] {
				t.Errorf("%s: %v (log group %s)", sg.name, p, group)
			}
			logGroups[group] = true
			def, ok := p["DefinitionString"].(string)
			if !ok {
				t.Fatalf("the definition is not one string: %v", p["DefinitionString"])
			}
			if def != string(sg.definition) {
				t.Errorf("the deployed definition differs from the %s saga's", sg.name)
			}
			subs, _ := p["DefinitionSubstitutions"].(map[string]any)
			placeholders := map[string]bool{}
			for _, p := range placeholder.FindAllStringSubmatch(def, -1) {
				placeholders[p[1]] = true
			}
			if len(placeholders) == 0 {
				t.Fatal("the definition has no placeholders")
			}
			var want []string
			for name := range placeholders {
				task := strings.TrimSuffix(name, "FunctionArn")
				want = append(want, fns[task])
				if tasks[task] {
					t.Errorf("%s is a task of two sagas", task)
				}
				tasks[task] = true
				v, ok := subs[name]
				if !ok {
					t.Errorf("${%s} is not substituted", name)
					continue
				}
				g, _ := v.(map[string]any)["Fn::GetAtt"].([]any)
				if len(g) != 2 || g[0] != fns[task] || g[1] != "Arn" {
					t.Errorf("${%s} is %v, want the ARN of the %s function (%s)", name, v, task, fns[task])
				}
			}
			for name := range subs {
				if !placeholders[name] {
					t.Errorf("substitution %s names no placeholder of the definition", name)
				}
			}
			// The machine's role may invoke its tasks, and no other
			// function.
			var invoked []string
			for _, st := range tm.statementsOf(ref(p["RoleArn"])) {
				if slices.Contains(asList(st["Action"]), "lambda:InvokeFunction") {
					for _, r := range resourceList(st["Resource"]) {
						invoked = append(invoked, ref(r))
					}
				}
			}
			slices.Sort(want)
			slices.Sort(invoked)
			if diff := cmp.Diff(want, invoked); diff != "" {
				t.Errorf("the functions the %s saga may invoke (-its tasks +granted):\n%s", sg.name, diff)
			}
			if out, _ := tm.Outputs[sg.output].(map[string]any); ref(out["Value"]) != machines[sg.name] {
				t.Errorf("the stack's output %s is %v, want the %s saga's state machine", sg.output, out, sg.name)
			}
			validate(t, sg.name, def)
		})
	}
	for _, def := range lambda.Functions() {
		if (def.Task != "") != tasks[def.Name] {
			t.Errorf("%s fills %q and is a task of a saga: %v", def.Name, def.Task, tasks[def.Name])
		}
	}
}

// validate: as Step Functions will read a definition, with ARNs in
// place, asl-validator approves it.
func validate(t *testing.T, name, def string) {
	t.Helper()
	validator, _ := filepath.Abs("../orchestration/conformance/node_modules/asl-validator/dist/bin/asl-validator.js")
	if _, err := os.Stat(validator); err != nil {
		if os.Getenv("UNICORN_REQUIRE_ASL_TOOLS") != "" {
			t.Fatalf("asl-validator is required (make asl-tools): %v", err)
		}
		t.Skipf("asl-validator is missing (make asl-tools): %v", err)
	}
	deployed := placeholder.ReplaceAllStringFunc(def, func(p string) string {
		name := placeholder.FindStringSubmatch(p)[1]
		return "arn:aws:lambda:eu-west-1:123456789012:function:unicorn-dev-" + strings.TrimSuffix(name, "FunctionArn")
	})
	path := filepath.Join(t.TempDir(), name+".json")
	if err := os.WriteFile(path, []byte(deployed), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("node", validator, "--json-path", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "is valid") {
		t.Errorf("asl-validator on the %s saga: %v\n%s", name, err, out)
	}
}

// statementsOf are the statements of every policy of a role (by logical
// id).
func (t template) statementsOf(role string) []map[string]any {
	var out []map[string]any
	for _, p := range t.of("AWS::IAM::Policy") {
		roles, _ := p.Properties["Roles"].([]any)
		if len(roles) != 1 || ref(roles[0]) != role {
			continue
		}
		for _, st := range p.Properties["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			out = append(out, st.(map[string]any))
		}
	}
	return out
}

// The functions that start sagas may start each saga's state machine and
// describe its executions, and are told its ARN; no other function may
// do either, nor is told.
func TestSagaStarters(t *testing.T) {
	s := synth(t)
	tm := s.devJSON
	machines := tm.machines(t)
	fns := tm.functionsByRole(t)
	for _, def := range lambda.Functions() {
		fn := tm.Resources[fns[def.Name]]
		vars := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
		// What it may do to Step Functions, as "action resource".
		var got []string
		for _, st := range tm.statementsOf(ref(fn.Properties["Role"])) {
			for _, a := range asList(st["Action"]) {
				if !strings.HasPrefix(a, "states:") {
					continue
				}
				resources, ok := st["Resource"].([]any)
				if !ok {
					resources = []any{st["Resource"]}
				}
				for _, r := range resources {
					got = append(got, a+" "+stateResource(r))
				}
			}
		}
		var want []string
		for _, sg := range sagas {
			env, told := vars[sg.env]
			if !def.StartsSagas {
				if told {
					t.Errorf("%s is told %s: it starts no saga", def.Name, sg.env)
				}
				continue
			}
			if ref(env) != machines[sg.name] {
				t.Errorf("%s: %s is %v, want the %s saga's state machine (%s)", def.Name, sg.env, env, sg.name, machines[sg.name])
			}
			want = append(want, "states:StartExecution "+machines[sg.name],
				"states:DescribeExecution arn:<partition>:states:<region>:<account>:execution:unicorn-dev-"+sg.name+":*")
		}
		slices.Sort(want)
		slices.Sort(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s's Step Functions grants (-want +got):\n%s", def.Name, diff)
		}
	}
}

// stateResource reads a statement's resource on Step Functions: a state
// machine's logical id ({"Ref": id}), or an ARN joined with the stack's
// pseudo parameters (arn:<partition>:states:...).
func stateResource(r any) string {
	if id := ref(r); id != "" {
		return id
	}
	if s, ok := r.(string); ok {
		return s
	}
	j, _ := r.(map[string]any)["Fn::Join"].([]any)
	if len(j) != 2 {
		return fmt.Sprint(r)
	}
	var b strings.Builder
	for _, part := range j[1].([]any) {
		switch p := part.(type) {
		case string:
			b.WriteString(p)
		case map[string]any:
			b.WriteString(map[string]string{"AWS::Partition": "<partition>", "AWS::Region": "<region>", "AWS::AccountId": "<account>"}[ref(p)])
		}
	}
	return b.String()
}

// The tables are the adapter's: keys, attribute types, indexes,
// streams and time to live from dynamodb.TableDefinitions; on demand,
// point-in-time recovery, and deletion protection in production.
func TestTablesAreTheAdapters(t *testing.T) {
	s := synth(t)
	for _, tc := range []struct {
		stage      string
		tmpl       template
		production bool
	}{{"dev", s.devJSON, false}, {"prod", s.prodJS, true}} {
		named := dynamodb.TablesNamed("unicorn-" + tc.stage + "-")
		ttl := dynamodb.TimeToLive(named)
		deployed := map[string]resource{}
		for _, r := range tc.tmpl.of("AWS::DynamoDB::Table") {
			deployed[r.Properties["TableName"].(string)] = r
		}
		for _, def := range dynamodb.TableDefinitions(named) {
			name := *def.TableName
			r, ok := deployed[name]
			if name == named.Executions {
				if ok {
					t.Errorf("%s: the executions table is the local executor's; Step Functions keeps its own", name)
				}
				continue
			}
			if !ok {
				t.Errorf("%s: not deployed", name)
				continue
			}
			delete(deployed, name)
			if diff := cmp.Diff(tableShape(def, ttl[name]), deployedShape(r)); diff != "" {
				t.Errorf("%s (-adapter +stack):\n%s", name, diff)
			}
			p := r.Properties
			pitr, _ := p["PointInTimeRecoverySpecification"].(map[string]any)
			if p["BillingMode"] != "PAY_PER_REQUEST" || pitr["PointInTimeRecoveryEnabled"] != true {
				t.Errorf("%s: billing %v, point-in-time recovery %v", name, p["BillingMode"], pitr)
			}
			if got := p["DeletionProtectionEnabled"] == true; got != tc.production {
				t.Errorf("%s: deletion protection %v, want %v", name, got, tc.production)
			}
		}
		for name := range deployed {
			t.Errorf("%s: a table the adapter does not define", name)
		}
	}
}

// shape is what both sides say about a table.
type shape struct {
	Keys    []string          // name:type:HASH|RANGE
	Indexes map[string]string // name: keys and projection
	Stream  string
	TTL     string
}

func tableShape(def *ddbTable, ttl string) shape {
	attrTypes := map[string]string{}
	for _, a := range def.AttributeDefinitions {
		attrTypes[*a.AttributeName] = string(a.AttributeType)
	}
	keys := func(ks []keyElem) []string {
		var out []string
		for _, k := range ks {
			out = append(out, *k.AttributeName+":"+attrTypes[*k.AttributeName]+":"+string(k.KeyType))
		}
		return out
	}
	s := shape{Keys: keys(def.KeySchema), Indexes: map[string]string{}, TTL: ttl}
	for _, g := range def.GlobalSecondaryIndexes {
		s.Indexes[*g.IndexName] = strings.Join(keys(g.KeySchema), ",") + " " + string(g.Projection.ProjectionType)
	}
	if def.StreamSpecification != nil && *def.StreamSpecification.StreamEnabled {
		s.Stream = string(def.StreamSpecification.StreamViewType)
	}
	return s
}

func deployedShape(r resource) shape {
	p := r.Properties
	attrTypes := map[string]string{}
	for _, a := range p["AttributeDefinitions"].([]any) {
		a := a.(map[string]any)
		attrTypes[a["AttributeName"].(string)] = a["AttributeType"].(string)
	}
	keys := func(ks any) []string {
		var out []string
		for _, k := range ks.([]any) {
			k := k.(map[string]any)
			name := k["AttributeName"].(string)
			out = append(out, name+":"+attrTypes[name]+":"+k["KeyType"].(string))
		}
		return out
	}
	s := shape{Keys: keys(p["KeySchema"]), Indexes: map[string]string{}}
	if gsis, ok := p["GlobalSecondaryIndexes"].([]any); ok {
		for _, g := range gsis {
			g := g.(map[string]any)
			s.Indexes[g["IndexName"].(string)] = strings.Join(keys(g["KeySchema"]), ",") + " " +
				g["Projection"].(map[string]any)["ProjectionType"].(string)
		}
	}
	if st, ok := p["StreamSpecification"].(map[string]any); ok {
		s.Stream, _ = st["StreamViewType"].(string)
	}
	if ttl, ok := p["TimeToLiveSpecification"].(map[string]any); ok && ttl["Enabled"] == true {
		s.TTL, _ = ttl["AttributeName"].(string)
	}
	return s
}

// Each consumer reads its tables' streams as the adapter and the catalog
// say, and a record that keeps failing ends in a dead-letter queue after
// bounded retries, never blocking its shard for good.
func TestStreamMappings(t *testing.T) {
	s := synth(t)
	tm := s.devJSON
	fns := tm.functionsByRole(t)
	tables := map[string]string{} // logical id: table name
	for id, r := range tm.of("AWS::DynamoDB::Table") {
		tables[id] = r.Properties["TableName"].(string)
	}
	filters := dynamodb.StreamFilters(dynamodb.TablesNamed("unicorn-dev-"))
	want := map[string]bool{}
	for _, def := range lambda.Functions() {
		for _, kind := range def.Streams {
			want[def.Name+" "+"unicorn-dev-"+kind] = true
		}
	}
	got := map[string]bool{}
	for id, m := range tm.of("AWS::Lambda::EventSourceMapping") {
		p := m.Properties
		if tm.Resources[ref(p["EventSourceArn"])].Type == "AWS::SQS::Queue" {
			continue // a queue's (TestQueues)
		}
		fn := ""
		for role, logical := range fns {
			if logical == ref(p["FunctionName"]) {
				fn = role
			}
		}
		table := tables[ref(p["EventSourceArn"])]
		got[fn+" "+table] = true
		var pattern any
		fc, _ := p["FilterCriteria"].(map[string]any)
		fl, _ := fc["Filters"].([]any)
		if len(fl) == 1 {
			_ = json.Unmarshal([]byte(fl[0].(map[string]any)["Pattern"].(string)), &pattern)
		}
		var wantPattern any
		_ = json.Unmarshal([]byte(filters[table].Pattern()), &wantPattern)
		if filters[table].KeyPrefix == "" || !cmp.Equal(pattern, wantPattern) {
			t.Errorf("%s (%s on %s): filter %v, want %s", id, fn, table, fc, filters[table].Pattern())
		}
		dest, _ := p["DestinationConfig"].(map[string]any)
		onFailure, _ := dest["OnFailure"].(map[string]any)
		queue := tm.Resources[ref(onFailure["Destination"])]
		if p["StartingPosition"] != "TRIM_HORIZON" || !slices.Equal(toStrings(p["FunctionResponseTypes"]), []string{"ReportBatchItemFailures"}) ||
			p["BisectBatchOnFunctionError"] != true || p["MaximumRetryAttempts"] != float64(streamRetries) ||
			p["MaximumRecordAgeInSeconds"] != float64(streamRecordAge) || queue.Type != "AWS::SQS::Queue" || p["ParallelizationFactor"] != float64(1) {
			t.Errorf("%s (%s on %s): failure settings %v", id, fn, table, p)
		}
	}
	if !cmp.Equal(want, got) {
		t.Errorf("stream mappings %v, want %v", got, want)
	}
}

// rate reads "rate(5 minutes)".
func rate(expr string) time.Duration {
	var n int
	var unit string
	if _, err := fmt.Sscanf(strings.TrimSuffix(strings.TrimPrefix(expr, "rate("), ")"), "%d %s", &n, &unit); err != nil {
		return 0
	}
	per := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(unit, "s")]
	return time.Duration(n) * per
}

func toStrings(v any) []string {
	var out []string
	l, _ := v.([]any)
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// Actions IAM only grants on "*" (AWS documents no resource for them).
var noResourceActions = []string{
	"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
	"dynamodb:ListStreams",
	"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
	"logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
}

// Each function's role may do to DynamoDB exactly what the catalog
// grants it (which the cloud-shape tests check against what it really
// does), and no statement of the store's roles has a wildcard action, or
// a "*" resource where the actions take a specific one.
func TestLeastPrivilege(t *testing.T) {
	s := synth(t)
	tm := s.devJSON
	roleOf := map[string]string{} // role logical id: function name
	for role, id := range tm.functionsByRole(t) {
		roleOf[ref(tm.Resources[id].Properties["Role"])] = role
	}
	tableOf := map[string]string{} // table logical id: kind
	for id, r := range tm.of("AWS::DynamoDB::Table") {
		tableOf[id] = strings.TrimPrefix(r.Properties["TableName"].(string), "unicorn-dev-")
	}
	machineRoles := map[string]bool{}
	for _, m := range tm.of("AWS::StepFunctions::StateMachine") {
		machineRoles[ref(m.Properties["RoleArn"])] = true
	}
	granted := map[string]map[string][]string{} // function: table kind: actions
	checked := 0
	for id, p := range tm.of("AWS::IAM::Policy") {
		var roles []string
		for _, r := range p.Properties["Roles"].([]any) {
			roles = append(roles, ref(r))
		}
		fn := roleOf[roles[0]]
		if len(roles) != 1 || (fn == "" && !machineRoles[roles[0]]) {
			// Only CDK's own helper that copies the web app into its
			// bucket during a deployment (its wildcards are CDK's, and
			// suppressed with that reason in nag.go) may be left out.
			if !strings.HasPrefix(roles[0], "CustomCDKBucketDeployment") {
				t.Errorf("%s: the policy of %v is no function's, the state machine's, nor CDK's deployment helper's", id, roles)
			}
			continue
		}
		checked++
		doc := p.Properties["PolicyDocument"].(map[string]any)
		for _, st := range doc["Statement"].([]any) {
			st := st.(map[string]any)
			actions := asList(st["Action"])
			resources := st["Resource"]
			for _, a := range actions {
				if strings.Contains(a, "*") {
					t.Errorf("%s: wildcard action %s", id, a)
				}
			}
			if resources == "*" {
				for _, a := range actions {
					if !slices.Contains(noResourceActions, a) {
						t.Errorf("%s: %s on \"*\", though it takes a resource", id, a)
					}
				}
				continue
			}
			if fn == "" || !strings.HasPrefix(actions[0], "dynamodb:") || actions[0] == "dynamodb:DescribeStream" ||
				actions[0] == "dynamodb:GetRecords" || actions[0] == "dynamodb:GetShardIterator" {
				continue
			}
			for _, r := range resourceList(resources) {
				kind := tableOf[ref(r)]
				if kind == "" {
					t.Errorf("%s: %v on %v, not a table", fn, actions, r)
					continue
				}
				if granted[fn] == nil {
					granted[fn] = map[string][]string{}
				}
				granted[fn][kind] = actions
			}
		}
	}
	if checked < len(lambda.Functions())+len(sagas) {
		t.Fatalf("checked %d policies, want one per function and the state machines'", checked)
	}
	for _, def := range lambda.Functions() {
		want := map[string][]string{}
		for kind, access := range def.Tables {
			want[kind] = access.Actions()
		}
		if diff := cmp.Diff(want, granted[def.Name]); diff != "" {
			t.Errorf("%s's DynamoDB grants (-catalog +stack):\n%s", def.Name, diff)
		}
	}
}

func asList(v any) []string {
	if s, ok := v.(string); ok {
		return []string{s}
	}
	return toStrings(v)
}

// resourceList is a statement's resources: a table's ARN, or an index's
// ({"Fn::Join": ["", [{"Fn::GetAtt": [table, "Arn"]}, "/index/..."]]}).
func resourceList(v any) []any {
	var l []any
	if x, ok := v.([]any); ok {
		l = x
	} else {
		l = []any{v}
	}
	var out []any
	for _, r := range l {
		if j, ok := r.(map[string]any)["Fn::Join"].([]any); ok && len(j) == 2 {
			parts := j[1].([]any)
			r = parts[0]
		}
		out = append(out, r)
	}
	return out
}

// Each sweep runs on its schedule, with retries and a dead-letter queue;
// only sweeps have concurrency reserved (one at a time).
func TestSchedules(t *testing.T) {
	s := synth(t)
	tm := s.devJSON
	fns := tm.functionsByRole(t)
	rules := tm.of("AWS::Events::Rule")
	for _, def := range lambda.Functions() {
		fn := tm.Resources[fns[def.Name]]
		reserved, hasReserved := fn.Properties["ReservedConcurrentExecutions"]
		if def.Every == 0 {
			if hasReserved {
				t.Errorf("%s reserves concurrency %v", def.Name, reserved)
			}
			continue
		}
		if reserved != float64(1) {
			t.Errorf("%s: reserved concurrency %v, want 1", def.Name, reserved)
		}
		found := false
		for _, r := range rules {
			for _, target := range r.Properties["Targets"].([]any) {
				target := target.(map[string]any)
				if ref(target["Arn"]) != fns[def.Name] {
					continue
				}
				found = true
				if got := rate(r.Properties["ScheduleExpression"].(string)); got != def.Every {
					t.Errorf("%s: schedule %v, want every %v", def.Name, r.Properties["ScheduleExpression"], def.Every)
				}
				retry, _ := target["RetryPolicy"].(map[string]any)
				dlq, _ := target["DeadLetterConfig"].(map[string]any)
				if retry["MaximumRetryAttempts"] != float64(2) || tm.Resources[ref(dlq["Arn"])].Type != "AWS::SQS::Queue" {
					t.Errorf("%s: retry %v, dead letters %v", def.Name, retry, dlq)
				}
			}
		}
		if !found {
			t.Errorf("%s has no schedule", def.Name)
		}
	}
}

// The store's queues (the webhook deliveries to try): encrypted, TLS
// only, a message its consumer keeps failing moved to a dead-letter queue
// (alarmed on) at its fifth receive, hidden longer than the consumer runs;
// read by the one function of the catalog that consumes it, in batches
// with partial failures, outside any VPC (it calls the internet); sent to
// by exactly the functions whose SendsTo names it, which are told its URL
// and may send to it and do nothing else to it.
func TestQueues(t *testing.T) {
	s := synth(t)
	tm := s.devJSON
	fns := tm.functionsByRole(t)
	roleOf := map[string]string{} // role logical id: function
	for name, id := range fns {
		roleOf[ref(tm.Resources[id].Properties["Role"])] = name
	}
	mappings := tm.of("AWS::Lambda::EventSourceMapping")
	for _, qd := range queues {
		t.Run(qd.kind, func(t *testing.T) {
			var consumer lambda.Function
			for _, def := range lambda.Functions() {
				if def.Queue == qd.kind {
					consumer = def
				}
			}
			// The queue is the one its consumer's mapping reads.
			var queue string
			for id, m := range mappings {
				p := m.Properties
				q := ref(p["EventSourceArn"])
				if tm.Resources[q].Type != "AWS::SQS::Queue" {
					continue
				}
				if queue != "" || ref(p["FunctionName"]) != fns[consumer.Name] {
					t.Errorf("%s: a second mapping of a queue, or one to %v instead of %s", id, p["FunctionName"], consumer.Name)
				}
				queue = q
				sc, _ := p["ScalingConfig"].(map[string]any)
				if p["BatchSize"] != float64(queueBatch) || !slices.Equal(toStrings(p["FunctionResponseTypes"]), []string{"ReportBatchItemFailures"}) ||
					sc["MaximumConcurrency"] != float64(queueConcurrency) {
					t.Errorf("%s: %v", id, p)
				}
			}
			if queue == "" {
				t.Fatalf("no mapping reads the %s queue into %s", qd.kind, consumer.Name)
			}
			p := tm.Resources[queue].Properties
			redrive, _ := p["RedrivePolicy"].(map[string]any)
			dlq := ref(redrive["deadLetterTargetArn"])
			if p["SqsManagedSseEnabled"] != true || redrive["maxReceiveCount"] != float64(queueMaxReceives) ||
				tm.Resources[dlq].Type != "AWS::SQS::Queue" || p["DelaySeconds"] != nil {
				t.Errorf("the %s queue: %v", qd.kind, p)
			}
			if v, _ := p["VisibilityTimeout"].(float64); v <= consumer.Timeout.Seconds() {
				t.Errorf("the %s queue hides a message %v s, no longer than %s runs (%v)", qd.kind, v, consumer.Name, consumer.Timeout)
			}
			if fn := tm.Resources[fns[consumer.Name]].Properties; fn["VpcConfig"] != nil {
				t.Errorf("%s runs in a VPC (%v): it calls endpoints on the internet", consumer.Name, fn["VpcConfig"])
			}
			alarmed := false
			for _, a := range tm.of("AWS::CloudWatch::Alarm") {
				for _, d := range asMaps(a.Properties["Dimensions"]) {
					if d["Name"] == "QueueName" && ref(d["Value"]) == dlq && a.Properties["MetricName"] == "ApproximateNumberOfMessagesVisible" {
						alarmed = true
					}
				}
			}
			if !alarmed {
				t.Errorf("no alarm on the %s queue's dead letters", qd.kind)
			}
			tls := false
			for _, qp := range tm.of("AWS::SQS::QueuePolicy") {
				if qs := qp.Properties["Queues"].([]any); len(qs) == 1 && ref(qs[0]) == queue {
					for _, st := range asMaps(qp.Properties["PolicyDocument"].(map[string]any)["Statement"]) {
						cond, _ := st["Condition"].(map[string]any)
						if b, _ := cond["Bool"].(map[string]any); st["Effect"] == "Deny" && b["aws:SecureTransport"] == "false" {
							tls = true
						}
					}
				}
			}
			if !tls {
				t.Errorf("the %s queue takes requests without TLS", qd.kind)
			}

			// Who may do what to the queue, and who is told its URL.
			got := map[string][]string{} // function: actions on the queue
			for _, pol := range tm.of("AWS::IAM::Policy") {
				fn := roleOf[ref(pol.Properties["Roles"].([]any)[0])]
				for _, st := range asMaps(pol.Properties["PolicyDocument"].(map[string]any)["Statement"]) {
					rs, ok := st["Resource"].([]any)
					if !ok {
						rs = []any{st["Resource"]}
					}
					for _, r := range rs {
						if ref(r) == queue {
							got[fn] = append(got[fn], asList(st["Action"])...)
						}
					}
				}
			}
			for _, def := range lambda.Functions() {
				var want []string
				if slices.Contains(def.SendsTo, qd.kind) {
					want = append(want, "sqs:SendMessage")
				}
				if def.Queue == qd.kind {
					want = append(want, "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage")
				}
				slices.Sort(want)
				slices.Sort(got[def.Name])
				if diff := cmp.Diff(want, got[def.Name]); diff != "" {
					t.Errorf("%s's actions on the %s queue (-want +got):\n%s", def.Name, qd.kind, diff)
				}
				delete(got, def.Name)
				vars := tm.Resources[fns[def.Name]].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
				url, told := vars[qd.env]
				if told != slices.Contains(def.SendsTo, qd.kind) || (told && ref(url) != queue) {
					t.Errorf("%s is told %s = %v; it sends to %v", def.Name, qd.env, url, def.SendsTo)
				}
			}
			for who, actions := range got {
				t.Errorf("%q may %v on the %s queue, and is no function of the catalog", who, actions, qd.kind)
			}
		})
	}
}

func asMaps(v any) []map[string]any {
	var out []map[string]any
	l, _ := v.([]any)
	for _, x := range l {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// Alarms: every dead-letter queue, each saga's runs ended outside it and
// failing, purchases needing attention, API 5xx; all to the alarms topic.
func TestAlarms(t *testing.T) {
	s := synth(t)
	tm := s.devJSON
	var topic string
	for id := range tm.of("AWS::SNS::Topic") {
		topic = id
	}
	alarms := tm.of("AWS::CloudWatch::Alarm")
	byMetric := map[string]int{}
	for id, a := range alarms {
		if acts := a.Properties["AlarmActions"].([]any); len(acts) != 1 || ref(acts[0]) != topic {
			t.Errorf("%s: actions %v, want the topic %s", id, acts, topic)
		}
		if name, ok := a.Properties["MetricName"].(string); ok {
			byMetric[name]++
		} else {
			byMetric["expression"]++
		}
	}
	tasks := 0
	for _, def := range lambda.Functions() {
		if def.Task != "" {
			tasks++
		}
	}
	for metric, n := range map[string]int{
		// Every dead-letter queue: every queue but the store's own.
		"ApproximateNumberOfMessagesVisible": len(tm.of("AWS::SQS::Queue")) - len(queues),
		"5xx":                                1,
		"Invocations":                        1,          // MarkNeedsAttention: a purchase parked
		"ExecutionsFailed":                   len(sagas), // per saga: a return's failed run is one parked
		"expression":                         len(sagas), // per saga: timed out + aborted
		// Every function but the sagas' tasks, whose business errors
		// count as errors.
		"Errors": len(lambda.Functions()) - tasks,
	} {
		if byMetric[metric] != n {
			t.Errorf("%d alarms on %s, want %d", byMetric[metric], metric, n)
		}
	}
	s.prodT.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), map[string]any{"Protocol": "email", "Endpoint": "ops@example.com"})
}

// Cognito: no self sign-up, the three roles as groups, and the authorizer
// trusts the pool's app client.
func TestUserPool(t *testing.T) {
	s := synth(t)
	s.devT.HasResourceProperties(jsii.String("AWS::Cognito::UserPool"), map[string]any{
		"AdminCreateUserConfig": map[string]any{"AllowAdminCreateUserOnly": true},
		"Policies":              map[string]any{"PasswordPolicy": assertions.Match_ObjectLike(&map[string]any{"MinimumLength": 12})},
	})
	var groups []string
	for _, g := range s.devJSON.of("AWS::Cognito::UserPoolGroup") {
		groups = append(groups, g.Properties["GroupName"].(string))
	}
	sort.Strings(groups)
	if !slices.Equal(groups, []string{"admin", "customer", "marketer"}) {
		t.Errorf("groups %v", groups)
	}
	var client string
	for id := range s.devJSON.of("AWS::Cognito::UserPoolClient") {
		client = id
	}
	for _, a := range s.devJSON.of("AWS::ApiGatewayV2::Authorizer") {
		jwt := a.Properties["JwtConfiguration"].(map[string]any)
		if aud := jwt["Audience"].([]any); len(aud) != 1 || ref(aud[0]) != client {
			t.Errorf("authorizer audience %v, want the app client %s", aud, client)
		}
	}
	// The functions that read people may read them, and only them.
	var poolID string
	for id := range s.devJSON.of("AWS::Cognito::UserPool") {
		poolID = id
	}
	roles := map[string]string{}
	for role, id := range s.devJSON.functionsByRole(t) {
		roles[ref(s.devJSON.Resources[id].Properties["Role"])] = role
	}
	readers := map[string]bool{}
	for _, p := range s.devJSON.of("AWS::IAM::Policy") {
		fn := roles[ref(p.Properties["Roles"].([]any)[0])]
		for _, st := range p.Properties["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := st.(map[string]any)
			actions := asList(st["Action"])
			if !strings.HasPrefix(actions[0], "cognito-idp:") {
				continue
			}
			g, _ := st["Resource"].(map[string]any)["Fn::GetAtt"].([]any)
			if !slices.Equal(actions, cognito.Actions) || len(g) != 2 || g[0] != poolID {
				t.Errorf("%s: %v on %v, want %v on the pool", fn, actions, st["Resource"], cognito.Actions)
			}
			readers[fn] = true
		}
	}
	for _, def := range lambda.Functions() {
		if readers[def.Name] != def.People {
			t.Errorf("%s reads the pool's people: %v, want %v", def.Name, readers[def.Name], def.People)
		}
	}

	// The API function accepts the same tokens.
	fn := s.devJSON.Resources[s.devJSON.functionsByRole(t)["api"]]
	vars := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	if ref(vars["UNICORN_OIDC_AUDIENCE"]) != client || vars["UNICORN_OIDC_ISSUER"] == nil {
		t.Errorf("the api function's OIDC settings: %v %v", vars["UNICORN_OIDC_ISSUER"], vars["UNICORN_OIDC_AUDIENCE"])
	}
}

// The web app comes from a private bucket through CloudFront, and every
// API route reaches the API on the same origin.
func TestWebAndAPIOnOneOrigin(t *testing.T) {
	s := synth(t)
	dists := s.devJSON.of("AWS::CloudFront::Distribution")
	if len(dists) != 1 {
		t.Fatalf("%d distributions", len(dists))
	}
	var cfg map[string]any
	for _, d := range dists {
		cfg = d.Properties["DistributionConfig"].(map[string]any)
	}
	var patterns []*regexp.Regexp
	behaviors := cfg["CacheBehaviors"].([]any)
	if len(behaviors) >= 25 {
		t.Errorf("%d cache behaviors: CloudFront allows 25", len(behaviors))
	}
	for _, b := range behaviors {
		p := b.(map[string]any)["PathPattern"].(string)
		patterns = append(patterns, regexp.MustCompile("^"+strings.ReplaceAll(regexp.QuoteMeta(p), `\*`, ".*")+"$"))
	}
	entries, _ := os.ReadDir("../webapp/dist")
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
	}
	for _, rt := range httpapi.RouteTable() {
		_, path := routeKey(rt.Pattern)
		example := strings.NewReplacer("{proxy+}", "x/y", "{id}", "o1", "{name}", "c1", "{username}", "u", "{first}", "u", "{second}", "wallet").Replace(path)
		first, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		toAPI := slices.ContainsFunc(patterns, func(re *regexp.Regexp) bool { return re.MatchString(example) })
		if web := path == "/" || slices.Contains(files, first); toAPI == web {
			t.Errorf("%s (%s): to the API %v, but the web app serves it: %v", rt.Pattern, example, toAPI, web)
		}
	}
	origins := cfg["Origins"].([]any)
	if len(origins) != 2 {
		t.Errorf("%d origins, want the bucket and the API", len(origins))
	}
	if ids := s.devJSON.of("AWS::CloudFront::OriginAccessControl"); len(ids) != 1 {
		t.Errorf("%d origin access controls, want 1", len(ids))
	}
	// The pages' headers are the server's, with the region's Cognito.
	s.devT.HasResourceProperties(jsii.String("AWS::CloudFront::ResponseHeadersPolicy"), map[string]any{
		"ResponseHeadersPolicyConfig": assertions.Match_ObjectLike(&map[string]any{
			"SecurityHeadersConfig": assertions.Match_ObjectLike(&map[string]any{
				"ContentSecurityPolicy": map[string]any{"Override": true, "ContentSecurityPolicy": map[string]any{"Fn::Join": []any{"", []any{
					strings.Split(httpapi.ContentSecurityPolicy(&httpapi.Cognito{Region: "REGION"}), "REGION")[0],
					map[string]any{"Ref": "AWS::Region"},
					strings.Split(httpapi.ContentSecurityPolicy(&httpapi.Cognito{Region: "REGION"}), "REGION")[1],
				}}}},
			}),
		}),
	})
	s.devT.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
		"PublicAccessBlockConfiguration": map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true,
			"IgnorePublicAcls": true, "RestrictPublicBuckets": true},
		"LoggingConfiguration": assertions.Match_AnyValue(),
	})
}

// The functions' environment is the one configuration table's settings
// (README), besides the role.
func TestFunctionEnvironmentIsTheConfigTable(t *testing.T) {
	s := synth(t)
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range s.devJSON.functionsByRole(t) {
		vars := s.devJSON.Resources[id].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
		for name := range vars {
			if name != "UNICORN_FUNCTION" && !strings.Contains(string(readme), "`"+name+"`") {
				t.Errorf("%s sets %s, which the README's configuration table does not list", id, name)
			}
		}
	}
}

// The functions are the catalog's: provided.al2023 on arm64, traced, each
// with its own role and log group.
func TestFunctionsAreTheCatalog(t *testing.T) {
	s := synth(t)
	fns := s.devJSON.functionsByRole(t)
	if len(fns) != len(lambda.Functions()) {
		t.Errorf("%d functions with a role, want %d", len(fns), len(lambda.Functions()))
	}
	roles := map[string]bool{}
	for _, def := range lambda.Functions() {
		fn, ok := s.devJSON.Resources[fns[def.Name]]
		if !ok {
			t.Errorf("%s is not deployed", def.Name)
			continue
		}
		p := fn.Properties
		logs, _ := p["LoggingConfig"].(map[string]any)
		if p["Runtime"] != "provided.al2023" || !slices.Equal(toStrings(p["Architectures"]), []string{"arm64"}) ||
			p["Handler"] != "bootstrap" || p["Timeout"] != def.Timeout.Seconds() || ref(logs["LogGroup"]) == "" ||
			p["TracingConfig"].(map[string]any)["Mode"] != "Active" {
			t.Errorf("%s: %v", def.Name, p)
		}
		role := ref(p["Role"])
		if roles[role] {
			t.Errorf("%s shares its role", def.Name)
		}
		roles[role] = true
	}
	for _, g := range s.devJSON.of("AWS::Logs::LogGroup") {
		if g.Properties["RetentionInDays"] != float64(30) {
			t.Errorf("a log group keeps logs %v days, want 30", g.Properties["RetentionInDays"])
		}
	}
}

type (
	ddbTable = ddb.CreateTableInput
	keyElem  = types.KeySchemaElement
)
