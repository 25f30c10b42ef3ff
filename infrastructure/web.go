package main

import (
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/jsii-runtime-go"

	"github.com/unicornstore/unicorn/adapters/httpapi"
)

// newWeb serves the built web app from a private bucket through
// CloudFront, and the API on the same origin: the paths of the route
// table go to the HTTP API, everything else to the bucket. One origin
// means the web app calls the API as it does on one machine (relative
// paths, no CORS).
func (s *store) newWeb(api awsapigatewayv2.HttpApi) awscloudfront.Distribution {
	logs := awss3.NewBucket(s.stack, jsii.String("AccessLogs"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		// CloudFront's standard logs are written with an ACL.
		ObjectOwnership:   awss3.ObjectOwnership_OBJECT_WRITER,
		LifecycleRules:    &[]*awss3.LifecycleRule{{Expiration: awscdk.Duration_Days(jsii.Number(90))}},
		RemovalPolicy:     s.removal,
		AutoDeleteObjects: jsii.Bool(!s.props.Production),
	})
	bucket := awss3.NewBucket(s.stack, jsii.String("WebApp"), &awss3.BucketProps{
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:             awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:             jsii.Bool(true),
		ServerAccessLogsBucket: logs,
		ServerAccessLogsPrefix: jsii.String("webapp-bucket/"),
		RemovalPolicy:          s.removal,
		AutoDeleteObjects:      jsii.Bool(!s.props.Production),
	})

	apiOrigin := awscloudfrontorigins.NewHttpOrigin(
		jsii.String(*api.ApiId()+".execute-api."+*s.stack.Region()+"."+*s.stack.UrlSuffix()),
		&awscloudfrontorigins.HttpOriginProps{ProtocolPolicy: awscloudfront.OriginProtocolPolicy_HTTPS_ONLY})
	// Nothing of the API is cached at the edge; the Authorization and
	// X-Api-Key headers reach the API only through a cache policy, so
	// they are in its key, with a time to live of at most a second.
	noCache := awscloudfront.NewCachePolicy(s.stack, jsii.String("ApiCachePolicy"), &awscloudfront.CachePolicyProps{
		Comment:             jsii.String("the API: credentials forwarded, nothing kept"),
		DefaultTtl:          awscdk.Duration_Seconds(jsii.Number(0)),
		MinTtl:              awscdk.Duration_Seconds(jsii.Number(0)),
		MaxTtl:              awscdk.Duration_Seconds(jsii.Number(1)),
		HeaderBehavior:      awscloudfront.CacheHeaderBehavior_AllowList(jsii.String("Authorization"), jsii.String("X-Api-Key")),
		QueryStringBehavior: awscloudfront.CacheQueryStringBehavior_All(),
		CookieBehavior:      awscloudfront.CacheCookieBehavior_None(),
	})
	toAPI := &awscloudfront.BehaviorOptions{
		Origin:               apiOrigin,
		AllowedMethods:       awscloudfront.AllowedMethods_ALLOW_ALL(),
		CachePolicy:          noCache,
		OriginRequestPolicy:  awscloudfront.OriginRequestPolicy_ALL_VIEWER_EXCEPT_HOST_HEADER(),
		ViewerProtocolPolicy: awscloudfront.ViewerProtocolPolicy_HTTPS_ONLY,
	}
	// The web app's pages get the headers the one-machine server sends
	// with them, the same Content-Security-Policy among them (pages may
	// call the store and the region's Cognito, nothing else).
	csp := httpapi.ContentSecurityPolicy(&httpapi.Cognito{Region: *s.stack.Region()})
	headers := awscloudfront.NewResponseHeadersPolicy(s.stack, jsii.String("WebAppHeaders"), &awscloudfront.ResponseHeadersPolicyProps{
		Comment: jsii.String("the web app's security headers"),
		SecurityHeadersBehavior: &awscloudfront.ResponseSecurityHeadersBehavior{
			ContentSecurityPolicy: &awscloudfront.ResponseHeadersContentSecurityPolicy{ContentSecurityPolicy: jsii.String(csp), Override: jsii.Bool(true)},
			ContentTypeOptions:    &awscloudfront.ResponseHeadersContentTypeOptions{Override: jsii.Bool(true)},
			FrameOptions:          &awscloudfront.ResponseHeadersFrameOptions{FrameOption: awscloudfront.HeadersFrameOption_DENY, Override: jsii.Bool(true)},
			ReferrerPolicy:        &awscloudfront.ResponseHeadersReferrerPolicy{ReferrerPolicy: awscloudfront.HeadersReferrerPolicy_NO_REFERRER, Override: jsii.Bool(true)},
			StrictTransportSecurity: &awscloudfront.ResponseHeadersStrictTransportSecurity{
				AccessControlMaxAge: awscdk.Duration_Days(jsii.Number(365)), IncludeSubdomains: jsii.Bool(true), Override: jsii.Bool(true)},
		},
	})
	behaviors := map[string]*awscloudfront.BehaviorOptions{}
	for _, p := range apiPaths(s.webAppEntries()) {
		behaviors[p] = toAPI
	}
	dist := awscloudfront.NewDistribution(s.stack, jsii.String("Web"), &awscloudfront.DistributionProps{
		Comment:           jsii.String("Unicorn Store " + s.props.Stage),
		DefaultRootObject: jsii.String("index.html"),
		DefaultBehavior: &awscloudfront.BehaviorOptions{
			Origin:                awscloudfrontorigins.S3BucketOrigin_WithOriginAccessControl(bucket, nil),
			ViewerProtocolPolicy:  awscloudfront.ViewerProtocolPolicy_REDIRECT_TO_HTTPS,
			CachePolicy:           awscloudfront.CachePolicy_CACHING_OPTIMIZED(),
			ResponseHeadersPolicy: headers,
		},
		AdditionalBehaviors: &behaviors,
		HttpVersion:         awscloudfront.HttpVersion_HTTP2_AND_3,
		EnableLogging:       jsii.Bool(true),
		LogBucket:           logs,
		LogFilePrefix:       jsii.String("cloudfront/"),
	})

	// Hashed assets never change; index.html is checked on every load so
	// a new deployment shows at once. Each deployment leaves the other's
	// files alone (prune skips what it excludes). The build's precompressed
	// copies (.br, .gz) are for unicorn serve: CloudFront compresses itself.
	source := []awss3deployment.ISource{awss3deployment.Source_Asset(jsii.String(s.props.WebApp), nil)}
	awss3deployment.NewBucketDeployment(s.stack, jsii.String("WebAppAssets"), &awss3deployment.BucketDeploymentProps{
		DestinationBucket: bucket, Sources: &source, Exclude: jsii.Strings("index.html", "*.br", "*.gz"),
		CacheControl: &[]awss3deployment.CacheControl{awss3deployment.CacheControl_FromString(jsii.String("public, max-age=31536000, immutable"))},
	})
	awss3deployment.NewBucketDeployment(s.stack, jsii.String("WebAppIndex"), &awss3deployment.BucketDeploymentProps{
		DestinationBucket: bucket, Sources: &source, Exclude: jsii.Strings("*"), Include: jsii.Strings("index.html"),
		CacheControl: &[]awss3deployment.CacheControl{awss3deployment.CacheControl_FromString(jsii.String("no-cache"))},
	})
	return dist
}

// webAppEntries are the names at the top of the built web app.
func (s *store) webAppEntries() []string {
	entries, err := os.ReadDir(s.props.WebApp)
	mustf(err == nil, "the built web app: %v (make webapp)", err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	mustf(slices.Contains(names, "index.html"), "%s holds no index.html: make webapp", s.props.WebApp)
	return names
}

// apiPaths are CloudFront path patterns that send every route of the
// route table to the API, except those serving the web app's own files
// (its top-level entries, and "/"), which the bucket serves. "/points*"
// covers /points, /points/transactions and /points-ceiling.
func apiPaths(webApp []string) []string {
	var firsts []string
	for _, rt := range httpapi.RouteTable() {
		_, path := routeKey(rt.Pattern)
		first, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
		if first == "" || slices.Contains(webApp, first) || slices.Contains(firsts, first) {
			continue
		}
		firsts = append(firsts, first)
	}
	var out []string
	for _, f := range firsts {
		if !slices.ContainsFunc(firsts, func(g string) bool { return g != f && strings.HasPrefix(f, g) }) {
			out = append(out, "/"+f+"*")
		}
	}
	slices.Sort(out)
	return out
}
