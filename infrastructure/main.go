// Command infrastructure is the Unicorn Store on AWS as a CDK app: `make
// synth` writes its CloudFormation templates into cdk.out with no AWS
// credentials, `make deploy` deploys them (README, "Deploy to AWS").
//
// The stage and its choices come from CDK context (-c key=value, or
// cdk.json): stage, production, storeClient, corsOrigins (comma-separated),
// alarmEmail, reserveConcurrency, rateLimit, burstLimit.
package main

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(envOr("CDK_OUTDIR", "cdk.out"))})
	props, err := propsFromContext(app)
	if err != nil {
		fmt.Fprintln(os.Stderr, "infrastructure:", err)
		os.Exit(2)
	}
	props.Bootstrap = envOr("UNICORN_BOOTSTRAP_ZIP", "../bin/lambda/bootstrap.zip")
	props.WebApp = envOr("UNICORN_WEBAPP_DIST", "../webapp/dist")
	if _, err := os.Stat(props.Bootstrap); err != nil {
		fmt.Fprintln(os.Stderr, "infrastructure: the functions' zip is missing (make lambdas):", err)
		os.Exit(2)
	}
	stack := NewStoreStack(app, "UnicornStore-"+props.Stage, props)
	checkWithNag(app)
	assembly := app.Synth(nil)
	if errs := errorsOf(assembly.GetStackArtifact(stack.ArtifactId())); len(errs) > 0 {
		fmt.Fprintln(os.Stderr, "infrastructure: the stack has errors:\n  "+strings.Join(errs, "\n  "))
		os.Exit(1)
	}
	fmt.Println("templates written to", *assembly.Directory())
}

// checkWithNag runs cdk-nag's AwsSolutions rules on everything: a finding
// is an error on its construct, unless the construct suppresses it with
// a reason (nag.go).
func checkWithNag(app awscdk.App) {
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

// errorsOf are a synthesized stack's error messages (cdk-nag's findings
// among them).
func errorsOf(stack cxapi.CloudFormationStackArtifact) []string {
	var out []string
	for _, m := range *stack.Messages() {
		if m.Level == cxapi.SynthesisMessageLevel_ERROR {
			out = append(out, fmt.Sprintf("%s: %v", *m.Id, m.Entry.Data))
		}
	}
	return out
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// propsFromContext reads the deployment's choices.
func propsFromContext(app awscdk.App) (StoreProps, error) {
	get := func(key, def string) string {
		if v, ok := app.Node().TryGetContext(jsii.String(key)).(string); ok && v != "" {
			return v
		}
		return def
	}
	p := StoreProps{
		Stage:       get("stage", "dev"),
		StoreClient: get("storeClient", "UnicornStore"),
		AlarmEmail:  get("alarmEmail", ""),
		StackProps: awscdk.StackProps{Env: &awscdk.Environment{
			Account: jsii.String(os.Getenv("CDK_DEFAULT_ACCOUNT")), Region: jsii.String(os.Getenv("CDK_DEFAULT_REGION"))}},
	}
	if p.StackProps.Env.Account == nil || *p.StackProps.Env.Account == "" {
		p.StackProps.Env = nil // environment-agnostic: synth needs no account
	}
	for _, o := range strings.Split(get("corsOrigins", ""), ",") {
		if o = strings.TrimSpace(o); o != "" {
			if !strings.HasPrefix(o, "https://") && !strings.HasPrefix(o, "http://localhost") {
				return p, fmt.Errorf("corsOrigins: %q is not an https origin", o)
			}
			p.CORSOrigins = append(p.CORSOrigins, o)
		}
	}
	var err error
	bools := map[string]*bool{"production": &p.Production, "reserveConcurrency": &p.ReserveConcurrency}
	defaults := map[string]string{"production": "false", "reserveConcurrency": "true"}
	for key, dst := range bools {
		if *dst, err = strconv.ParseBool(get(key, defaults[key])); err != nil {
			return p, fmt.Errorf("%s: %w", key, err)
		}
	}
	if p.RateLimit, err = strconv.ParseFloat(get("rateLimit", "200"), 64); err != nil || p.RateLimit <= 0 {
		return p, fmt.Errorf("rateLimit: requests per second, more than 0")
	}
	if p.BurstLimit, err = strconv.ParseFloat(get("burstLimit", "400"), 64); err != nil || p.BurstLimit < 1 {
		return p, fmt.Errorf("burstLimit: requests, at least 1")
	}
	if !stageName.MatchString(p.Stage) {
		return p, fmt.Errorf("stage %q: lower-case letters and digits, up to 12", p.Stage)
	}
	return p, nil
}

var stageName = regexp.MustCompile(`^[a-z][a-z0-9]{0,11}$`)
