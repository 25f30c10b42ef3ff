package main

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// cdk-nag's AwsSolutions rules run on the whole app (main.go). What the
// store cannot or should not do differently is suppressed here, on the
// construct it concerns, with the reason.

func suppress(c constructs.IConstruct, id, reason string, appliesTo ...string) {
	s := &cdknag.NagPackSuppression{Id: jsii.String(id), Reason: jsii.String(reason)}
	if len(appliesTo) > 0 {
		a := make([]any, len(appliesTo))
		for i, v := range appliesTo {
			a[i] = v
		}
		s.AppliesTo = &a
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &[]*cdknag.NagPackSuppression{s}, jsii.Bool(true))
}

// Reasons shared by several constructs.
const (
	noResourceLevel = "X-Ray's PutTraceSegments and PutTelemetryRecords, and DynamoDB's ListStreams, take no resource: " +
		"AWS documents \"*\" as their only resource; every table action names its tables"
	executionsByOrder = "executions are named by order id (and return) when a saga starts: the statement names this state " +
		"machine's executions, and DescribeExecution only"
)

// openRouteReason is why a route has no JWT authorizer.
func openRouteReason(anonymous bool) string {
	if anonymous {
		return "a public route (sign-in, the catalog, health, the web app's files): anyone may call it, the function decides"
	}
	return "partner systems call it with an X-Api-Key, which a JWT authorizer would refuse; the function verifies the key " +
		"or the token on every request (adapters/httpapi access rules)"
}

func (s *store) suppressNag(openRoutes map[awsapigatewayv2.HttpRoute]bool) {
	for route, anonymous := range openRoutes {
		suppress(route, "AwsSolutions-APIG4", openRouteReason(anonymous))
	}
	for name, role := range s.roles {
		suppress(role, "AwsSolutions-IAM5", noResourceLevel, "Resource::*")
		if fn, ok := s.catalog[name]; ok && fn.StartsSagas {
			for _, sg := range sagas {
				suppress(role, "AwsSolutions-IAM5", executionsByOrder,
					"Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"+s.machineName(sg)+":*")
			}
		}
	}
	for _, m := range s.machines {
		suppress(m.Role(), "AwsSolutions-IAM5",
			"Step Functions' log delivery (logs:CreateLogDelivery, ...) and X-Ray actions take no resource: \"*\" is their only resource", "Resource::*")
	}
	for _, q := range s.deadLetterQueues {
		suppress(q, "AwsSolutions-SQS3", "it is a dead-letter queue")
	}
	suppress(s.userPool, "AwsSolutions-COG8",
		"the Plus plan's threat protection is billed per active user, a choice for the store's owner; passwords need 12 "+
			"characters of every class, TOTP MFA is offered, and there is no self sign-up")
	suppress(s.userPool, "AwsSolutions-COG2",
		"customers of a shop are not made to carry a second factor: TOTP MFA is offered to every user, the "+
			"web app asks for the code once enrolled, and the README asks staff (marketer, admin) to enrol")
	suppress(s.distribution, "AwsSolutions-CFR1", "an online store sells wherever its owner ships; a geo restriction is "+
		"a business choice, not a default")
	suppress(s.distribution, "AwsSolutions-CFR2", "the API throttles at its stage and every write is idempotent and "+
		"limited in size at the edge (limits); a WAF web ACL is a running cost the owner can attach")
	suppress(s.distribution, "AwsSolutions-CFR4",
		"CloudFront's default *.cloudfront.net certificate admits TLSv1; with a custom domain and an ACM certificate the "+
			"distribution's minimum protocol is a deployment's choice (README, Deploy to AWS)")
	// CDK's own custom resource that copies the web app into its bucket:
	// it runs only while deploying.
	for _, c := range *s.stack.Node().Children() {
		if strings.HasPrefix(*c.Node().Id(), "Custom::CDKBucketDeployment") {
			const why = "CDK's BucketDeployment custom resource, run only during a deployment: its runtime, its managed " +
				"logging policy and its access to CDK's asset bucket and the web app's bucket are CDK's own"
			suppress(c, "AwsSolutions-L1", why)
			suppress(c, "AwsSolutions-IAM4", why)
			suppress(c, "AwsSolutions-IAM5", why)
		}
	}
}
