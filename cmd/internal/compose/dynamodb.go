package compose

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"

	"github.com/unicornstore/unicorn/adapters/dynamodb"
)

// AWSConfig is the SDK's configuration, found the default way: the
// environment, the shared files, a Lambda function's role. Pointed at
// DynamoDB Local (an endpoint on this machine) with nothing configured,
// it takes a region and placeholder keys, which DynamoDB Local accepts;
// another endpoint (a VPC endpoint of DynamoDB) keeps the default chain.
func AWSConfig(ctx context.Context, c Config) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if onThisMachine(c.DynamoDBEndpoint) {
		if os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
			opts = append(opts, awsconfig.WithRegion("us-east-1"))
		}
		if os.Getenv("AWS_ACCESS_KEY_ID") == "" && os.Getenv("AWS_PROFILE") == "" {
			opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
		}
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return cfg, errors.New("DynamoDB needs a region: set AWS_REGION (or -dynamodb-endpoint for DynamoDB Local)")
	}
	return cfg, nil
}

// onThisMachine reports whether an endpoint is on this machine: DynamoDB
// Local, which also serves the streams API.
func onThisMachine(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil || endpoint == "" {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// OpenDynamoDB is the store over c's tables, created first when c asks,
// and the AWS configuration it was opened with (for other clients).
func OpenDynamoDB(ctx context.Context, c Config) (*dynamodb.Store, aws.Config, error) {
	cfg, err := AWSConfig(ctx, c)
	if err != nil {
		return nil, cfg, err
	}
	client := ddb.NewFromConfig(cfg, func(o *ddb.Options) {
		if c.DynamoDBEndpoint != "" {
			o.BaseEndpoint = aws.String(c.DynamoDBEndpoint)
		}
	})
	s, err := dynamodb.New(client, dynamodb.TablesNamed(c.TablePrefix))
	if err != nil {
		return nil, cfg, err
	}
	if c.CreateTables {
		if err := s.CreateTables(ctx); err != nil {
			return nil, cfg, err
		}
	}
	return s, cfg, nil
}

// DynamoStores are the ports of the DynamoDB tables.
func DynamoStores(s *dynamodb.Store) Stores {
	return Stores{Ledger: s.Ledger(), Snapshots: s.Snapshots(), Balances: s.Balances(), Campaigns: s.Campaigns(),
		Catalog: s.Catalog(), Stock: s.Stock(), Wallets: s.Wallets(), Orders: s.Orders(), Publisher: s.Publisher(),
		ProductSearch: s.ProductSearch(), SalesTallies: s.SalesTallies(), Webhooks: s.Webhooks(), Users: s.Users(), APIKeys: s.APIKeys(),
		Sessions: s.Sessions(), Throttle: s.Throttle(), Secrets: s.Secrets(), Ping: s.Ping}
}

// OpenDynamoDBStreams is the client of the tables' change streams, at
// DynamoDB's endpoint (DynamoDB Local serves both).
func OpenDynamoDBStreams(c Config, cfg aws.Config) *dynamodbstreams.Client {
	return dynamodbstreams.NewFromConfig(cfg, func(o *dynamodbstreams.Options) {
		// DynamoDB Local serves both APIs; on AWS the streams API has
		// endpoints of its own, which the SDK finds.
		if onThisMachine(c.DynamoDBEndpoint) {
			o.BaseEndpoint = aws.String(c.DynamoDBEndpoint)
		}
	})
}
