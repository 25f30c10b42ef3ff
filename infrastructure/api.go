package main

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/unicornstore/unicorn/adapters/cognito"
	"github.com/unicornstore/unicorn/adapters/httpapi"
	"github.com/unicornstore/unicorn/ports"
)

// newUserPool is the store's users in the cloud: an administrator creates
// them and puts each in one group, its role (customer, marketer, admin),
// which the API reads from the token (cognito:groups).
func (s *store) newUserPool() (awscognito.UserPool, awscognito.UserPoolClient) {
	pool := awscognito.NewUserPool(s.stack, jsii.String("Users"), &awscognito.UserPoolProps{
		UserPoolName:      jsii.String("unicorn-" + s.props.Stage),
		SelfSignUpEnabled: jsii.Bool(false),
		SignInAliases:     &awscognito.SignInAliases{Username: jsii.Bool(true), Email: jsii.Bool(true)},
		// Usernames are unique regardless of case, as on one machine.
		SignInCaseSensitive: jsii.Bool(false),
		PasswordPolicy: &awscognito.PasswordPolicy{MinLength: jsii.Number(12), RequireDigits: jsii.Bool(true),
			RequireLowercase: jsii.Bool(true), RequireUppercase: jsii.Bool(true), RequireSymbols: jsii.Bool(true)},
		Mfa:             awscognito.Mfa_OPTIONAL,
		MfaSecondFactor: &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)},
		AccountRecovery: awscognito.AccountRecovery_EMAIL_ONLY,
		// The client a marketer or admin works for (custom:client);
		// customers belong to the store's.
		CustomAttributes: &map[string]awscognito.ICustomAttribute{
			"client": awscognito.NewStringAttribute(&awscognito.StringAttributeProps{Mutable: jsii.Bool(true), MaxLen: jsii.Number(64)}),
		},
		DeletionProtection: jsii.Bool(s.props.Production),
		RemovalPolicy:      s.removal,
	})
	for _, role := range ports.Roles {
		awscognito.NewCfnUserPoolGroup(s.stack, jsii.String("Group"+constructID(role)), &awscognito.CfnUserPoolGroupProps{
			UserPoolId: pool.UserPoolId(), GroupName: jsii.String(role),
			Description: jsii.String("the store's " + role + "s"),
		})
	}
	client := pool.AddClient(jsii.String("WebApp"), &awscognito.UserPoolClientOptions{
		AuthFlows:                  &awscognito.AuthFlow{UserSrp: jsii.Bool(true), UserPassword: jsii.Bool(true)},
		GenerateSecret:             jsii.Bool(false),
		PreventUserExistenceErrors: jsii.Bool(true),
		AccessTokenValidity:        awscdk.Duration_Minutes(jsii.Number(15)),
		IdTokenValidity:            awscdk.Duration_Minutes(jsii.Number(15)),
		RefreshTokenValidity:       awscdk.Duration_Days(jsii.Number(30)),
		EnableTokenRevocation:      jsii.Bool(true),
	})
	return pool, client
}

// routeKey is a route of the local table as an HTTP API route: the same
// method and path, "{$}" (exactly "/") dropped, and a path ending in "/"
// (a subtree) as a greedy parameter.
func routeKey(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.TrimSuffix(path, "{$}")
	if strings.HasSuffix(path, "/") && path != "/" {
		path += "{proxy+}"
	}
	return method, path
}

// newAPI is the HTTP API: every route of the local route table, to the
// api function. Routes that only signed-in people may call carry the
// Cognito JWT authorizer, so a bad token costs no invocation; routes
// open to anyone or to partner systems' API keys (which the function
// checks) carry none. The function checks every request as on one
// machine either way.
func (s *store) newAPI(pool awscognito.UserPool, client awscognito.UserPoolClient, alarms *alarms) (api awsapigatewayv2.HttpApi, open map[awsapigatewayv2.HttpRoute]bool) {
	for name, def := range s.catalog {
		if def.People {
			s.roles[name].AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings(cognito.Actions...),
				Resources: jsii.Strings(*pool.UserPoolArn()),
			}))
		}
	}
	fn := s.functions["api"]
	fn.AddEnvironment(jsii.String("UNICORN_OIDC_ISSUER"), pool.UserPoolProviderUrl(), nil)
	fn.AddEnvironment(jsii.String("UNICORN_OIDC_AUDIENCE"), client.UserPoolClientId(), nil)

	props := &awsapigatewayv2.HttpApiProps{
		ApiName:            jsii.String("unicorn-" + s.props.Stage),
		CreateDefaultStage: jsii.Bool(false),
	}
	if len(s.props.CORSOrigins) > 0 {
		var methods []awsapigatewayv2.CorsHttpMethod
		for _, m := range httpapi.CORS.Methods {
			methods = append(methods, awsapigatewayv2.CorsHttpMethod(m))
		}
		// The server's own policy: API Gateway answers preflights itself.
		props.CorsPreflight = &awsapigatewayv2.CorsPreflightOptions{
			AllowOrigins:  jsii.Strings(s.props.CORSOrigins...),
			AllowMethods:  &methods,
			AllowHeaders:  jsii.Strings(httpapi.CORS.AllowHeaders...),
			ExposeHeaders: jsii.Strings(httpapi.CORS.ExposeHeaders...),
			MaxAge:        seconds(httpapi.CORS.MaxAge),
		}
	}
	api = awsapigatewayv2.NewHttpApi(s.stack, jsii.String("HttpApi"), props)

	logs := awslogs.NewLogGroup(s.stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{Retention: logRetention, RemovalPolicy: s.removal})
	stage := awsapigatewayv2.NewHttpStage(s.stack, jsii.String("ApiStage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    api,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle:   &awsapigatewayv2.ThrottleSettings{RateLimit: jsii.Number(s.props.RateLimit), BurstLimit: jsii.Number(s.props.BurstLimit)},
	})
	stage.Node().DefaultChild().(awsapigatewayv2.CfnStage).SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: logs.LogGroupArn(),
		Format: jsii.String(`{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","time":"$context.requestTime",` +
			`"method":"$context.httpMethod","route":"$context.routeKey","status":"$context.status","latency":"$context.responseLatency",` +
			`"error":"$context.error.message","authorizerError":"$context.authorizer.error"}`),
	})

	authorizer := awsapigatewayv2authorizers.NewHttpUserPoolAuthorizer(jsii.String("Cognito"), pool,
		&awsapigatewayv2authorizers.HttpUserPoolAuthorizerProps{UserPoolClients: &[]awscognito.IUserPoolClient{client}})
	integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("ApiFunction"), fn,
		// One permission for the whole API rather than one per route.
		&awsapigatewayv2integrations.HttpLambdaIntegrationProps{ScopePermissionToRoute: jsii.Bool(false)})
	open = map[awsapigatewayv2.HttpRoute]bool{}
	for _, rt := range httpapi.RouteTable() {
		method, path := routeKey(rt.Pattern)
		opts := &awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(method)},
			Integration: integration,
		}
		if !rt.Anonymous && !rt.APIKeys {
			opts.Authorizer = authorizer
		}
		routes := api.AddRoutes(opts)
		if opts.Authorizer == nil {
			for _, r := range *routes {
				open[r] = rt.Anonymous
			}
		}
	}
	alarms.api(api)
	return api, open
}
