package compose

import (
	"context"
	"fmt"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/unicornstore/unicorn/adapters/cognito"
	"github.com/unicornstore/unicorn/adapters/jwtauth"
	"github.com/unicornstore/unicorn/ports"
)

// CognitoPeople are the people of the Cognito user pool whose tokens the
// store accepts (-oidc-issuer names one), or nil when people are the
// store's own users. Where people sign in at Cognito, it is also where
// the store learns who they are: whether a wallet's owner is a customer,
// who the users of a client are.
func CognitoPeople(ctx context.Context, c Config) (ports.People, error) {
	region, pool, ok := jwtauth.CognitoPool(c.OIDCIssuer)
	if !ok {
		return nil, nil
	}
	// The AWS SDK's own configuration: credentials from the function's
	// role, and AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER where an
	// emulator stands in.
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
	if err != nil {
		return nil, fmt.Errorf("AWS configuration for Cognito: %w", err)
	}
	return cognito.NewDirectory(cip.NewFromConfig(cfg), pool, c.StoreClient)
}
